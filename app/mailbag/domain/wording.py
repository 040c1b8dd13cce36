"""Counts in words, as the status bar, the dialogs and the reader say them; and whether two
server answers say the same."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"\d+")
#: A sum of numbers, as Dovecot times a command: ``(0.001 + 0.000 secs)``, and with a third term
#: when the command waited (for a lock, on a busy machine): ``(0.001 + 0.000 + 0.024 secs)``.
_SUM = re.compile(r"\d+(?:\.\d+)?(?: \+ \d+(?:\.\d+)?)+")


def plural(count: int, word: str = "message") -> str:
    """``1 message``, ``3 messages``: ``count`` and ``word``, with an s unless it is one."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def said_alike(text: str) -> str:
    """``text`` with every number made the same: what tells whether a server says the same thing
    again, where its answers hold timings, times or session numbers that differ each time
    (Dovecot's ``(0.001 + 0.000 secs)``, or ``(0.001 + 0.000 + 0.024 secs)`` when it waited)."""
    return _NUMBER.sub("0", _SUM.sub("0", text))


def human_size(size: int) -> str:
    """``512 B``, ``180 KB``, ``20.0 MB``."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size // 1024} KB"
    return f"{size / (1024 * 1024):.1f} MB"
