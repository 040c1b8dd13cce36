"""``python -m bench.huge_messages``: keys on a message with 10,000 attachments or 50,000
recipients, at 80x24 on the app over the in-memory facade of the UI tests (no server, no cache):
the time from ``A`` (the attachments list) and from ``H`` (every header in full, on and off) to
the frame that shows it, and the longest the UI's loop was held meanwhile (what a key pressed
then would wait for at least).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable

from textual.pilot import Pilot

from bench.figures import Figure
from bench.inprocess import SIZE, RecordingApp, RecordingDriver
from bench.report import table
from mailbag.services.mail import SWITCH_SECONDS
from tests.ui.fake_facade import NOW
from tests.ui.sample import huge_facade

#: How often the loop's watcher wakes; it notes how late it is each time.
TICK = 0.002


class LoopWatch:
    """The longest the event loop was held from running a ready callback, since ``clear``."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def clear(self) -> None:
        self.longest = 0.0

    async def _watch(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(TICK)
            self.longest = max(self.longest, time.perf_counter() - asked - TICK)


async def _frame_after(pilot: Pilot[None], driver: RecordingDriver, after: float, shown: Callable[[], bool]) -> float:
    """The time of the first frame written once ``shown()`` holds (the key was pressed at
    ``after``): the first write after the last look that found it did not hold yet."""
    not_yet = after
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline:
        if not shown():
            not_yet = time.perf_counter()
        else:
            frame = next((t for t, _ in driver.writes if t > not_yet), None)
            if frame is not None:
                return frame
        await pilot.pause(0.001)
    raise TimeoutError("no frame showed it within 60 s")


def listed(app: RecordingApp) -> bool:
    """The attachments list is on screen, laid out."""
    if type(app.screen).__name__ != "AttachmentsScreen":
        return False
    return app.screen.query_one("#attachments-list").size.height > 0


async def _measure(runs: int) -> list[Figure]:
    app = RecordingApp(huge_facade, now=lambda: NOW)
    attach_frame, attach_held = Figure(10_000, "A on 10,000 attachments (key to frame)", "ms"), \
        Figure(10_000, "A on 10,000 attachments: UI loop held at most", "ms", goal="< 50 ms")
    headers_frame, headers_held = Figure(50_000, "H on 50,000 recipients, on or off (key to frame)", "ms"), \
        Figure(50_000, "H on 50,000 recipients: UI loop held at most", "ms", goal="< 50 ms")
    watch = LoopWatch()
    async with app.run_test(size=SIZE) as pilot:
        driver = app._driver
        assert isinstance(driver, RecordingDriver)
        await pilot.pause(0.5)
        watch.start()

        async def timed(keys: tuple[str, ...], shown: Callable[[], bool], frame: Figure, held: Figure,
                        after: Callable[[], Awaitable[None]]) -> None:
            watch.clear()
            pressed = time.perf_counter()
            await pilot.press(*keys)
            frame.samples.append(1000 * (await _frame_after(pilot, driver, pressed, shown) - pressed))
            held.samples.append(1000 * watch.longest)
            await after()

        async def rest() -> None:
            await app.workers.wait_for_complete()
            await pilot.pause(0.3)

        await pilot.press("enter")  # the message to 50,000, in the reader with the focus
        await rest()
        reader = app.main_screen.reader
        for _ in range(runs):
            for on in (True, False):
                await timed(("H",), lambda on=on: bool(reader.body._preface) == on,  # type: ignore[misc]
                            headers_frame, headers_held, rest)
        await pilot.press("h", "j")  # the message with 10,000 attachments
        await rest()
        for _ in range(runs):
            async def close() -> None:
                await pilot.press("escape")
                await rest()

            await timed(("A",), lambda: listed(app), attach_frame, attach_held, close)
        watch.stop()
    return [attach_frame, attach_held, headers_frame, headers_held]


def measure(runs: int) -> list[Figure]:
    """The figures, ``runs`` samples each (two for H: on and off)."""
    sys.setswitchinterval(SWITCH_SECONDS)  # as the app sets it with its workers' thread
    return asyncio.run(_measure(runs))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.huge_messages", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (default: 5)")
    args = parser.parse_args()
    print(table(measure(args.runs)))


if __name__ == "__main__":
    main()
