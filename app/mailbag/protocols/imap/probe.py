"""An IMAP server's greeting, and STARTTLS among its capabilities (for a probe)."""

from __future__ import annotations

import asyncio

from mailbag.protocols.probe import read_lines


async def imap_conversation(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                            needs_starttls: bool) -> bool:
    greeting = await reader.readline()
    if not greeting.upper().startswith(b"* OK"):
        return False
    if not needs_starttls:
        return True
    writer.write(b"P1 CAPABILITY\r\n")
    lines = await read_lines(reader, lambda line: line.startswith(b"P1 "))
    writer.write(b"P2 LOGOUT\r\n")
    return any(b" STARTTLS" in line.upper() for line in lines if line.startswith(b"* "))
