"""Completion in the compose screen's fields: addresses seen in the cache (then, where the
config names one, those the user's address book command finds), and file paths.

Both are Textual suggesters: the field shows the rest of the best match dimmed after the cursor,
and Tab (or Right at the end) takes it. A suggestion always extends what was typed.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence

from textual.binding import Binding
from textual.suggester import Suggester
from textual.widgets import Input

from mailbag.domain.compose import format_address
from mailbag.domain.models import Address
from mailbag.services.address_query import QueryAnswer

#: Letters typed before the address book command is asked.
QUERY_FROM = 2


class AddressBook:
    """Addresses to complete from, most used first, with their forms prepared once (build it in
    a thread: formatting 10,000 addresses takes a while)."""

    def __init__(self, known: Sequence[Address] = ()) -> None:
        self._entries = []
        for address in known:
            full = format_address(address)
            self._entries.append((address.email, address.email.casefold(), full, full.casefold()))

    def complete(self, typed: str) -> str | None:
        """``typed`` with its last address completed, or None. Matches the start of the address
        or of the name (the whole ``Name <address>``), whatever the case."""
        piece = typed.rpartition(",")[2].lstrip()
        if not piece:
            return None
        want = piece.casefold()
        size = len(piece)
        for email, email_folded, full, full_folded in self._entries:
            if len(email) > size and email_folded.startswith(want):
                return typed + email[size:]
            if len(full) > size and full_folded.startswith(want):
                return typed + full[size:]
        return None

    def canonical(self, completed: str) -> str:
        """``completed`` (what :meth:`complete` suggested) with its last address written as the
        book has it: the suggestion keeps the case typed (``Zo`` + ``e@example.org``), the
        address taken must not (``zoe@example.org``)."""
        head, comma, piece = completed.rpartition(",")
        address = piece.lstrip()
        folded = address.casefold()
        for email, email_folded, full, full_folded in self._entries:
            if folded in (email_folded, full_folded):
                return head + comma + piece[: len(piece) - len(address)] + (email if folded == email_folded else full)
        return completed


class AddressSuggester(Suggester):
    """Completes the last address of a To, Cc or Bcc field: from :attr:`book`, else from what
    ``query`` (the address book command) answers for the address being typed. A query is run
    once per start of an address: one whose answer was complete answers every longer one."""

    def __init__(self, query: Callable[[str], Awaitable[QueryAnswer]] | None = None) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.book = AddressBook()
        self._query = query
        self._asked: dict[str, asyncio.Task[QueryAnswer]] = {}  # folded query -> its answer
        self._answered = AddressBook()  # what the command answered for the last suggestion

    async def get_suggestion(self, value: str) -> str | None:
        found = self.book.complete(value)
        piece = value.rpartition(",")[2].strip()
        if found is not None or self._query is None or len(piece) < QUERY_FROM or piece.endswith(">"):
            return found  # (an address taken whole, "Name <address>", is not asked about)
        answer = await self._answer(piece)
        self._answered = AddressBook(answer.addresses)
        return self._answered.complete(value)

    def canonical(self, completed: str) -> str:
        """A suggestion taken, its last address as the cache or the address book writes it."""
        written = self.book.canonical(completed)
        return written if written != completed else self._answered.canonical(completed)

    async def _answer(self, piece: str) -> QueryAnswer:
        """What the command answers for ``piece``: a complete answer for a start of it, else
        its own (asked once, however many keys are pressed meanwhile)."""
        folded = piece.casefold()
        for size in range(QUERY_FROM, len(folded)):
            earlier = self._asked.get(folded[:size])
            if earlier is not None and (answer := await asyncio.shield(earlier)).complete:
                return answer
        task = self._asked.get(folded)
        if task is None:
            assert self._query is not None
            task = self._asked[folded] = asyncio.ensure_future(self._query(piece))
        return await asyncio.shield(task)


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


class FieldInput(Input):
    """A one-line field; Tab takes the completion shown, else moves on."""

    BINDINGS = [Binding("tab", "complete_or_next", "Complete", show=False)]

    def action_complete_or_next(self) -> None:
        if self.cursor_at_end and self._suggestion and self._suggestion != self.value:
            suggester = self.suggester
            self.value = suggester.canonical(self._suggestion) if isinstance(suggester, AddressSuggester) else (
                self._suggestion
            )
            self.cursor_position = len(self.value)
        else:
            self.screen.focus_next()
