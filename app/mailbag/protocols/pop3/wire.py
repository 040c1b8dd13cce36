"""POP3 wire format: replies, multi-line bodies and the limits that keep a hostile server small.

A reply line is ``+OK text`` or ``-ERR text`` ended by CRLF (RFC 1939 3). A multi-line answer
follows it, each line "byte-stuffed" (a leading ``.`` doubled) and ended by a line holding only
``.``. Reply lines are capped at :data:`MAX_LINE` bytes; a multi-line answer at the caller's limit.
"""

from __future__ import annotations

import asyncio
import re

#: The longest reply line taken (RFC 2449 allows 512 octets; some servers say more).
MAX_LINE = 8192
#: How much one read asks the stream for.
CHUNK = 256 * 1024

_END = b"\n.\r\n"
_EMPTY = b".\r\n"
#: The same for a server that ends its lines with LF alone (against RFC 1939).
_END_LF = b"\n.\n"
_EMPTY_LF = b".\n"
_RESPONSE_CODE = re.compile(rb"^\[([A-Za-z0-9/-]+)\]")


class LineTooLong(Exception):
    """A reply line or multi-line answer went past its limit without its end."""


class Closed(Exception):
    """The server closed the link in the middle of a reply."""


class Reply:
    """A status line: ``ok``, its text and the RFC 2449 response code (``IN-USE``, ``AUTH``...).

    ``ok`` is true for ``+OK`` and for a SASL continuation (``+ `` and a challenge); ``positive``
    only for ``+OK``, what a command other than AUTH must get."""

    __slots__ = ("ok", "positive", "status", "text", "code")

    def __init__(self, line: bytes) -> None:
        line = line.rstrip(b"\r\n")
        self.positive = line.startswith(b"+OK")
        if self.positive:
            self.ok = True
            self.status = "+OK"
            rest = line[3:]
        elif line.startswith(b"-ERR"):
            self.ok = False
            self.status = "-ERR"
            rest = line[4:]
        elif line.startswith(b"+"):  # a SASL continuation ("+ " and a challenge)
            self.ok = True
            self.status = "+"
            rest = line[1:]
        else:
            raise ValueError(f"not a POP3 reply: {printable(line[:80])}")
        rest = rest.strip()
        match = _RESPONSE_CODE.match(rest)
        self.code = match.group(1).decode("ascii").upper() if match else ""
        self.text = printable(rest)


#: What the response codes of RFC 2449 and 3206 tell the user.
CODE_MEANINGS = {
    "IN-USE": "the mailbox is in use by another session",
    "LOGIN-DELAY": "the server allows no new login this soon after the last one",
    "SYS/TEMP": "the server has a temporary problem",
    "SYS/PERM": "the server has a problem that will not go away by itself",
    "AUTH": "the user name or password was not accepted",
}


def explained(reply: Reply) -> str:
    """The reply's text, after what its response code means when it has one, e.g. ``the
    mailbox is in use by another session ([IN-USE] locked)``."""
    meaning = CODE_MEANINGS.get(reply.code)
    return f"{meaning} ({reply.text})" if meaning else reply.text


def printable(raw: bytes) -> str:
    """Server text made safe to show and log: control characters replaced, at most 300 long."""
    text = raw.decode("utf-8", "replace")
    if text.isprintable():  # the usual reply: nothing to replace
        return text[:300]
    return "".join(c if c.isprintable() else "?" for c in text)[:300]


def unstuff(body: bytes, newline: bytes = b"\r\n") -> bytes:
    """A multi-line answer's lines (without the final ``.`` line) with dot-stuffing undone and
    CRLF turned into LF, as a message file keeps them (lines ended by ``newline``)."""
    if body.startswith(b".."):
        body = body[1:]
    body = body.replace(newline + b"..", newline + b".")  # the same object when nothing is stuffed
    return b"\n".join(body.split(b"\r\n"))  # faster than replace on many short lines


class Reader:
    """Reads reply lines and multi-line answers from a stream, with its own buffer (one search
    for the end of a whole message instead of a read per line)."""

    def __init__(self, stream: asyncio.StreamReader, timeout: float) -> None:
        self.stream = stream
        self.timeout = timeout  # seconds each read may wait for the server
        self._buffer = bytearray()
        self._lf_only = False  # the last reply line ended with LF alone: so will its answer

    @property
    def buffered(self) -> bool:
        """Whether bytes the caller has not read yet are waiting (after STLS: an injection)."""
        return bool(self._buffer)

    def replace_stream(self, stream: asyncio.StreamReader) -> None:
        """After STLS: read from the TLS stream (what was buffered in plain text is dropped, so
        nothing a man in the middle injected before the handshake is believed)."""
        self.stream = stream
        self._buffer.clear()

    async def _fill(self) -> None:
        async with asyncio.timeout(self.timeout):
            data = await self.stream.read(CHUNK)
        if not data:
            raise Closed("the server closed the connection")
        self._buffer += data

    async def line(self) -> bytes:
        """One line, with its CRLF; LineTooLong past :data:`MAX_LINE`."""
        start = 0
        while True:
            end = self._buffer.find(b"\n", start)
            if end >= 0:
                if end + 1 > MAX_LINE:
                    raise LineTooLong(f"a reply line longer than {MAX_LINE} bytes")
                line = bytes(self._buffer[: end + 1])
                del self._buffer[: end + 1]
                self._lf_only = not line.endswith(b"\r\n")
                return line
            if len(self._buffer) > MAX_LINE:
                raise LineTooLong(f"a reply line longer than {MAX_LINE} bytes")
            start = len(self._buffer)
            await self._fill()

    async def multiline(self, limit: int) -> bytes:
        """The lines up to the closing ``.`` line, unstuffed (see :func:`unstuff`); LineTooLong
        when more than ``limit`` bytes come without it. After a reply line ended by LF alone the
        answer's lines are taken to end so too."""
        closing, empty = (_END_LF, _EMPTY_LF) if self._lf_only else (_END, _EMPTY)
        while len(self._buffer) < len(empty):
            await self._fill()
        if self._buffer.startswith(empty):
            del self._buffer[: len(empty)]
            return b""
        start = 0
        while True:
            end = self._buffer.find(closing, start)
            if end > limit:
                raise LineTooLong(f"an answer longer than {limit} bytes")
            if end >= 0:
                with memoryview(self._buffer) as view:  # one copy, not a slice's and then bytes'
                    body = bytes(view[: end + 1])
                del self._buffer[: end + len(closing)]
                return unstuff(body, b"\n" if self._lf_only else b"\r\n")
            if len(self._buffer) > limit + len(closing):
                raise LineTooLong(f"an answer longer than {limit} bytes")
            start = max(0, len(self._buffer) - len(closing) + 1)
            await self._fill()
