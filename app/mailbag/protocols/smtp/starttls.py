"""The plain-text part of an SMTP STARTTLS session, which ends when the server says anything it
was not asked for.

RFC 3207 (4.2) lets nothing follow the ``220`` until TLS is on: bytes there are a man in the
middle's, answering in advance the commands the client will send over TLS. aiosmtplib drops
them and goes on with the handshake; here they end the session before it (IMAP and POP3 do the
same), so nothing the server said after its go-ahead is ever acted on. A reply before STARTTLS
was sent (a forged go-ahead in the EHLO answer's packet) ends it too.

From the EHLO to the handshake, a small protocol (:class:`_Watch`) stands between the socket
and aiosmtplib's: it passes everything on, counts the replies, and closes the link as soon as
more has come than the commands sent ask for. The handshake replaces it with the TLS layer.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable

import aiosmtplib
from aiosmtplib import SMTPResponse


class StartTlsInjection(Exception):
    """The server sent what was not asked for before TLS; ``after_go_ahead``: once it had
    agreed to STARTTLS."""

    def __init__(self, after_go_ahead: bool) -> None:
        super().__init__("unasked data before TLS")
        self.after_go_ahead = after_go_ahead


class PlainText:
    """EHLO and STARTTLS on ``smtp``'s link (aiosmtplib's calls, with their errors), each raising
    :class:`StartTlsInjection`, the link closed, when more than its reply came. ``close()``
    once done, whatever happened."""

    def __init__(self, smtp: aiosmtplib.SMTP) -> None:
        transport, inner = smtp.transport, smtp.protocol
        if not isinstance(transport, asyncio.Transport) or inner is None:
            raise aiosmtplib.SMTPServerDisconnected("Server not connected")
        self._smtp = smtp
        self._transport, self._inner = transport, inner
        self._watch = _Watch(transport, inner)
        transport.set_protocol(self._watch)

    async def ehlo(self) -> SMTPResponse:
        """EHLO (the capabilities before TLS)."""
        return await self._asked(self._smtp.ehlo())

    async def starttls(self, context: ssl.SSLContext | None) -> SMTPResponse:
        """STARTTLS and the TLS handshake."""
        return await self._asked(self._smtp.starttls(tls_context=context))

    async def _asked(self, command: Awaitable[SMTPResponse]) -> SMTPResponse:
        self._watch.asked += 1
        try:
            reply = await command
        except aiosmtplib.SMTPServerDisconnected:
            self._check()
            raise
        self._check()
        return reply

    def _check(self) -> None:
        if self._watch.injected is not None:
            raise StartTlsInjection(self._watch.injected)

    def close(self) -> None:
        """Give the link back to aiosmtplib's protocol, unless a handshake took it."""
        if self._transport.get_protocol() is self._watch:
            self._transport.set_protocol(self._inner)


class _Watch(asyncio.Protocol):
    """Passes the link's events on to aiosmtplib's protocol; aborts the link once more has come
    than ``asked`` replies (``injected``: whether STARTTLS had been answered by then)."""

    def __init__(self, transport: asyncio.Transport, inner: asyncio.Protocol) -> None:
        self.transport = transport
        self.inner = inner
        self.asked = 0
        self.received = bytearray()
        self.injected: bool | None = None

    def data_received(self, data: bytes) -> None:
        self.received += data
        self.inner.data_received(data)
        count, end = complete_replies(self.received)
        if self.injected is None and (count > self.asked or (count == self.asked and end < len(self.received))):
            self.injected = self.asked >= 2  # the EHLO's and STARTTLS's were all it may send
            self.transport.abort()

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


def complete_replies(data: bytes | bytearray) -> tuple[int, int]:
    """How many complete SMTP replies ``data`` starts with, and where the last of them ends
    (after its last line: the one without ``-`` after the code)."""
    count = end = start = 0
    while (newline := data.find(b"\n", start)) >= 0:
        if data[start + 3 : start + 4] != b"-":
            count, end = count + 1, newline + 1
        start = newline + 1
    return count, end
