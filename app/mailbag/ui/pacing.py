"""EventPacer: what comes in a stream while a sync runs (its progress, the folders' counts) is
shown at most a few times a second.

Each time something is shown is a frame, and Textual draws at most 60 frames a second: a key
pressed within 1/60 s after a frame waits for the next one. A POP3 download's batches come about
ten a second, each with its progress and the Inbox's counts; shown as they came, they made a key
wait now and then. Four times a second reads as live.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from mailbag.domain.events import Event

#: What the pacer shows is shown at most this often.
PACE_SECONDS = 0.25
#: What an event is held under (the last of each is kept): its kind, account and folder.
PaceKey = tuple[type[Event], str, str]


class EventPacer:
    """Lets an event through when nothing was shown for :data:`PACE_SECONDS`; else holds it, the
    last of each key only, and shows what it holds (``show``) once that time is up.
    ``set_timer(delay, callback)`` is the widget's timer (it ends with the widget)."""

    def __init__(
        self, show: Callable[[Event], None], set_timer: Callable[[float, Callable[[], None]], object],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._show = show
        self._set_timer = set_timer
        self._clock = clock
        self._held: dict[PaceKey, Event] = {}
        self._shown_at = float("-inf")
        self._waiting = False  # a timer will show what is held

    def offer(self, key: PaceKey, event: Event) -> bool:
        """Whether ``event`` is to be shown now (by the caller); if not, it is held (in place
        of the one of ``key`` held before, if any)."""
        now = self._clock()
        if not self._waiting and now - self._shown_at >= PACE_SECONDS:
            self._shown_at = now
            return True
        self._held[key] = event
        if not self._waiting:
            self._waiting = True
            self._set_timer(self._shown_at + PACE_SECONDS - now, self._show_held)
        return False

    def drop(self, which: Callable[[PaceKey], bool]) -> None:
        """Forget the held events whose key ``which`` answers true for (what they say is out of
        date: the sync they count has ended)."""
        self._held = {key: event for key, event in self._held.items() if not which(key)}

    def _show_held(self) -> None:
        self._waiting = False
        held, self._held = self._held, {}
        if held:
            self._shown_at = self._clock()
        for event in held.values():
            self._show(event)
