"""How long the reader takes to open a message and to page through it: from Enter on its row to
the frame that shows its body, and from PageDown to the frame of the next page, at 80x24, on the
app over the in-memory facade of the UI tests (no server, no cache: what is left is the reader's
own work: laying the body out, wrapping the rows on screen, painting).

The body is a virtual view: only the rows on screen are wrapped, so these grow with the screen,
not with the body.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from mailbag.domain.deadline import Deadline
from mailbag.domain.events import EventSink
from mailbag.domain.mime import render_message
from mailbag.domain.models import Folder, FolderRole, RenderedMessage
from mailbag.ui.widgets.reader import Reader
from bench.inprocess import SIZE, RecordingApp, RecordingDriver
from tests.ui.fake_facade import NOW, FakeFacade

#: PageDowns timed per open.
PAGES = 5


@dataclass
class ReaderTimes:
    """Seconds from Enter to the body's frame, and from PageDown to the next page's frame."""

    open: list[float] = field(default_factory=list)
    page_down: list[float] = field(default_factory=list)


class _RawFacade(FakeFacade):
    """The in-memory facade, except that a message given whole is parsed at every open, as the
    services parse a message not opened before."""

    def rendered(self, account: str, folder: str, uid: int, deadline: Deadline | None = None) -> RenderedMessage | None:
        raw = self.raw.get((account, folder, uid))
        return render_message(raw, deadline=deadline) if raw is not None else super().rendered(account, folder, uid)


def _facade(bodies: dict[str, str | bytes]) -> Callable[[EventSink], FakeFacade]:
    def build(sink: EventSink) -> FakeFacade:
        facade = _RawFacade(sink)
        facade.add_folder(Folder("work", "INBOX", "/", FolderRole.INBOX, total=len(bodies) + 1, unread=0))
        for row_id, (subject, body) in enumerate(bodies.items(), start=2):
            text = body if isinstance(body, str) else ""
            when = NOW - timedelta(seconds=row_id)  # the list's order is the order of ``bodies``
            facade.add_message("work", "INBOX", row_id=row_id, subject=subject, date=when, body=text)
            if isinstance(body, bytes):
                facade.raw[("work", "INBOX", row_id)] = body
        facade.add_message("work", "INBOX", row_id=1, subject="short", date=NOW - timedelta(days=1), body="Hi\n")
        return facade

    return build


async def _frame_after(pilot: object, driver: RecordingDriver, after: float) -> float:
    """The time of the first frame written after ``after``."""
    while True:
        frame = next((at for at, _ in driver.writes if at > after), None)
        if frame is not None:
            return frame
        await pilot.pause(0.001)  # type: ignore[attr-defined]


async def _reader_times(bodies: dict[str, str | bytes], runs: int) -> dict[str, ReaderTimes]:
    app = RecordingApp(_facade(bodies), now=lambda: NOW)
    shown: list[float] = []
    original = Reader.show_message

    def show_message(self: Reader, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        shown.append(time.perf_counter())

    Reader.show_message = show_message  # type: ignore[method-assign]
    times = {subject: ReaderTimes() for subject in bodies}
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
                    times[subject].open.append(await _frame_after(pilot, driver, shown[-1]) - pressed)
                    body = app.main_screen.reader.body
                    for _ in range(PAGES):
                        if body.scroll_y >= body.max_scroll_y:
                            break  # the end is on screen: PageDown paints nothing
                        pressed = time.perf_counter()
                        await pilot.press("pagedown")
                        times[subject].page_down.append(await _frame_after(pilot, driver, pressed) - pressed)
                        await pilot.pause(0.05)
                    await pilot.press("h")
    finally:
        Reader.show_message = original  # type: ignore[method-assign]
    return times


def reader_times(bodies: dict[str, str | bytes], runs: int) -> dict[str, ReaderTimes]:
    """Open and PageDown times per message (by subject), ``runs`` opens each: a body given as
    text is shown as it is, a message given as bytes is parsed at each open."""
    return asyncio.run(_reader_times(bodies, runs))
