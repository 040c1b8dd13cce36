"""TLS client contexts shared by the IMAP, SMTP and POP3 clients."""

from __future__ import annotations

import asyncio
import functools
import os
import ssl


def make_client_context(ca_file: str | None = None) -> ssl.SSLContext:
    """A context that always verifies the server: system CAs, plus ``ca_file`` when given.

    Hostname checking is on and anything older than TLS 1.2 is refused. Loading the system CAs
    takes tens of milliseconds, so contexts are shared between connections (an SSLContext may
    be); a ``ca_file`` that changes on disk gets a fresh one.
    """
    stamp = os.stat(ca_file).st_mtime_ns if ca_file and os.path.exists(ca_file) else 0
    return _context(ca_file or None, stamp)


async def client_context(ca_file: str | None = None) -> ssl.SSLContext:
    """:func:`make_client_context` built in a worker thread: reading the system CAs (80-100 ms)
    must not hold up the event loop, which also runs the UI."""
    return await asyncio.to_thread(make_client_context, ca_file)


@functools.lru_cache(maxsize=8)
def _context(ca_file: str | None, _stamp: int) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context
