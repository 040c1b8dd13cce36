"""A POP3 server's greeting, and STLS among its capabilities (for a probe)."""

from __future__ import annotations

import asyncio

from mailbag.protocols.probe import read_lines


async def pop3_conversation(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                            needs_starttls: bool) -> bool:
    greeting = await reader.readline()
    if not greeting.startswith(b"+OK"):
        return False
    if not needs_starttls:
        return True
    writer.write(b"CAPA\r\n")
    if not (await reader.readline()).startswith(b"+OK"):
        return False
    lines = await read_lines(reader, lambda line: line.rstrip(b"\r\n") == b".")
    writer.write(b"QUIT\r\n")
    return any(line.strip().upper() == b"STLS" for line in lines)
