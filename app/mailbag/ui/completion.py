"""Completion in the compose screen's fields: addresses seen in the cache, and file paths.

Both are Textual suggesters: the field shows the rest of the best match dimmed after the cursor,
and Tab (or Right at the end) takes it. A suggestion always extends what was typed.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence

from textual.suggester import Suggester

from mailbag.domain.compose import format_address
from mailbag.domain.models import Address


def complete_address(typed: str, known: Sequence[Address]) -> str | None:
    """The field's text with its last address completed from ``known`` (most used first), or
    None. Matches the start of the address or of the name, whatever the case."""
    head, comma, piece = typed.rpartition(",")
    stripped = piece.lstrip()
    if not stripped:
        return None
    want = stripped.casefold()
    for address in known:
        for candidate in (address.email, format_address(address)):
            if len(candidate) > len(stripped) and candidate.casefold().startswith(want):
                return typed + candidate[len(stripped) :]
    return None


class AddressSuggester(Suggester):
    """Completes the last address of a To, Cc or Bcc field."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.known: Sequence[Address] = ()

    async def get_suggestion(self, value: str) -> str | None:
        return complete_address(value, self.known)


def complete_path(typed: str, names: Sequence[tuple[str, bool]]) -> str | None:
    """``typed`` extended by the longest common start of the matching entries of its folder
    (``names``: (name, is a folder)); a single folder gets its ``/``."""
    base = typed.rpartition("/")[2]
    matches = [(n, d) for n, d in names if n.startswith(base) and (base.startswith(".") or not n.startswith("."))]
    if not matches:
        return None
    common = os.path.commonprefix([n for n, _ in matches])
    if len(matches) == 1 and matches[0][1]:
        common += "/"
    return typed + common[len(base):] if len(common) > len(base) else None


def _entries(folder: str) -> list[tuple[str, bool]]:
    try:
        with os.scandir(folder) as entries:
            return sorted((e.name, e.is_dir()) for e in entries)
    except OSError:
        return []


class PathSuggester(Suggester):
    """Completes a file path; the folder is read off the UI's loop."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        folder = os.path.dirname(os.path.expanduser(value)) or "."
        names = await asyncio.to_thread(_entries, folder)
        return complete_path(value, names)
