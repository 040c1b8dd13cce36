"""CacheReader: the reads that paint the folder tree and the message list, over plain ``sqlite3``.

These are the reads a start needs before anything else, so this module imports neither SQLAlchemy
nor the schema: a warm start paints the cached list without paying for them, and the full
:class:`mailbag.store.store.Store` (writes, migrations, search) is opened after that frame. The Store
serves the same reads through its own reader, so each query is written once, here.

Safe to use from several threads at once: each call borrows one connection of a small pool.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mailbag.domain.models import ROLE_ORDER, Address, Folder, FolderRole, MessageRow
from mailbag.store import codec
from mailbag.store.version import CACHE_VERSION

#: How long (seconds) a read waits for a writer holding the file's lock.
BUSY_TIMEOUT = 30.0
#: Largest number of values bound into one ``IN (...)`` list.
CHUNK = 500

#: ORDER BY clauses per sort key: (normal, reversed). Ties break by uid so the order is stable.
ORDERS: dict[str, tuple[str, str]] = {
    "date": ("date DESC, uid DESC", "date ASC, uid ASC"),
    "sender": ("sender COLLATE NOCASE ASC, date DESC", "sender COLLATE NOCASE DESC, date DESC"),
    "subject": ("subject COLLATE NOCASE ASC, date DESC", "subject COLLATE NOCASE DESC, date DESC"),
    "size": ("size DESC, uid DESC", "size ASC, uid ASC"),
}

#: The folder id of (account name, folder name), as a scalar subquery.
_FOLDER_ID = (
    "(SELECT folders.id FROM folders JOIN accounts ON folders.account_id = accounts.id"
    " WHERE accounts.name = ? AND folders.name = ?)"
)
_FOLDERS = (
    "SELECT folders.name, delimiter, role, attributes, total, unread FROM folders"
    " JOIN accounts ON folders.account_id = accounts.id WHERE accounts.name = ?"
)
_ROWS = (
    "SELECT m.id, accounts.name, folders.name, m.uid, m.flags, m.date, m.date_offset, m.size,"
    " m.subject, m.sender, m.sender_email, m.has_attachment,"
    " EXISTS (SELECT 1 FROM bodies WHERE bodies.message_row = m.id), m.to_addrs"
    " FROM messages AS m JOIN folders ON m.folder_id = folders.id"
    " JOIN accounts ON folders.account_id = accounts.id WHERE m.id IN ({marks}) AND m.hidden = 0"
)


def chunks(values: Sequence[int]) -> Iterator[Sequence[int]]:
    """``values`` in runs of at most :data:`CHUNK`, one ``IN (...)`` list each."""
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def cache_version(path: Path) -> int | None:
    """The cache version of the file at ``path``; None when there is no such file, or it cannot
    be read (the Store then rebuilds it, or says what is wrong with it)."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        return int(version)
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def id_column(conn: sqlite3.Connection, sql: str, params: Sequence[object]) -> array[int]:
    """The integer column ``v`` of a query, in the query's order, as an ``array('q')``.

    Big folders make this the hot path of opening and re-sorting a list. SQLite joins the values
    into one string of fixed-width hex in a single step, which runs without the GIL; decoding it is
    one C call. Reading row by row instead takes the GIL back for each of 100k rows, and a UI
    painting meanwhile in the main thread then slows both down. SQLite aggregates the rows of a
    subquery with ORDER BY in that order (such a subquery is never flattened into an aggregate).
    """
    (text,) = conn.execute(
        f"SELECT group_concat(printf('%016x', v), '') FROM ({sql})", params
    ).fetchone()
    values = array("q")
    if text:
        values.frombytes(bytes.fromhex(text))  # big-endian, eight bytes per value
        if sys.byteorder == "little":
            values.byteswap()
    return values


def message_row(r: Any) -> MessageRow:
    """A :class:`MessageRow` from one row of the ``_ROWS`` query."""
    return MessageRow(
        row_id=r[0],
        account=r[1],
        folder=r[2],
        uid=r[3],
        flags=codec.decode_atoms(r[4]),
        date=codec.decode_date(r[5], r[6]),
        size=r[7],
        subject=r[8],
        sender=r[9],
        sender_email=r[10],
        has_attachment=bool(r[11]),
        has_body=bool(r[12]),
        recipients=codec.decode_addresses(r[13]),
    )


#: Every distinct From list with how often it occurs, and the To and Cc lists of Sent folders.
_ADDRESSES = (
    "SELECT from_addrs, count(*) FROM messages WHERE hidden = 0 GROUP BY from_addrs "
    "UNION ALL SELECT m.to_addrs || char(30) || m.cc_addrs, count(*) FROM messages AS m "
    "JOIN folders AS f ON f.id = m.folder_id WHERE f.role = ? AND m.hidden = 0 "
    "GROUP BY m.to_addrs, m.cc_addrs"
)


