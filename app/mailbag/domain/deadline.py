"""The time the reading of one message may take, shared by every stage of it.

One :class:`Deadline` is made when a message starts to be read and handed down to each stage
(the MIME structure, every part's text, an HTML part's conversion, attached messages, the
reader's layout), so that the limit holds for the whole message, not for each stage anew. A stage
that finds it passed stops and keeps what it has done; the reader then says so.
"""

from __future__ import annotations

import time

#: How long reading one message may take, all its stages together (seconds).
READING_SECONDS = 5.0


class Deadline:
    """A point in time ``seconds`` (by default :data:`READING_SECONDS`) after ``start`` (by
    default: now) on the monotonic clock."""

    def __init__(self, seconds: float | None = None, start: float | None = None) -> None:
        self.seconds = READING_SECONDS if seconds is None else seconds
        self._end = (time.monotonic() if start is None else start) + self.seconds
        self.reached = False  # a stage found it passed (so it stopped short)
        self.cancelled = False  # the reading is no longer wanted

    def passed(self) -> bool:
        """Whether the time is up (once up, it stays up)."""
        if not self.reached and time.monotonic() > self._end:
            self.reached = True
        return self.reached

    def cancel(self) -> None:
        """Stop the reading at its next look at the deadline (another message is wanted)."""
        self.cancelled = True
        self._end = float("-inf")

    def notice(self) -> str:
        """What the reader says of a message whose reading the deadline cut short."""
        return f"Reading this message took over {self.seconds:g} s: the rest is not shown."
