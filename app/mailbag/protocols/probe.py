"""Probing a mail server's port without logging in: does it greet as the protocol should, and
(on a plain port) does it offer STARTTLS? Certificates are checked on implicit-TLS ports."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable

from mailbag.protocols.tls import client_context

#: Reads the greeting (and on a plain port asks for STARTTLS): whether the server will do.
Conversation = Callable[[asyncio.StreamReader, asyncio.StreamWriter, bool], Awaitable[bool]]


async def probe(
    host: str,
    port: int,
    *,
    implicit_tls: bool,
    conversation: Conversation,
    timeout: float,
    ca_file: str | None = None,
) -> bool:
    """Whether ``host:port`` answers ``conversation`` within ``timeout`` seconds: over a checked
    TLS link when ``implicit_tls``, else in plain text offering STARTTLS. Never raises for a
    server that is missing, slow, untrusted or speaks something else."""
    context = await client_context(ca_file) if implicit_tls else None
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(
                host, port, ssl=context, server_hostname=host if context else None
            )
            return await conversation(reader, writer, not implicit_tls)
    except (OSError, TimeoutError, ssl.SSLError, ValueError, asyncio.IncompleteReadError,
            asyncio.LimitOverrunError):
        return False
    finally:
        if writer is not None:
            writer.close()


async def read_lines(reader: asyncio.StreamReader, last: Callable[[bytes], bool],
                     most: int = 100) -> list[bytes]:
    """Lines up to and including the one ``last`` accepts (at most ``most``)."""
    lines = []
    for _ in range(most):
        line = await reader.readline()
        if not line:
            raise asyncio.IncompleteReadError(b"", None)
        lines.append(line)
        if last(line):
            return lines
    raise ValueError("too many lines")
