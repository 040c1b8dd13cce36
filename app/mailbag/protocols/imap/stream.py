"""Streaming UID FETCH: responses are parsed one by one and handed over in batches.

An answer that a reading trips on (one no test has shown yet: a server's, or a message's, that
breaks a rule in a new way) is left out of the batch and logged, and the fetch goes on: it must
not end the command, which would drop the link and leave the whole folder unread at each try.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, Generic, TypeVar

from mailbag.protocols.imap.framing import Segments
from mailbag.protocols.imap.parser import Value, pairs, parse_segments, parse_uid_set
from mailbag.protocols.imap.protocol import ImapCommand, StreamingProtocol

T = TypeVar("T")
log = logging.getLogger(__name__)

#: Reads answers from received bytes from a position on, handing each value over; returns where
#: it stopped (``mailbag.protocols.imap.summary_scan.scan_summaries``).
ScanBytes = Callable[[bytes, int, Callable[[Any], None]], int]

#: Batches waiting for the consumer before the socket stops being read.
HIGH_WATER = 4
LOW_WATER = 1


class StreamingFetch(ImapCommand):
    """A UID FETCH whose FETCH responses are converted as they arrive and queued in batches.

    Memory holds at most a few batches, whatever the size of the folder: when the consumer is
    behind, reading from the socket pauses until it catches up.
    """

    def __init__(self, tag: str, *args: str, protocol: StreamingProtocol, timeout: float,
                 convert: Callable[[dict[bytes, Value]], Any | None], batch_size: int,
                 required: bytes = b"UID", scan: Callable[[Segments], Any | None] | None = None,
                 scan_bytes: ScanBytes | None = None) -> None:
        super().__init__("FETCH", tag, *args, prefix="UID", loop=protocol.loop, timeout=timeout)
        self.protocol = protocol
        self.convert = convert
        self.batch_size = batch_size
        self.required = required  # an answer carries this item; a FETCH without it is a server push
        self.scan = scan  # a fast reading of the common answer; None sends it to the general parser
        self.scan_bytes = scan_bytes
        if scan_bytes is not None:
            self.fast_lane = self._read_bytes
        self.batch: list[Any] = []
        self.queue: asyncio.Queue[list[Any] | None] = asyncio.Queue()
        self.vanished: list[int] = []
        self.discard = False  # the consumer left: keep reading to the end, keep nothing

    def take(self, kind: bytes, segments: Segments) -> bool:
        if kind == b"VANISHED":
            words = segments[0].split(b" ")
            if len(words) > 2 and words[2].upper() == b"(EARLIER)":
                if not self.discard:
                    self.vanished.extend(parse_uid_set(words[-1]))
                return True
            return False
        if kind != b"FETCH":
            return False
        if self.scan is not None:
            scanned = _read(self.scan, segments, segments)  # tripped: the general reading tries
            if scanned is not None:
                if not self.discard:
                    self._add(scanned)
                return True
        parsed = parse_segments(segments)
        items = pairs(parsed[3]) if len(parsed) > 3 else {}
        if b"UID" not in items or self.required not in items:
            return False  # a change pushed by the server, not an answer
        if self.discard:
            return True
        value = _read(self.convert, items, segments)
        if value is not None:
            self._add(value)
        return True

    def _read_bytes(self, data: bytes, pos: int) -> int:
        """The fast lane: usual answers read straight from the received bytes (see
        ``ResponseFramer.fast_lane``); nothing once the command has ended."""
        if self.scan_bytes is None or self.ended:
            return pos
        return self.scan_bytes(data, pos, self._keep)

    def _keep(self, value: Any) -> None:
        if not self.discard:
            self._add(value)

    def _add(self, value: Any) -> None:
        self.batch.append(value)
        if len(self.batch) >= self.batch_size:
            self._hand_over()

    def _hand_over(self) -> None:
        if self.batch and not self.discard:
            self.queue.put_nowait(self.batch)
        self.batch = []
        if self.queue.qsize() >= HIGH_WATER:
            self.protocol.pause()

    def finished(self) -> None:
        self._hand_over()
        self.protocol.resume()

    def consumed(self) -> None:
        """The consumer took a batch: read again when it has caught up, and restart the clock."""
        if self.queue.qsize() <= LOW_WATER:
            self.protocol.resume()
        if not self.ended:
            self.restart_timer()


class FetchStream(Generic[T]):
    """Async iterator over batches of a streaming FETCH; ``vanished`` lists VANISHED uids."""

    def __init__(self, start: Callable[[], Awaitable[tuple[StreamingFetch, asyncio.Future[Any]]]],
                 lock: asyncio.Lock) -> None:
        self._start = start
        self._lock = lock
        self.vanished: list[int] = []

    def __aiter__(self) -> AsyncGenerator[list[T], None]:
        return self._iterate()

    async def _iterate(self) -> AsyncGenerator[list[T], None]:
        async with self._lock:
            command, task = await self._start()
            task.add_done_callback(lambda _t: command.queue.put_nowait(None))
            try:
                while True:
                    batch = await command.queue.get()
                    if batch is None:
                        break
                    command.consumed()
                    yield batch
                self.vanished = sorted(set(command.vanished))
                await task
            finally:
                if not task.done():
                    command.discard = True
                    command.protocol.resume()
                    await asyncio.wait({task})
                if task.done() and not task.cancelled():
                    task.exception()  # retrieved here or re-raised by ``await task`` above


def _read(reader: Callable[[Any], T | None], value: Any, segments: Segments) -> T | None:
    """``reader(value)``; None, logged, when it raises (see the module's text)."""
    try:
        return reader(value)
    except Exception:  # noqa: BLE001
        first = segments[0][:200].decode("ascii", "replace") if segments else ""
        log.warning("a FETCH answer that could not be read was left out: %s", first, exc_info=True)
        return None
