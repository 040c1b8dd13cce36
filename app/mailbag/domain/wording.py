"""Counts in words, as the status bar, the dialogs and the reader say them."""

from __future__ import annotations


def plural(count: int, word: str = "message") -> str:
    """``1 message``, ``3 messages``: ``count`` and ``word``, with an s unless it is one."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
