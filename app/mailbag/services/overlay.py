"""The triage the user just asked for, laid over the cache until the cache holds it.

A triage request is written to the cache a few milliseconds after it is submitted, on the
account workers' thread. Meanwhile :class:`PendingOverlay` answers for it: a moved or deleted
message is hidden, a flag change shows, and the counts of the folders it leaves and goes to
change, so the screen can re-read at once. An entry lasts until its request's terminal reply
(done, failed, cancelled, unsupported); once done, the cache holds the change, and a later
refusal by the server is rolled back in the cache itself.

Every answer is worked out from what the cache holds now, so that it is right both before and
after the cache takes the change: a row the cache already hides, or whose cached flags already
are the new ones, changes no count twice.
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
from mailbag.domain.models import FLAGGED, SEEN, Folder, FolderRole, MessageRow
from mailbag.domain.requests import DeleteMessages, MoveMessages, Request, SetFlags
from mailbag.domain.search import Flag, FlagTerm, Query

#: The replies after which a request's entry is no longer needed.
TERMINAL = (RequestDone, RequestFailed, RequestCancelled, RequestUnsupported)

#: Folder -> UIDs in it -> the account's folders and, read in the same snapshot, the cache's
#: visible rows of those UIDs per folder.
FoldersWithRows = Callable[
    [dict[str, frozenset[int]]], tuple[list[Folder], dict[str, list[MessageRow]]]
]


@dataclass(frozen=True, slots=True)
class _Entry:
    account: str
    folder: str
    uids: frozenset[int]
    hide: bool
    add: frozenset[str] = frozenset()
    remove: frozenset[str] = frozenset()
    target: str = ""  # where a move or copy goes, by name ...
    target_role: FolderRole = FolderRole.NONE  # ... or by role ("" and NONE: nowhere)
    copy: bool = False

    def target_in(self, folders: Sequence[Folder]) -> str:
        """The target folder's name among the account's ``folders`` ("" when none)."""
        if self.target:
            return self.target
        if self.target_role == FolderRole.NONE:
            return ""
        return next((f.name for f in folders if f.role == self.target_role), "")


def _entry(request: Request) -> _Entry | None:
    if isinstance(request, SetFlags):
        return _Entry(
            request.account, request.folder, frozenset(request.uids), False,
            request.add, request.remove,
        )
    if isinstance(request, MoveMessages):
        return _Entry(
            request.account, request.folder, frozenset(request.uids), not request.copy,
            target=request.target, target_role=request.target_role, copy=request.copy,
        )
    if isinstance(request, DeleteMessages):
        role = FolderRole.NONE if request.permanent else FolderRole.TRASH
        return _Entry(
            request.account, request.folder, frozenset(request.uids), True, target_role=role
        )
    return None


def flag_term_holds(term: FlagTerm, flags: frozenset[str]) -> bool | None:
    """Whether a flag term of a search holds for a message with ``flags``; None for a term the
    flags do not decide (``has:attachment``)."""
    if term.flag == Flag.UNREAD:
        holds = SEEN not in flags
    elif term.flag == Flag.READ:
        holds = SEEN in flags
    elif term.flag == Flag.FLAGGED:
        holds = FLAGGED in flags
    else:
        return None
    return holds != term.negated


def without_flag_terms(query: Query) -> Query:
    """``query`` without its terms on flags that triage changes (read, unread, flagged)."""
    kept = tuple(
        t for t in query.terms
        if not (isinstance(t, FlagTerm) and t.flag in (Flag.UNREAD, Flag.READ, Flag.FLAGGED))
    )
    return replace(query, terms=kept)


def _counts(rows: Iterable[MessageRow]) -> tuple[int, int]:
    total = unread = 0
    for row in rows:
        total += 1
        unread += SEEN not in row.flags
    return total, unread


class PendingOverlay:
    """Submitted triage not yet in the cache, by request id; safe to use from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[int, _Entry] = {}

    def record(self, request: Request) -> None:
        """Remember a move, copy, delete or flag change at once (no I/O); other requests are
        ignored."""
        entry = _entry(request)
        if entry is not None:
            with self._lock:
                self._entries[request.request_id] = entry

    def settle(self, event: Event) -> None:
        """Forget the entry of the request a terminal reply answers."""
        if isinstance(event, TERMINAL):
            with self._lock:
                self._entries.pop(event.request_id, None)

    def _current(self, account: str | None = None) -> list[_Entry]:
        with self._lock:
            entries = list(self._entries.values())
        return [e for e in entries if account is None or e.account == account]

    def hidden_uids(self, account: str, folder: str) -> frozenset[int]:
        """UIDs of the folder a pending move or delete takes out of it."""
        hidden: set[int] = set()
        for entry in self._current(account):
            if entry.hide and entry.folder == folder:
                hidden |= entry.uids
        return frozenset(hidden)

    def places(self, account: str | None = None, *, hide: bool) -> dict[tuple[str, str], frozenset[int]]:
        """(account, folder) -> UIDs that pending moves and deletes hide (``hide``), or whose
        flags pending flag changes change."""
        found: dict[tuple[str, str], frozenset[int]] = {}
        for entry in self._current(account):
            if entry.hide == hide and (hide or entry.add or entry.remove):
                key = (entry.account, entry.folder)
                found[key] = found.get(key, frozenset()) | entry.uids
        return found

    def index(
        self, account: str, folder: str, ids: Sequence[int],
        row_ids_of: Callable[[frozenset[int]], Iterable[int]],
    ) -> Sequence[int]:
        """``ids`` (the folder's list) without the rows a pending move or delete hides;
        ``row_ids_of`` maps the folder's UIDs to row ids (read only when something is hidden)."""
        uids = self.hidden_uids(account, folder)
        if not uids:
            return ids
        return self.without(ids, set(row_ids_of(uids)))

    @staticmethod
    def without(ids: Sequence[int], gone: set[int]) -> Sequence[int]:
        """``ids`` in order, without ``gone`` (``ids`` itself when nothing is gone)."""
        if not gone or not gone.intersection(ids):
            return ids
        return array("q", (row_id for row_id in ids if row_id not in gone))

    def hidden_row_ids(self, row_ids_of: Callable[[str, str, frozenset[int]], Iterable[int]]) -> set[int]:
        """Row ids of every message a pending move or delete hides, wherever it is."""
        gone: set[int] = set()
        for (account, folder), uids in self.places(hide=True).items():
            gone.update(row_ids_of(account, folder, uids))
        return gone

    def rows(self, rows: list[MessageRow]) -> list[MessageRow]:
        """``rows`` without hidden ones, with pending flag changes applied, in order."""
        return _overlaid(rows, self._current())

    def folders(self, account: str, read: FoldersWithRows) -> list[Folder]:
        """The account's folders with counts as they are once the pending triage is done: a
        moved or deleted message leaves its folder's counts and joins its target's, a copy
        joins its target's, a flag change moves the unread count. ``read`` reads the folders
        and the rows concerned in one snapshot of the cache, after the entries are taken: an
        entry that ends meanwhile is in that snapshot, and a change the cache holds (the row
        hidden, the flag set, the counts moved with them) counts once."""
        entries = self._current(account)
        places: dict[str, frozenset[int]] = {}
        for entry in entries:
            places[entry.folder] = places.get(entry.folder, frozenset()) | entry.uids
        folders, cached = read(places)
        if not entries:
            return folders
        delta: dict[str, list[int]] = {}

        def add(folder: str, sign: int, rows: Iterable[MessageRow]) -> None:
            total, unread = _counts(rows)
            if folder and (total or unread):
                change = delta.setdefault(folder, [0, 0])
                change[0] += sign * total
                change[1] += sign * unread

        for folder in places:
            before = cached.get(folder, [])
            add(folder, -1, before)
            add(folder, +1, _overlaid(before, entries))
            for entry in entries:
                if entry.folder != folder or not (entry.hide or entry.copy):
                    continue
                target = entry.target_in(folders)
                if target == folder:
                    continue  # refused as it is: it changes nothing
                moved = [r for r in before if r.uid in entry.uids]
                add(target, +1, (replace(r, flags=_flags(r, entries)) for r in moved))
        if not delta:
            return folders
        return [
            replace(f, total=max(0, f.total + delta[f.name][0]), unread=max(0, f.unread + delta[f.name][1]))
            if f.name in delta else f
            for f in folders
        ]

    def search(
        self, account: str, found: Sequence[int], query: Query, rows_of: Callable[[Sequence[int]], list[MessageRow]],
        row_ids_of: Callable[[str, str, frozenset[int]], Iterable[int]],
        candidates: Callable[[Query, list[int]], Iterable[int]],
    ) -> list[int]:
        """The account's search results ``found`` (newest first) as they are once the pending triage is done:
        hidden rows left out; with a query on flags, rows a pending flag change makes match
        put in, and rows it makes fail left out. ``candidates(query, ids)`` are those of
        ``ids`` matching ``query`` in the cache."""
        result = list(self.without(found, self.hidden_row_ids(row_ids_of)))
        terms = [t for t in query.terms if isinstance(t, FlagTerm)]
        changed = self.places(account, hide=False)
        if not terms or not changed:
            return result
        touched = [i for (account, folder), uids in changed.items() for i in row_ids_of(account, folder, uids)]
        if not touched:
            return result
        matching = set(candidates(without_flag_terms(query), touched))
        rows = {row.row_id: row for row in self.rows(rows_of(touched))}
        fails = {
            i for i in touched
            if i not in rows or i not in matching
            or not all(flag_term_holds(t, rows[i].flags) is not False for t in terms)
        }
        result = [i for i in result if i not in fails]
        shown = set(result)
        joins = [i for i in touched if i not in fails and i not in shown]
        if not joins:
            return result
        # Newest first, as the cache orders them: by date, then uid (undated last).
        merged = {row.row_id: row for row in rows_of(result + joins)}
        ordered = [merged[i] for i in result + joins if i in merged]
        ordered.sort(key=_newest_first, reverse=True)
        return [row.row_id for row in ordered]


def _newest_first(row: MessageRow) -> tuple[bool, float, int]:
    """The cache's search order, reversed: undated rows last, then by date and uid."""
    return (row.date is not None, row.date.timestamp() if row.date else 0.0, row.uid)


def _flags(row: MessageRow, entries: Iterable[_Entry]) -> frozenset[str]:
    """The row's flags with the flag changes of ``entries`` applied."""
    flags = row.flags
    for entry in entries:
        if (
            not entry.hide and entry.account == row.account and entry.folder == row.folder
            and row.uid in entry.uids
        ):
            flags = (flags | entry.add) - entry.remove
    return flags


def _overlaid(rows: list[MessageRow], entries: Sequence[_Entry]) -> list[MessageRow]:
    """``rows`` without the ones ``entries`` hide, with their flag changes, in order."""
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
