"""SMTP STARTTLS that ends the session when the server says more than its go-ahead before the
TLS handshake.

RFC 3207 (4.2) lets nothing follow the ``220`` until TLS is on: bytes there are a man in the
middle's, answering in advance the commands the client will send over TLS. aiosmtplib drops
them and goes on with the handshake; here they end the session before it (IMAP and POP3 do the
same), so nothing the server said after its go-ahead is ever acted on.

While STARTTLS is answered, a small protocol (:class:`_Watch`) stands between the socket and
aiosmtplib's: it passes everything on, and closes the link as soon as more than one reply has
come. The handshake replaces it with the TLS layer, which reads what follows.
"""

from __future__ import annotations

import asyncio
import ssl

import aiosmtplib
from aiosmtplib import SMTPResponse


class StartTlsInjection(Exception):
    """The server sent something after agreeing to STARTTLS, before the handshake."""


async def starttls(smtp: aiosmtplib.SMTP, context: ssl.SSLContext | None) -> SMTPResponse:
    """STARTTLS and the handshake on ``smtp``'s link (aiosmtplib's, with its errors); raises
    :class:`StartTlsInjection`, the link closed, when anything follows the server's answer
    before the handshake."""
    transport, inner = smtp.transport, smtp.protocol
    if not isinstance(transport, asyncio.Transport) or inner is None:
        raise aiosmtplib.SMTPServerDisconnected("Server not connected")
    watch = _Watch(transport, inner)
    transport.set_protocol(watch)
    try:
        return await smtp.starttls(tls_context=context)
    except aiosmtplib.SMTPServerDisconnected:
        if watch.injected:
            raise StartTlsInjection() from None
        raise
    finally:
        if transport.get_protocol() is watch:  # no handshake began: aiosmtplib's reads again
            transport.set_protocol(inner)


class _Watch(asyncio.Protocol):
    """Passes the link's events on to aiosmtplib's protocol; aborts the link once more than one
    reply has arrived (``injected``)."""

    def __init__(self, transport: asyncio.Transport, inner: asyncio.Protocol) -> None:
        self.transport = transport
        self.inner = inner
        self.received = bytearray()
        self.injected = False

    def data_received(self, data: bytes) -> None:
        self.received += data
        self.inner.data_received(data)
        end = reply_end(self.received)
        if end is not None and end < len(self.received) and not self.injected:
            self.injected = True
            self.transport.abort()

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


def reply_end(data: bytes | bytearray) -> int | None:
    """Where the first complete SMTP reply in ``data`` ends (after its last line, the one
    without ``-`` after the code), or None while it is incomplete."""
    start = 0
    while (newline := data.find(b"\n", start)) >= 0:
        if data[start + 3 : start + 4] != b"-":
            return newline + 1
        start = newline + 1
    return None