class CacheReader:
    """Read-only access to a cache file whose tables are at :data:`CACHE_VERSION`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._closed = False
        self._prefetched: tuple[tuple[str, str, str, bool], Future[array[int]]] | None = None

    @classmethod
    def open_current(cls, path: Path) -> CacheReader | None:
        """A reader of ``path`` when that file exists at this version of the cache; None when it
        is missing or must first be built or rebuilt (which only the Store does)."""
        if cache_version(path) != CACHE_VERSION:
            return None
        return cls(path)

    def close(self) -> None:
        """Close every idle connection; ones still lent out close when they come back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA query_only=ON")
        conn.execute("PRAGMA cache_size=-16000")
        return conn

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._closed:
                raise sqlite3.ProgrammingError("the cache reader is closed")
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.rollback()
            with self._lock:
                keep = not self._closed
                if keep:
                    self._idle.append(conn)
            if not keep:
                conn.close()

    def folders(self, account: str) -> list[Folder]:
        """The account's cached folders in display order: by role (Inbox first), then by name."""
        with self._connection() as conn:
            return _folders(conn, account)

    def folders_with_rows(
        self, account: str, places: Mapping[str, Iterable[int]]
    ) -> tuple[list[Folder], dict[str, list[MessageRow]]]:
        """The account's folders (as :meth:`folders`) and, read in the same snapshot, the
        visible rows of the UIDs ``places`` names per folder: counts and rows agree."""
        with self._connection() as conn:
            conn.execute("BEGIN")
            folders = _folders(conn, account)
            rows = {
                folder: _rows(conn, _row_ids(conn, account, folder, uids))
                for folder, uids in places.items()
            }
            conn.execute("COMMIT")
        return folders, rows

    def message_index(
        self, account: str, folder: str, sort: str = "date", reverse: bool = False
    ) -> array[int]:
        """Row ids of the folder's visible messages in list order.

        ``sort`` is date (newest first, undated last), sender, subject (A to Z) or size (largest
        first); ``reverse`` flips it. Returned as a compact ``array('q')``: eight bytes per
        message, no Python object per row.
        """
        with self._lock:
            prefetched, self._prefetched = self._prefetched, None
        if prefetched is not None and prefetched[0] == (account, folder, sort, reverse):
            try:
                return prefetched[1].result()
            except sqlite3.Error:
                pass  # read it again below, where the error can reach the caller
        return self._message_index(account, folder, sort, reverse)

    def _message_index(self, account: str, folder: str, sort: str, reverse: bool) -> array[int]:
        order = ORDERS[sort][1 if reverse else 0]
        with self._connection() as conn:
            return id_column(
                conn,
                f"SELECT id AS v FROM messages WHERE folder_id = {_FOLDER_ID} AND hidden = 0"
                f" ORDER BY {order}",
                (account, folder),
            )

    def prefetch_index(
        self, account: str, folder: str, sort: str = "date", reverse: bool = False
    ) -> None:
        """Start reading one list's order in a thread, for the next :meth:`message_index` call to
        take if it asks for the same list (any other call drops it).

        A start does this before importing the UI: SQLite reads without the GIL, so the list is
        ready by the time the screen is. The result is only as fresh as the moment it was read,
        so whoever writes to the file must :meth:`drop_prefetch` first.
        """
        future: Future[array[int]] = Future()

        def read() -> None:
            try:
                future.set_result(self._message_index(account, folder, sort, reverse))
            except BaseException as exc:  # noqa: BLE001 - handed to whoever takes the result
                future.set_exception(exc)

        with self._lock:
            self._prefetched = ((account, folder, sort, reverse), future)
        threading.Thread(target=read, name="mailbag-prefetch", daemon=True).start()

    def prefetched_index(
        self, account: str, folder: str, sort: str = "date", reverse: bool = False
    ) -> array[int] | None:
        """The prefetched list order if it is this list and already read (taking it), else None;
        never waits."""
        with self._lock:
            prefetched = self._prefetched
            if prefetched is None or prefetched[0] != (account, folder, sort, reverse):
                return None
            future = prefetched[1]
            if not future.done() or future.exception() is not None:
                return None
            self._prefetched = None
        return future.result()

    def drop_prefetch(self) -> None:
        """Forget a prefetched list (the file is about to change)."""
        with self._lock:
            self._prefetched = None

    def message_index_many(
        self, places: Sequence[tuple[str, str]], sort: str = "date", reverse: bool = False
    ) -> array[int]:
        """Row ids of the visible messages of several (account, folder) places in one list
        (the unified inbox)."""
        if not places:
            return array("q")
        order = ORDERS[sort][1 if reverse else 0]
        pairs = ",".join(["(?, ?)"] * len(places))
        params = [name for place in places for name in place]
        with self._connection() as conn:
            return id_column(
                conn,
                "SELECT id AS v FROM messages WHERE folder_id IN (SELECT folders.id FROM folders"
                " JOIN accounts ON folders.account_id = accounts.id"
                f" WHERE (accounts.name, folders.name) IN (VALUES {pairs})) AND hidden = 0"
                f" ORDER BY {order}",
                params,
            )

    def row_ids(self, account: str, folder: str, uids: Iterable[int]) -> list[int]:
        """Row ids of the folder's cached messages with these UIDs."""
        with self._connection() as conn:
            return _row_ids(conn, account, folder, uids)

    def uids_with_message_id(self, account: str, folder: str, message_id: str) -> list[int]:
        """UIDs (ascending) of the folder's cached messages whose Message-ID is ``message_id``."""
        sql = f"SELECT uid FROM messages WHERE folder_id = {_FOLDER_ID} AND message_id = ? ORDER BY uid"
        with self._connection() as conn:
            return [r[0] for r in conn.execute(sql, (account, folder, message_id))]

    def message_with_id(self, account: str, message_id: str) -> tuple[str, int] | None:
        """(folder, uid) of the account's cached message whose Message-ID is ``message_id``,
        outside Drafts (the Inbox's first, else the newest); None when the cache has none."""
        if not message_id:
            return None
        sql = (
            "SELECT folders.name, m.uid FROM messages AS m JOIN folders ON m.folder_id = folders.id"
            " JOIN accounts ON folders.account_id = accounts.id WHERE accounts.name = ?"
            " AND m.message_id = ? AND m.hidden = 0 AND folders.role != ?"
            " ORDER BY folders.role = ? DESC, m.date DESC LIMIT 1"
        )
        with self._connection() as conn:
            row = conn.execute(sql, (account, message_id, FolderRole.DRAFTS.value, FolderRole.INBOX.value)).fetchone()
        return None if row is None else (row[0], int(row[1]))

    def known_addresses(self, limit: int = 20000) -> list[Address]:
        """Addresses seen in the cache, most used first: who wrote to the user (From of every
        message), and whom the user wrote to (To and Cc in Sent folders)."""
        counts: dict[str, tuple[int, Address]] = {}
        with self._connection() as conn:
            conn.execute("BEGIN")
            for encoded, count in conn.execute(_ADDRESSES, (FolderRole.SENT.value,)):
                for address in codec.decode_addresses(encoded):
                    key = address.email.lower()
                    if "@" not in key:
                        continue
                    seen, known = counts.get(key, (0, address))
                    counts[key] = (seen + count, known if known.name else address)
            conn.execute("COMMIT")
        ranked = sorted(counts.values(), key=lambda item: -item[0])
        return [address for _, address in ranked[:limit]]

    def rows(self, row_ids: Sequence[int]) -> list[MessageRow]:
        """The message rows with these ids, in the order asked; ids not in the cache, and rows a
        move or delete waiting for the server hides, are left out."""
        if not row_ids:
            return []
        with self._connection() as conn:
            conn.execute("BEGIN")  # one snapshot for every chunk
            found = _rows(conn, row_ids)
            conn.execute("COMMIT")
        return found


