"""The local cache: folders, message summaries and bodies per account; and, as ``Store.local``,
the local store of what exists only here (see ``mailbag.store.local``).

Every method is synchronous and safe to call from several threads at once: the service layer writes from
its worker thread while the UI reads small pages. Each write is one ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.dialects.sqlite import insert

from mailbag.domain.models import (
    SEEN,
    Address,
    Folder,
    FolderState,
    MessageRow,
    MessageSummary,
)
from mailbag.domain.search import FolderTerm, Query
from mailbag.domain.threading import ThreadRecord
from mailbag.store import codec
from mailbag.store.engine import create_engine_for, read_connection, write_connection
from mailbag.store.local import LocalStore, local_path_for
from mailbag.store.migrate import ensure_schema
from mailbag.store.reader import CHUNK, CacheReader, chunks, id_column
from mailbag.store.schema import accounts, bodies, folders, messages
from mailbag.store.search import (
    body_text,
    copy_body_text,
    index_backlog,
    index_pending,
    index_range,
    index_row,
    last_message_id,
    matching_folders,
    search_row_ids,
    unindex_folder,
)

#: Messages indexed for search per write transaction (about 0.1 s of work; a sync's writes wait
#: no longer than that for the lock).
INDEX_BATCH = 4000

_ROW_COLUMNS = (
    messages.c.id,
    accounts.c.name,
    folders.c.name,
    messages.c.uid,
    messages.c.flags,
    messages.c.date,
    messages.c.date_offset,
    messages.c.size,
    messages.c.subject,
    messages.c.sender,
    messages.c.sender_email,
    messages.c.has_attachment,
    exists().where(bodies.c.message_row == messages.c.id),
)
_FOLDER_JOIN = messages.join(folders, messages.c.folder_id == folders.c.id).join(
    accounts, folders.c.account_id == accounts.c.id
)

#: Columns written by :meth:`Store.upsert_summaries`, in the order of :func:`_summary_params`.
_SUMMARY_COLUMNS = (
    "folder_id",
    "uid",
    "flags",
    "unread",
    "date",
    "date_offset",
    "size",
    "subject",
    "sender",
    "sender_email",
    "from_addrs",
    "to_addrs",
    "cc_addrs",
    "reply_to_addrs",
    "message_id",
    "in_reply_to",
    "refs",
    "has_attachment",
    "modseq",
)
_SUMMARY_UPDATED = tuple(name for name in _SUMMARY_COLUMNS if name not in ("folder_id", "uid"))


def _compile_upsert() -> str:
    """The summary upsert of one row as driver SQL with positional parameters (compiled once).

    A conflicting row is rewritten only when some value differs, so re-syncing an unchanged folder
    costs no index updates.
    """
    stmt = insert(messages).values({name: bindparam(name) for name in _SUMMARY_COLUMNS})
    stmt = stmt.on_conflict_do_update(
        index_elements=[messages.c.folder_id, messages.c.uid],
        set_={name: stmt.excluded[name] for name in _SUMMARY_UPDATED},
        where=or_(
            *(messages.c[name].is_distinct_from(stmt.excluded[name]) for name in _SUMMARY_UPDATED)
        ),
    )
    compiled = stmt.compile(dialect=sqlite_dialect())
    if set(_SUMMARY_COLUMNS) != set(messages.c.keys()) - {"id", "hidden"}:
        raise RuntimeError("summary upsert does not cover every column of messages")
    if tuple(compiled.positiontup or ()) != _SUMMARY_COLUMNS:
        raise RuntimeError("summary upsert parameters out of order")
    return str(compiled)


_UPSERT_SUMMARY_SQL = _compile_upsert()
_UPSERT_HEAD, _UPSERT_ROW, _UPSERT_TAIL = re.fullmatch(
    r"(.*? VALUES )(\([?, ]+\))(.*)", _UPSERT_SUMMARY_SQL, re.DOTALL
).groups()  # type: ignore[union-attr]
#: Rows per upsert statement. One statement writes them all in one step of SQLite, which runs
#: without the GIL: far fewer hand-overs with the thread parsing the next batch than one step per
#: row (executemany), and less work per row. 250 rows bind 4,750 values (SQLite allows 32,766).
UPSERT_ROWS = 250


@lru_cache(maxsize=4)
def _upsert_rows_sql(count: int) -> str:
    """The summary upsert of ``count`` rows in one statement."""
    return _UPSERT_HEAD + ", ".join([_UPSERT_ROW] * count) + _UPSERT_TAIL

_UPDATE_FLAGS = (
    update(messages)
    .where(messages.c.folder_id == bindparam("fid"), messages.c.uid == bindparam("u"))
    .values(flags=bindparam("new_flags"), unread=bindparam("new_unread"))
)


@lru_cache(maxsize=4096)
def _encoded_addresses(addresses: tuple[Address, ...]) -> str:
    """codec.encode_addresses, remembered: the same correspondents come back again and again."""
    return codec.encode_addresses(addresses)


@lru_cache(maxsize=4096)
def _sender_columns(from_: tuple[Address, ...]) -> tuple[str, str, str]:
    """(sender, sender_email, from_addrs) of a From list."""
    first = from_[0] if from_ else None
    return (first.display() if first else "", first.email if first else "",
            codec.encode_addresses(from_))


def _summary_params(folder_id: int, s: MessageSummary) -> tuple[Any, ...]:
    """One summary as the values of :data:`_SUMMARY_COLUMNS`."""
    epoch, offset = codec.encode_date(s.date)
    sender, sender_email, from_addrs = _sender_columns(s.from_)
    return (
        folder_id,
        s.uid,
        codec.encode_atoms(s.flags),
        0 if SEEN in s.flags else 1,
        epoch,
        offset,
        s.size,
        s.subject,
        sender,
        sender_email,
        from_addrs,
        _encoded_addresses(s.to) if s.to else "",
        _encoded_addresses(s.cc) if s.cc else "",
        _encoded_addresses(s.reply_to) if s.reply_to else "",
        s.message_id,
        s.in_reply_to,
        codec.encode_ids(s.references) if s.references else "",
        1 if s.has_attachment else 0,
        s.modseq,
    )


class Store:
    """The SQLite cache of one mailbag installation (all accounts share one file)."""

    def __init__(self, engine: Engine, reader: CacheReader, local: LocalStore) -> None:
        self._engine = engine
        #: The reads that paint the tree and the list (plain ``sqlite3``, see its module).
        self.reader = reader
        #: The journal and the outbox, in their own file (never part of the disposable cache).
        self.local = local

    @classmethod
    def open(
        cls, path: Path, reader: CacheReader | None = None, local: LocalStore | None = None
    ) -> Store:
        """Open (creating, rebuilding or migrating as needed) the cache file at ``path`` and the
        local store beside it; ``reader`` and ``local`` are ones already open, if any. Raises
        LocalStoreDamaged when the local store cannot be trusted."""
        local = local or LocalStore.open(local_path_for(path))
        try:
            engine = create_engine_for(path)
            ensure_schema(engine, local)
        except BaseException:
            local.close()
            raise
        return cls(engine, reader or CacheReader(path), local)

    def close(self) -> None:
        """Release every connection. The store must not be used afterwards."""
        self._engine.dispose()
        self.reader.close()
        self.local.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ---- folders ------------------------------------------------------------------------------------

    def replace_folders(self, account: str, folder_list: Sequence[Folder]) -> list[str]:
        """Store the account's folder list as the server has it now; the names of the folders
        dropped.

        New folders are added with their counts; folders already cached keep their counts and sync
        state (use :meth:`set_counts`) and take the new delimiter, role and attributes. Folders absent
        from ``folder_list`` are dropped with their messages and bodies; a folder listed ``\\Noselect``
        keeps no messages or counts.
        """
        with write_connection(self._engine) as conn:
            account_id = self._ensure_account(conn, account)
            if folder_list:
                stmt = insert(folders)
                stmt = stmt.on_conflict_do_update(
                    index_elements=[folders.c.account_id, folders.c.name],
                    set_={
                        "delimiter": stmt.excluded.delimiter,
                        "role": stmt.excluded.role,
                        "attributes": stmt.excluded.attributes,
                    },
                )
                conn.execute(
                    stmt,
                    [
                        {
                            "account_id": account_id,
                            "name": f.name,
                            "delimiter": f.delimiter,
                            "role": f.role.value,
                            "attributes": codec.encode_atoms(f.attributes),
                            "total": f.total,
                            "unread": f.unread,
                        }
                        for f in folder_list
                    ],
                )
            keep = {f.name for f in folder_list}
            noselect = {f.name for f in folder_list if not f.selectable}
            cached = conn.execute(
                select(folders.c.id, folders.c.name).where(folders.c.account_id == account_id)
            ).all()
            gone = [(fid, name) for fid, name in cached if name not in keep]
            self._drop_folders(conn, [fid for fid, _name in gone])
            # A folder that holds no messages now (Courier keeps a deleted parent as \Noselect)
            for fid in (fid for fid, name in cached if name in noselect):
                self._empty_folder(conn, fid)
                conn.execute(update(folders).where(folders.c.id == fid).values(total=0, unread=0))
        return [name for _fid, name in gone]

    def drop_folder(self, account: str, folder: str) -> None:
        """Forget the folder with its messages, bodies and search rows (deleted on the server)."""
        with write_connection(self._engine) as conn:
            folder_id = self._folder_id(conn, account, folder)
            if folder_id is not None:
                self._drop_folders(conn, [folder_id])

    @staticmethod
    def _drop_folders(conn: Connection, folder_ids: Sequence[int]) -> None:
        for chunk in chunks(folder_ids):
            for folder_id in chunk:
                unindex_folder(conn, folder_id)
            conn.execute(delete(folders).where(folders.c.id.in_(chunk)))

    def folders(self, account: str) -> list[Folder]:
        """The account's cached folders in display order: by role (Inbox first), then by name."""
        return self.reader.folders(account)

    def set_counts(self, account: str, folder: str, total: int, unread: int) -> None:
        """Record the counts the server reported (STATUS); the folder row is created when missing."""
        with write_connection(self._engine) as conn:
            folder_id = self._ensure_folder(conn, account, folder)
            conn.execute(
                update(folders).where(folders.c.id == folder_id).values(total=total, unread=unread)
            )

    def folder_state(self, account: str, folder: str) -> FolderState | None:
        """The folder's sync position, or None when it was never synced (or was reset)."""
        query = (
            select(
                folders.c.uidvalidity,
                folders.c.uidnext,
                folders.c.highestmodseq,
                folders.c.complete,
            )
            .select_from(folders.join(accounts, folders.c.account_id == accounts.c.id))
            .where(accounts.c.name == account, folders.c.name == folder)
        )
        with read_connection(self._engine) as conn:
            row = conn.execute(query).first()
        if row is None or row.uidvalidity is None:
            return None
        return FolderState(row.uidvalidity, row.uidnext, row.highestmodseq, bool(row.complete))

    def set_folder_state(self, account: str, folder: str, state: FolderState) -> None:
        """Record the folder's sync position; the folder row is created when missing."""
        with write_connection(self._engine) as conn:
            folder_id = self._ensure_folder(conn, account, folder)
            self._write_state(conn, folder_id, state)

    def begin_full_sync(self, account: str, folder: str, uidvalidity: int) -> int:
        """Mark the folder as being fully synced under ``uidvalidity`` (incomplete until
        :meth:`finish_full_sync`). Cached messages of another UIDVALIDITY are dropped in the same
        transaction, so no row of the old folder outlives the new value. Returns how many went."""
        with write_connection(self._engine) as conn:
            folder_id = self._ensure_folder(conn, account, folder)
            old = conn.execute(
                select(folders.c.uidvalidity).where(folders.c.id == folder_id)
            ).scalar_one()
            dropped = 0
            if old is not None and old != uidvalidity:
                unindex_folder(conn, folder_id)
                dropped = conn.execute(
                    delete(messages).where(messages.c.folder_id == folder_id)
                ).rowcount
            self._write_state(conn, folder_id, FolderState(uidvalidity, complete=False))
        return int(dropped)

    def finish_full_sync(
        self, account: str, folder: str, present: Iterable[int], state: FolderState
    ) -> int:
        """End a full sync: drop the cached messages below ``state.uidnext`` (all, when it is 0)
        that are not in ``present`` (every UID the server listed), and record ``state`` as
        complete, in one transaction. Returns how many messages were dropped."""
        listed = set(present)
        with write_connection(self._engine) as conn:
            folder_id = self._ensure_folder(conn, account, folder)
            cached = id_column(
                conn.connection.driver_connection,  # type: ignore[arg-type]
                "SELECT uid AS v FROM messages WHERE folder_id = ? ORDER BY uid",
                (folder_id,),
            )
            bound = state.uidnext or None
            gone = [u for u in cached if u not in listed and (bound is None or u < bound)]
            removed = self._delete_uids(conn, folder_id, gone)
            self._write_state(conn, folder_id, FolderState(
                state.uidvalidity, state.uidnext, state.highestmodseq, complete=True
            ))
        return removed

    @staticmethod
    def _write_state(conn: Connection, folder_id: int, state: FolderState) -> None:
        conn.execute(
            update(folders)
            .where(folders.c.id == folder_id)
            .values(
                uidvalidity=state.uidvalidity,
                uidnext=state.uidnext,
                highestmodseq=state.highestmodseq,
                complete=1 if state.complete else 0,
            )
        )

    def reset_folder(self, account: str, folder: str) -> None:
        """Forget the folder's messages, bodies and sync position (its UIDVALIDITY changed).

        The local store (pending actions, outbox) is another file, untouched. Record the new position with
        :meth:`set_folder_state` once the folder is synced again.
        """
        with write_connection(self._engine) as conn:
            folder_id = self._folder_id(conn, account, folder)
            if folder_id is not None:
                self._empty_folder(conn, folder_id)

    @staticmethod
    def _empty_folder(conn: Connection, folder_id: int) -> None:
        """Drop the folder's messages, bodies and search rows, and its sync position."""
        unindex_folder(conn, folder_id)
        conn.execute(delete(messages).where(messages.c.folder_id == folder_id))
        conn.execute(
            update(folders)
            .where(folders.c.id == folder_id)
            .values(uidvalidity=None, uidnext=0, highestmodseq=0, complete=0)
        )

    def rename_folder(self, account: str, folder: str, new_name: str, delimiter: str | None) -> None:
        """The folder (and those below it, by ``delimiter``) renamed on the server: its messages,
        bodies and sync position go with it, so nothing is fetched again. A row already cached
        under a new name (a folder the server had before) is dropped first."""
        with write_connection(self._engine) as conn:
            account_id = self._ensure_account(conn, account)
            rows = conn.execute(
                select(folders.c.id, folders.c.name).where(folders.c.account_id == account_id)
            ).all()
            below = folder + delimiter if delimiter else None
            renamed = {
                fid: new_name + name[len(folder):]
                for fid, name in rows
                if name == folder or (below and name.startswith(below))
            }
            names = set(renamed.values())
            for fid, name in rows:
                if name in names and fid not in renamed:
                    unindex_folder(conn, fid)
                    conn.execute(delete(folders).where(folders.c.id == fid))
            for fid in renamed:  # out of the way first: a new name may be an old one's
                conn.execute(update(folders).where(folders.c.id == fid).values(name=f"\x00{fid}"))
            for fid, name in renamed.items():
                conn.execute(update(folders).where(folders.c.id == fid).values(name=name))

    # ---- message summaries ----------------------------------------------------------------------------

    def upsert_summaries(
        self, account: str, folder: str, summaries: Sequence[MessageSummary]
    ) -> int:
        """Insert or update these summaries (the server's view) in one transaction; returns how
        many were written.

        A message already cached keeps its row id and its cached body. The user's changes the
        server may not have yet are kept (see :meth:`LocalStore.pending_overlay`): pending flag
        changes are laid over the server's flags, and a message a pending move or expunge hides
        stays hidden.
        """
        if not summaries:
            return 0
        with write_connection(self._engine) as conn:
            folder_id = self._ensure_folder(conn, account, folder)
            # Read inside the write transaction: an action journalled after this point updates
            # the cache after this write, never before it.
            overlay = self.local.pending_overlay(account, folder)
            if overlay:
                summaries = [
                    s._replace(flags=overlay.flags(s.uid, s.flags)) for s in summaries
                ]
            # Straight to the driver: this is the bulk path of every sync. New rows reach the
            # search index later (index_pending), so the sync does not wait for it.
            driver = conn.connection.driver_connection
            for start in range(0, len(summaries), UPSERT_ROWS):
                part = summaries[start : start + UPSERT_ROWS]
                values = [v for s in part for v in _summary_params(folder_id, s)]
                driver.execute(_upsert_rows_sql(len(part)), values)  # type: ignore[union-attr]
            if overlay.hidden:
                self._hide(conn, folder_id, overlay.hidden)
        return len(summaries)

    def update_server_flags(
        self, account: str, folder: str, changes: Sequence[tuple[int, frozenset[str]]]
    ) -> int:
        """Set the flags the server reports (uid, flags) with the user's pending flag changes
        laid on top, so that a sync never undoes them; returns how many cached messages' flags
        changed. Only those are written: a full compare (a Maildir's rescan, a server without
        CONDSTORE) reports every message, most of them as they were."""
        if not changes:
            return 0
        with write_connection(self._engine) as conn:
            overlay = self.local.pending_overlay(account, folder)
            if overlay.flag_changes:
                changes = [(uid, overlay.flags(uid, flags)) for uid, flags in changes]
            folder_id = self._folder_id(conn, account, folder)
            if folder_id is None:
                return 0
            cached = self._cached_flags(conn, folder_id, [uid for uid, _flags in changes])
            changes = [(uid, flags) for uid, flags in changes
                       if uid in cached and cached[uid] != codec.encode_atoms(flags)]
            return self._update_flags(conn, account, folder, changes) if changes else 0

    @staticmethod
    def _cached_flags(conn: Connection, folder_id: int, uids: Sequence[int]) -> dict[int, str]:
        """uid -> encoded flags of the cached messages among ``uids`` (the whole folder read in
        one pass when they are many)."""
        query = select(messages.c.uid, messages.c.flags).where(messages.c.folder_id == folder_id)
        if len(uids) > CHUNK:
            wanted = set(uids)
            return {uid: flags for uid, flags in conn.execute(query) if uid in wanted}
        return {uid: flags for chunk in chunks(sorted(set(uids))) for uid, flags in
                conn.execute(query.where(messages.c.uid.in_(chunk)))}

    def update_flags(
        self, account: str, folder: str, changes: Sequence[tuple[int, frozenset[str]]]
    ) -> int:
        """Set the flags of cached messages (uid, flags); returns how many messages were found.
        The folder's unread count follows in the same transaction."""
        if not changes:
            return 0
        uids = [uid for uid, _flags in changes]
        with write_connection(self._engine) as conn:
            folder_id = self._folder_id(conn, account, folder)
            _total, unread_before = self._visible_counts(conn, folder_id, uids)
            found = self._update_flags(conn, account, folder, changes)
            _total, unread_after = self._visible_counts(conn, folder_id, uids)
            self._shift_counts(conn, folder_id, 0, unread_after - unread_before)
            return found

    @staticmethod
    def _visible_counts(conn: Connection, folder_id: int | None, uids: Iterable[int]) -> tuple[int, int]:
        """(total, unread) of the visible messages of the folder with these uids."""
        total = unread = 0
        if folder_id is None:
            return 0, 0
        for chunk in chunks(sorted(set(uids))):
            query = select(func.count(), func.coalesce(func.sum(messages.c.unread), 0)).where(
                messages.c.folder_id == folder_id, messages.c.uid.in_(chunk), messages.c.hidden == 0
            )
            count, unseen = conn.execute(query).one()
            total, unread = total + int(count), unread + int(unseen)
        return total, unread

    @staticmethod
    def _shift_counts(conn: Connection, folder_id: int | None, total: int, unread: int) -> None:
        """Move the folder's recorded counts by (total, unread), never below zero."""
        if folder_id is None or not (total or unread):
            return
        conn.execute(
            update(folders)
            .where(folders.c.id == folder_id)
            .values(
                total=func.max(folders.c.total + total, 0),
                unread=func.max(folders.c.unread + unread, 0),
            )
        )

    def _update_flags(
        self,
        conn: Connection,
        account: str,
        folder: str,
        changes: Sequence[tuple[int, frozenset[str]]],
    ) -> int:
        folder_id = self._folder_id(conn, account, folder)
        if folder_id is None:
            return 0
        result = conn.execute(
            _UPDATE_FLAGS,
            [
                {
                    "fid": folder_id,
                    "u": uid,
                    "new_flags": codec.encode_atoms(flags),
                    "new_unread": 0 if SEEN in flags else 1,
                }
                for uid, flags in changes
            ],
        )
        return int(result.rowcount)

    def remove_uids(self, account: str, folder: str, uids: Iterable[int]) -> int:
        """Drop these messages (and their bodies); returns how many were cached."""
        wanted = sorted(set(uids))
        if not wanted:
            return 0
        with write_connection(self._engine) as conn:
            folder_id = self._folder_id(conn, account, folder)
            if folder_id is None:
                return 0
            return self._delete_uids(conn, folder_id, wanted)

    @staticmethod
    def _delete_uids(conn: Connection, folder_id: int, uids: Sequence[int]) -> int:
        removed = 0
        for chunk in chunks(uids):
            unindex_folder(conn, folder_id, chunk)
            result = conn.execute(
                delete(messages).where(messages.c.folder_id == folder_id, messages.c.uid.in_(chunk))
            )
            removed += result.rowcount
        return removed

    def uids(self, account: str, folder: str) -> list[int]:
        """The cached UIDs of the folder, ascending."""
        with read_connection(self._engine) as conn:
            folder_id = self._folder_id(conn, account, folder)
            if folder_id is None:
                return []
            return list(
                id_column(
                    conn.connection.driver_connection,  # type: ignore[arg-type]
                    "SELECT uid AS v FROM messages WHERE folder_id = ? ORDER BY uid",
                    (folder_id,),
                )
            )

    def counts(self, account: str, folder: str) -> tuple[int, int]:
        """(total, unread) of the cached messages of the folder."""
        with read_connection(self._engine) as conn:
            folder_id = self._folder_id(conn, account, folder)
            if folder_id is None:
                return 0, 0
            query = select(func.count(), func.coalesce(func.sum(messages.c.unread), 0)).where(
                messages.c.folder_id == folder_id, messages.c.hidden == 0
            )
            total, unread = conn.execute(query).one()
        return int(total), int(unread)

    def counts_of(self, account: str, folder: str, uids: Iterable[int]) -> tuple[int, int]:
        """(total, unread) of these cached messages of the folder, hidden ones too."""
        total = unread = 0
        with read_connection(self._engine) as conn:
            folder_id = self._folder_id(conn, account, folder)
            if folder_id is None:
                return 0, 0
            for chunk in chunks(sorted(set(uids))):
                query = select(func.count(), func.coalesce(func.sum(messages.c.unread), 0)).where(
                    messages.c.folder_id == folder_id, messages.c.uid.in_(chunk)
                )
                count, unseen = conn.execute(query).one()
                total, unread = total + int(count), unread + int(unseen)
        return total, unread

    def message_index(
        self, account: str, folder: str, sort: str = "date", reverse: bool = False
    ) -> array[int]:
        """Row ids of the folder's visible messages in list order (see :class:`CacheReader`)."""
        return self.reader.message_index(account, folder, sort, reverse)

    def thread_records(self, account: str, folder: str) -> list[ThreadRecord]:
        """What threading needs of every visible message of the folder."""
        with read_connection(self._engine) as conn:
            folder_id = self._folder_id(conn, account, folder)
            if folder_id is None:
                return []
            cursor = conn.connection.driver_connection.execute(  # type: ignore[union-attr]
                "SELECT id, message_id, in_reply_to, refs, subject, date FROM messages"
                " WHERE folder_id = ? AND hidden = 0",
                (folder_id,),
            )
            try:
                return [
                    ThreadRecord(row_id, mid, irt, codec.decode_ids(refs), subject, date)
                    for row_id, mid, irt, refs, subject, date in cursor
                ]
            finally:
                cursor.close()

    def row_ids_for(self, account: str, folder: str, uids: Iterable[int]) -> list[int]:
        """The cache's row ids of these UIDs (the ones it holds, hidden ones left out)."""
        found: list[int] = []
        with read_connection(self._engine) as conn:
            folder_id = self._folder_id(conn, account, folder)
            if folder_id is None:
                return []
            for chunk in chunks(sorted(set(uids))):
                query = select(messages.c.id).where(
                    messages.c.folder_id == folder_id,
                    messages.c.uid.in_(chunk),
                    messages.c.hidden == 0,
                )
                found.extend(conn.execute(query).scalars())
        return found

    def set_hidden(
        self, account: str, folder: str, uids: Iterable[int], hidden: bool, target: str = ""
    ) -> int:
        """Hide messages from lists and counts while a move or delete waits for the server
        (or show them again when it is rolled back). The recorded counts of the folder, and of
        the ``target`` they are moved to, follow in the same transaction, so that a reader
        never sees the rows changed without the counts."""
        wanted = sorted(set(uids))
        with write_connection(self._engine) as conn:
            folder_id = self._folder_id(conn, account, folder)
            if folder_id is None:
                return 0
            visible_before = self._visible_counts(conn, folder_id, wanted)
            changed = self._hide(conn, folder_id, wanted, hidden)
            visible_after = self._visible_counts(conn, folder_id, wanted)
            total = visible_after[0] - visible_before[0]
            unread = visible_after[1] - visible_before[1]
            self._shift_counts(conn, folder_id, total, unread)
            if target:
                self._shift_counts(conn, self._folder_id(conn, account, target), -total, -unread)
            return changed

    @staticmethod
    def _hide(conn: Connection, folder_id: int, uids: Iterable[int], hidden: bool = True) -> int:
        changed = 0
        for chunk in chunks(sorted(uids)):
            result = conn.execute(
                update(messages)
                .where(messages.c.folder_id == folder_id, messages.c.uid.in_(chunk))
                .values(hidden=1 if hidden else 0)
            )
            changed += result.rowcount
        return changed

    def copy_to(self, account: str, folder: str, target: str, uid_map: Mapping[int, int]) -> int:
        """Copy cached messages (and bodies) of ``folder`` into ``target`` under their new UIDs
        (from COPYUID), so a moved message shows in its new folder before the next sync."""
        if not uid_map:
            return 0
        copied = 0
        data_columns = [c for c in messages.c if c.name not in ("id", "folder_id", "uid", "hidden")]
        with write_connection(self._engine) as conn:
            source_id = self._folder_id(conn, account, folder)
            if source_id is None:
                return 0
            target_id = self._ensure_folder(conn, account, target)
            last_id = last_message_id(conn)
            copied_bodies: list[tuple[int, int]] = []
            for old_uid, new_uid in sorted(uid_map.items()):
                source = conn.execute(
                    select(messages.c.id, *data_columns).where(
                        messages.c.folder_id == source_id, messages.c.uid == old_uid
                    )
                ).first()
                if source is None:
                    continue
                values = {c.name: source._mapping[c.name] for c in data_columns}
                values.update(folder_id=target_id, uid=new_uid, hidden=0)
                exists = conn.execute(
                    select(messages.c.id).where(
                        messages.c.folder_id == target_id, messages.c.uid == new_uid
                    )
                ).first()
                if exists is not None:
                    continue
                new_id = conn.execute(messages.insert().values(**values)).lastrowid
                body = conn.execute(
                    select(bodies.c.raw).where(bodies.c.message_row == source.id)
                ).first()
                if body is not None:
                    conn.execute(bodies.insert().values(message_row=new_id, raw=body.raw))
                    copied_bodies.append((source.id, new_id))
                copied += 1
            index_range(conn, last_id, last_message_id(conn))
            for source_row, new_row in copied_bodies:
                copy_body_text(conn, source_row, new_row)
        return copied

    def rows(self, row_ids: Sequence[int]) -> list[MessageRow]:
        """The message rows with these ids, in the order asked; ids not in the cache and hidden
        rows are left out."""
        return self.reader.rows(row_ids)

    def row(self, row_id: int) -> MessageRow | None:
        """One message row, or None when it is not cached."""
        result = self.rows([row_id])
        return result[0] if result else None

    def summary(self, account: str, folder: str, uid: int) -> MessageSummary | None:
        """The full cached summary of one message, or None."""
        m = messages.c
        query = (
            select(messages)
            .select_from(_FOLDER_JOIN)
            .where(accounts.c.name == account, folders.c.name == folder, m.uid == uid)
        )
        with read_connection(self._engine) as conn:
            r = conn.execute(query).first()
        if r is None:
            return None
        return MessageSummary(
            uid=r.uid,
            flags=codec.decode_atoms(r.flags),
            date=codec.decode_date(r.date, r.date_offset),
            size=r.size,
            subject=r.subject,
            from_=codec.decode_addresses(r.from_addrs),
            to=codec.decode_addresses(r.to_addrs),
            cc=codec.decode_addresses(r.cc_addrs),
            reply_to=codec.decode_addresses(r.reply_to_addrs),
            message_id=r.message_id,
            in_reply_to=r.in_reply_to,
            references=codec.decode_ids(r.refs),
            has_attachment=bool(r.has_attachment),
            modseq=r.modseq,
        )

    # ---- bodies -----------------------------------------------------------------------------------------

    def put_body(self, account: str, folder: str, uid: int, raw: bytes) -> None:
        """Cache the raw message and index its body text for search. Ignored when the message itself
        is not cached (expunged meanwhile)."""
        text = body_text(raw)  # rendered before the write lock is taken
        with write_connection(self._engine) as conn:
            row_id = self._row_id(conn, account, folder, uid)
            if row_id is None:
                return
            stmt = insert(bodies).values(message_row=row_id, raw=raw)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[bodies.c.message_row], set_={"raw": stmt.excluded.raw}
                )
            )
            index_row(conn, row_id, text)

    # ---- search ---------------------------------------------------------------------------------------

    def index_pending(self, limit: int = INDEX_BATCH) -> int:
        """Add up to ``limit`` not yet indexed messages to the search index, in one short write
        transaction; returns how many it covered (0 once the index is complete)."""
        with write_connection(self._engine) as conn:
            return index_pending(conn, limit)

    def index_backlog(self) -> int:
        """How many cached messages the search index does not cover yet."""
        with read_connection(self._engine) as conn:
            return index_backlog(conn)

    def search(
        self, account: str, query: Query, folder: str | None, limit: int,
        among: Sequence[int] | None = None,
    ) -> list[int]:
        """Row ids of the account's cached messages matching ``query``, newest first, at most ``limit``.

        Searches ``folder`` (every folder of the account when None); ``folder:NAME`` terms in the
        query choose the folders instead, ``-folder:NAME`` leaves folders out. Messages hidden by a
        pending move are not found. Messages not indexed yet are indexed first. ``among``: only
        these row ids can be found.
        """
        while self.index_pending():
            pass
        with read_connection(self._engine) as conn:
            account_folders = conn.execute(
                select(folders.c.id, folders.c.name, folders.c.delimiter)
                .select_from(folders.join(accounts, folders.c.account_id == accounts.c.id))
                .where(accounts.c.name == account)
            ).all()
            rows = [(r[0], r[1], r[2]) for r in account_folders]
            named = query.folders()
            if named:
                ids = matching_folders(rows, named)
            elif folder is not None:
                ids = {r[0] for r in rows if r[1] == folder}
            else:
                ids = {r[0] for r in rows}
            excluded = [t.name for t in query.terms if isinstance(t, FolderTerm) and t.negated]
            ids -= matching_folders(rows, excluded)
            return search_row_ids(conn, query, sorted(ids), limit, among)

    def body(self, account: str, folder: str, uid: int) -> bytes | None:
        """The cached raw message, or None when it has not been fetched."""
        query = (
            select(bodies.c.raw)
            .select_from(_FOLDER_JOIN.join(bodies, bodies.c.message_row == messages.c.id))
            .where(accounts.c.name == account, folders.c.name == folder, messages.c.uid == uid)
        )
        with read_connection(self._engine) as conn:
            raw = conn.execute(query).scalar_one_or_none()
        return bytes(raw) if raw is not None else None

    # ---- helpers --------------------------------------------------------------------------------------

    @staticmethod
    def _ensure_account(conn: Connection, account: str) -> int:
        conn.execute(insert(accounts).values(name=account).on_conflict_do_nothing())
        return int(
            conn.execute(select(accounts.c.id).where(accounts.c.name == account)).scalar_one()
        )

    def _ensure_folder(self, conn: Connection, account: str, folder: str) -> int:
        folder_id = self._folder_id(conn, account, folder)
        if folder_id is not None:
            return folder_id
        account_id = self._ensure_account(conn, account)
        result = conn.execute(insert(folders).values(account_id=account_id, name=folder))
        return int(result.lastrowid)

    @staticmethod
    def _folder_id(conn: Connection, account: str, folder: str) -> int | None:
        query = (
            select(folders.c.id)
            .select_from(folders.join(accounts, folders.c.account_id == accounts.c.id))
            .where(accounts.c.name == account, folders.c.name == folder)
        )
        return conn.execute(query).scalar_one_or_none()

    def _row_id(self, conn: Connection, account: str, folder: str, uid: int) -> int | None:
        folder_id = self._folder_id(conn, account, folder)
        if folder_id is None:
            return None
        query = select(messages.c.id).where(messages.c.folder_id == folder_id, messages.c.uid == uid)
        return conn.execute(query).scalar_one_or_none()
