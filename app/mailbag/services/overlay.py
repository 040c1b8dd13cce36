"""The triage the user just asked for, laid over the cache until the cache holds it.

A triage request is written to the cache a few milliseconds after it is submitted, on the
account workers' thread. Meanwhile :class:`PendingOverlay` answers for it: a moved or deleted
message is hidden and a flag change shows, so the screen can re-read at once. An entry lasts until
its request's terminal reply (done, failed, cancelled, unsupported); once done, the cache holds the
change, and a later refusal by the server is rolled back in the cache itself.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from mailbag.domain.events import (
    Event,
    RequestCancelled,
    RequestDone,
    RequestFailed,
    RequestUnsupported,
)
from mailbag.domain.models import MessageRow
from mailbag.domain.requests import DeleteMessages, MoveMessages, Request, SetFlags

#: The replies after which a request's entry is no longer needed.
TERMINAL = (RequestDone, RequestFailed, RequestCancelled, RequestUnsupported)


@dataclass(frozen=True, slots=True)
class _Entry:
    account: str
    folder: str
    uids: frozenset[int]
    hide: bool
    add: frozenset[str] = frozenset()
    remove: frozenset[str] = frozenset()


class PendingOverlay:
    """Submitted triage not yet in the cache, by request id; safe to use from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[int, _Entry] = {}

    def record(self, request: Request) -> None:
        """Remember a move, delete or flag change at once (no I/O); other requests are ignored."""
        if isinstance(request, SetFlags):
            entry = _Entry(
                request.account, request.folder, frozenset(request.uids), False,
                request.add, request.remove,
            )
        elif isinstance(request, DeleteMessages) or (
            isinstance(request, MoveMessages) and not request.copy
        ):
            entry = _Entry(request.account, request.folder, frozenset(request.uids), True)
        else:
            return
        with self._lock:
            self._entries[request.request_id] = entry

    def settle(self, event: Event) -> None:
        """Forget the entry of the request a terminal reply answers."""
        if isinstance(event, TERMINAL):
            with self._lock:
                self._entries.pop(event.request_id, None)

    def _current(self) -> list[_Entry]:
        with self._lock:
            return list(self._entries.values())

    def hidden_uids(self, account: str, folder: str) -> frozenset[int]:
        """UIDs of the folder a pending move or delete takes out of it."""
        hidden: set[int] = set()
        for entry in self._current():
            if entry.hide and entry.account == account and entry.folder == folder:
                hidden |= entry.uids
        return frozenset(hidden)

    def index(
        self, account: str, folder: str, ids: Sequence[int],
        row_ids_of: Callable[[frozenset[int]], Iterable[int]],
    ) -> Sequence[int]:
        """``ids`` (the folder's list) without the rows a pending move or delete hides;
        ``row_ids_of`` maps the folder's UIDs to row ids (read only when something is hidden)."""
        uids = self.hidden_uids(account, folder)
        if not uids:
            return ids
        gone = set(row_ids_of(uids))
        if not gone:
            return ids
        return array("q", (row_id for row_id in ids if row_id not in gone))

    def rows(self, rows: list[MessageRow]) -> list[MessageRow]:
        """``rows`` without hidden ones, with pending flag changes applied, in order."""
        entries = self._current()
        if not entries:
            return rows
        result = []
        for row in rows:
            flags = row.flags
            hidden = False
            for entry in entries:
                if entry.account != row.account or entry.folder != row.folder:
                    continue
                if row.uid not in entry.uids:
                    continue
                if entry.hide:
                    hidden = True
                    break
                flags = (flags | entry.add) - entry.remove
            if hidden:
                continue
            result.append(row if flags == row.flags else replace(row, flags=flags))
        return result