def _folders(conn: sqlite3.Connection, account: str) -> list[Folder]:
    result = [
        Folder(
            account=account,
            name=name,
            delimiter=delimiter,
            role=FolderRole(role),
            attributes=codec.decode_atoms(attributes),
            total=total,
            unread=unread,
        )
        for name, delimiter, role, attributes, total, unread in conn.execute(_FOLDERS, (account,))
    ]
    result.sort(key=lambda f: (ROLE_ORDER[f.role], f.name.casefold(), f.name))
    return result


def _row_ids(conn: sqlite3.Connection, account: str, folder: str, uids: Iterable[int]) -> list[int]:
    found: list[int] = []
    for chunk in chunks(list(uids)):
        sql = (
            f"SELECT id FROM messages WHERE folder_id = {_FOLDER_ID}"
            f" AND uid IN ({','.join('?' * len(chunk))})"
        )
        found.extend(r[0] for r in conn.execute(sql, (account, folder, *chunk)))
    return found


def _rows(conn: sqlite3.Connection, row_ids: Sequence[int]) -> list[MessageRow]:
    wanted = list(row_ids)
    found: dict[int, MessageRow] = {}
    for chunk in chunks(wanted):
        sql = _ROWS.format(marks=",".join("?" * len(chunk)))
        for r in conn.execute(sql, chunk):
            found[r[0]] = message_row(r)
    return [found[i] for i in wanted if i in found]
