"""Cut a byte stream from an IMAP server into complete responses, in linear time.

A response is one line, or several lines joined by literals (``{n}`` at the end of a line, then
exactly n bytes). It is handed over as its segments: ``[line, literal, line, literal, ..., line]``,
lines without their CRLF. A line ends at its LF, the CR before it being left out: GNU Mailutils'
imap4d ends some answers (its OK to AUTHENTICATE) with a bare LF, and no line of a response can
hold one otherwise. Bytes are kept in one ``bytearray`` and each byte is looked at once.
"""

from __future__ import annotations

from collections.abc import Callable

#: Longest line (without literals) and largest literal accepted, so a hostile server cannot
#: make the client buffer without end.
MAX_LINE = 16 * 1024 * 1024
MAX_LITERAL = 512 * 1024 * 1024

Segments = list[bytes]


class FramingError(Exception):
    """The server sent something that cannot be an IMAP response."""


def literal_size(line: bytes) -> int:
    """The size announced by a ``{n}`` (or ``{n+}``) at the end of ``line``, else -1."""
    if not line.endswith(b"}"):
        return -1
    start = line.rfind(b"{")
    if start < 0:
        return -1
    digits = line[start + 1 : -1].rstrip(b"+")
    if not digits.isdigit():
        return -1
    return int(digits)


#: Reads complete responses straight from the received bytes (``data``, from ``pos``) and returns
#: where it stopped; the framer frames what it leaves.
FastLane = Callable[[bytes, int], int]


class ResponseFramer:
    """Feed bytes in; complete responses come out through ``on_response``.

    While ``fast_lane`` is set, it is offered the bytes at every response boundary first (the
    streaming summary fetch reads its usual answers there without framing them).
    """

    def __init__(self, on_response: Callable[[Segments], None]) -> None:
        self.fast_lane: FastLane | None = None
        self._on_response = on_response
        self._buffer = bytearray()
        self._scan_from = 0  # where to look for the next line end
        self._segments: Segments = []
        self._literal = -1  # bytes still expected for the current literal, -1 when none
        self._cut = False  # the stream changes after the response being handed over

    @property
    def pending(self) -> int:
        """Bytes received and not yet handed over (including a partial response)."""
        return len(self._buffer) + sum(len(s) for s in self._segments)

    def cut_after_this_response(self) -> None:
        """Called from ``on_response``: what follows the response being handed over is in
        another form (compressed, RFC 4978), so :meth:`feed` stops framing there and returns
        those bytes, for the caller to bring into this form and feed again."""
        self._cut = True

    def feed(self, data: bytes) -> bytes:
        """Take in more bytes and hand over every response they complete; returns the bytes
        left unframed after a :meth:`cut_after_this_response` (else ``b""``)."""
        buffer = self._buffer
        buffer.extend(data)
        start = 0
        snapshot = b""  # the buffer as bytes for the fast lane; the buffer only shrinks at the end
        while True:
            if self.fast_lane is not None and self._literal < 0 and not self._segments:
                if not snapshot:
                    snapshot = bytes(buffer)
                moved = self.fast_lane(snapshot, start)
                if moved > start:
                    start = self._scan_from = moved
            if self._literal >= 0:
                if len(buffer) - start < self._literal:
                    break
                end = start + self._literal
                self._segments.append(bytes(buffer[start:end]))
                start = self._scan_from = end
                self._literal = -1
                continue
            lf = buffer.find(b"\n", max(self._scan_from, start))
            if lf < 0:
                if len(buffer) - start > MAX_LINE:
                    raise FramingError("response line too long")
                self._scan_from = len(buffer)
                break
            line = bytes(buffer[start : lf - 1 if lf > start and buffer[lf - 1] == 13 else lf])
            start = self._scan_from = lf + 1
            size = literal_size(line)
            self._segments.append(line)
            if size >= 0:
                if size > MAX_LITERAL:
                    raise FramingError("literal too large")
                self._literal = size
                continue
            segments, self._segments = self._segments, []
            self._on_response(segments)
            if self._cut:
                self._cut = False
                rest = bytes(buffer[start:])
                buffer.clear()
                self._scan_from = 0
                return rest
        if start:
            del buffer[:start]
            self._scan_from -= start
        return b""
