"""EventPacer: a stream of progress and counts is shown a few times a second, the last of each
kind, and what an ended sync held is never shown after its end."""

from __future__ import annotations

from collections.abc import Callable

from mailbag.domain.events import Event, FolderCountsChanged, SyncProgress
from mailbag.ui.pacing import PACE_SECONDS, EventPacer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.timers: list[tuple[float, Callable[[], None]]] = []

    def set_timer(self, delay: float, callback: Callable[[], None]) -> None:
        self.timers.append((self.now + delay, callback))

    def advance(self, seconds: float) -> None:
        self.now += seconds
        due = [t for t in self.timers if t[0] <= self.now]
        self.timers = [t for t in self.timers if t[0] > self.now]
        for _when, callback in due:
            callback()


def progress(done: int, folder: str = "INBOX") -> SyncProgress:
    return SyncProgress("work", folder, done, 10_000)


def make() -> tuple[EventPacer, Clock, list[Event]]:
    clock = Clock()
    shown: list[Event] = []
    pacer = EventPacer(shown.append, clock.set_timer, clock=lambda: clock.now)
    return pacer, clock, shown


def offered(pacer: EventPacer, event: SyncProgress | FolderCountsChanged) -> bool:
    return pacer.offer((type(event), event.account, event.folder), event)


def test_the_first_goes_through_and_a_stream_shows_its_last_once_the_pace_is_up() -> None:
    pacer, clock, shown = make()
    assert offered(pacer, progress(256))
    clock.advance(0.1)
    assert not offered(pacer, progress(512))
    assert not offered(pacer, counts := FolderCountsChanged("work", "INBOX", 512, 512))
    clock.advance(0.1)
    assert not offered(pacer, progress(768))
    assert shown == []
    clock.advance(PACE_SECONDS)
    assert shown == [progress(768), counts]  # the last progress, not every one
    assert not offered(pacer, progress(1024))  # shown just now: this one waits its turn too
    clock.advance(PACE_SECONDS)
    assert shown[-1] == progress(1024)
    clock.advance(10)
    assert offered(pacer, progress(2048))  # quiet for a while: at once


def test_what_was_dropped_is_never_shown() -> None:
    pacer, clock, shown = make()
    assert offered(pacer, progress(256))
    assert not offered(pacer, progress(512))
    assert not offered(pacer, other := progress(3, "Archive"))
    pacer.drop(lambda key: key == (SyncProgress, "work", "INBOX"))  # the Inbox's sync ended
    clock.advance(PACE_SECONDS)
    assert shown == [other]
