"""How long the reader takes to open a large message: from Enter on its row to the frame that
shows its body, at 80x24, on the app over the in-memory facade of the UI tests (no server, no
cache: what is left is the reader's own work: laying the body out, wrapping it, painting).

Most of it is the TextArea wrapping the whole body: once as the text is loaded, again when the
scrollbar appears, and once more on the resize that follows.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta

from mailbag.domain.events import EventSink
from mailbag.domain.models import Folder, FolderRole
from mailbag.ui.widgets.reader import Reader
from bench.inprocess import SIZE, RecordingApp, RecordingDriver
from tests.ui.fake_facade import NOW, FakeFacade


def _facade(bodies: dict[str, str]) -> Callable[[EventSink], FakeFacade]:
    def build(sink: EventSink) -> FakeFacade:
        facade = FakeFacade(sink)
        facade.add_folder(Folder("work", "INBOX", "/", FolderRole.INBOX, total=len(bodies) + 1, unread=0))
        for row_id, (subject, body) in enumerate(bodies.items(), start=2):
            facade.add_message("work", "INBOX", row_id=row_id, subject=subject, date=NOW, body=body)
        facade.add_message("work", "INBOX", row_id=1, subject="short", date=NOW - timedelta(days=1), body="Hi\n")
        return facade

    return build


async def _open_times(bodies: dict[str, str], runs: int) -> dict[str, list[float]]:
    app = RecordingApp(_facade(bodies), now=lambda: NOW)
    shown: list[float] = []
    original = Reader.show_message

    def show_message(self: Reader, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        shown.append(time.perf_counter())

    Reader.show_message = show_message  # type: ignore[method-assign]
    times: dict[str, list[float]] = {subject: [] for subject in bodies}
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(0.5)
            driver = app._driver
            assert isinstance(driver, RecordingDriver)
            for _ in range(runs):
                for index, subject in enumerate(bodies):
                    await pilot.press("G")  # the short message, so that the next one is opened anew
                    await pilot.pause(0.4)
                    await app.workers.wait_for_complete()
                    await pilot.press(*(["g"] + ["j"] * index))
                    pressed = time.perf_counter()
                    await pilot.press("enter")
                    while not shown or shown[-1] < pressed:
                        await pilot.pause(0.001)
                    await pilot.pause(0.2)
                    frame = next(at for at, _ in driver.writes if at > shown[-1])
                    times[subject].append(frame - pressed)
                    await pilot.press("h")
    finally:
        Reader.show_message = original  # type: ignore[method-assign]
    return times


def open_times(bodies: dict[str, str], runs: int) -> dict[str, list[float]]:
    """Seconds from Enter to the body's frame, per message (by subject), ``runs`` times each."""
    return asyncio.run(_open_times(bodies, runs))
