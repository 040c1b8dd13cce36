"""An SMTP server's greeting, and STARTTLS in its EHLO answer (for a probe)."""

from __future__ import annotations

import asyncio

from mailbag.protocols.probe import read_lines


def _last(line: bytes) -> bool:
    return line[3:4] != b"-"


async def smtp_conversation(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                            needs_starttls: bool) -> bool:
    greeting = await read_lines(reader, _last)
    if not greeting[-1].startswith(b"220"):
        return False
    if not needs_starttls:
        return True
    writer.write(b"EHLO mailbag\r\n")
    lines = await read_lines(reader, _last)
    writer.write(b"QUIT\r\n")
    return lines[-1].startswith(b"250") and any(line[4:].strip().upper() == b"STARTTLS" for line in lines)
