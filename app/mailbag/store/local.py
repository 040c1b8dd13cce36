"""The local store: data that exists only on this machine, in its own file beside the cache.

The journal of triage actions not yet applied on the server, the outbox, what each POP3
account has downloaded (its UIDLs), and the folder changes sent whose cache update is not done
yet live here, in
``local.sqlite3``, so the cache (``cache.sqlite3``) can be deleted at any time. The file is written
with care: WAL with ``synchronous=FULL`` (a committed change survives a power cut), one
``BEGIN IMMEDIATE`` transaction per change, mode 0600. It is migrated forward, never dropped, and
checked when opened: a file SQLite reports as damaged raises :class:`LocalStoreDamaged`, and nothing
is replayed from it.

Plain ``sqlite3`` (no SQLAlchemy): a start opens it before the first frame, and it holds few rows.
One connection serves every thread, behind a lock.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mailbag.domain.models import MarkWhenSent
from mailbag.paths import try_lock
from mailbag.store.records import FolderChange, OutboxItem, PendingAction, PendingOverlay, Pop3Download

#: The local store's file name, next to the cache file.
LOCAL_FILE = "local.sqlite3"
#: Held (flock) by the one process that sends the outbox.
OUTBOX_LOCK_FILE = "outbox.lock"
#: Held (flock) by the process sending an account's journal; the account's name is hashed in.
JOURNAL_LOCK_FILE = "journal-{}.lock"
#: How long (seconds) a writer waits for another process holding the file's lock.
BUSY_TIMEOUT = 30.0

#: Journal states. An action is replayed while it is pending or in flight (sent, no answer seen).
PENDING, IN_FLIGHT, DONE, FAILED, CANCELLED, ASIDE = (
    "pending",
    "in_flight",
    "done",
    "failed",
    "cancelled",
    "aside",
)
ACTIVE = (PENDING, IN_FLIGHT)
#: States of actions the cache shows done although the server may not have them (yet).
UNSENT = (PENDING, IN_FLIGHT, ASIDE)
#: States an action never leaves: only undo still reads it (see ``prune_actions``).
FINISHED = (DONE, FAILED, CANCELLED)

#: Journal action kinds.
FLAGS, MOVE, COPY, EXPUNGE = "flags", "move", "copy", "expunge"
#: Set in an action's args when mailbag did it on its own (an earlier version of a draft
#: removed): the user is not told of it.
HOUSEKEEPING = "housekeeping"

#: Outbox states (see :class:`mailbag.domain.models.OutgoingState`): a queued message waits; one
#: being sent may have been handed over (the server said go ahead); a sent one stays only while
#: its copy for the Sent folder is owed.
QUEUED, SENDING, SENT, HELD, UNCERTAIN = "queued", "sending", "sent", "held", "uncertain"
#: Whether a sent message still owes its copy to the Sent folder.
COPY_NONE, COPY_OWED = "", "owed"

#: POP3 download states: a message is being written (its RETR went out), or it is in the Maildir.
FETCHING, STORED = "fetching", "stored"

#: Version of the tables' shape. Raise it together with a new entry in LOCAL_MIGRATIONS.
LOCAL_VERSION = 7

#: The outbox's columns added in version 2, with their definitions.
_OUTBOX_V2 = (
    ("sender", "TEXT NOT NULL DEFAULT ''"),
    ("recipients", "TEXT NOT NULL DEFAULT ''"),
    ("subject", "TEXT NOT NULL DEFAULT ''"),
    ("send_at", "REAL"),
    ("next_attempt", "REAL NOT NULL DEFAULT 0"),
    ("copy", "TEXT NOT NULL DEFAULT ''"),
)


def _add_outbox_columns(conn: sqlite3.Connection, columns: Sequence[tuple[str, str]]) -> None:
    for name, definition in columns:
        conn.execute(f"ALTER TABLE outbox ADD COLUMN {name} {definition}")


def _outbox_v2(conn: sqlite3.Connection) -> None:
    """Version 1 -> 2: the outbox keeps the envelope, the subject, when to send, and the copy."""
    _add_outbox_columns(conn, _OUTBOX_V2)


#: The outbox's columns added in version 4: the message a reply or forward flags once sent.
_OUTBOX_V4 = (
    ("mark_account", "TEXT NOT NULL DEFAULT ''"),
    ("mark_folder", "TEXT NOT NULL DEFAULT ''"),
    ("mark_uid", "INTEGER NOT NULL DEFAULT 0"),
    ("mark_flag", "TEXT NOT NULL DEFAULT ''"),
)


def _outbox_v4(conn: sqlite3.Connection) -> None:
    """Version 3 -> 4: the outbox keeps which message a reply or forward flags once sent."""
    _add_outbox_columns(conn, _OUTBOX_V4)


def _pop3_table(*columns: str) -> str:
    return (
        "CREATE TABLE IF NOT EXISTS pop3_uidls ("
        " account TEXT NOT NULL, uidl TEXT NOT NULL, key TEXT NOT NULL,"
        " state TEXT NOT NULL, downloaded REAL NOT NULL, deleted REAL,"
        + "".join(f" {column}," for column in columns)
        + " PRIMARY KEY (account, uidl))"
    )


#: The column added in version 5: a digest of the message's bytes, which knows it again when the
#: server gives it another UIDL.
_POP3_V5 = "digest TEXT NOT NULL DEFAULT ''"
#: The column added in version 6: the size the server's listing gave the message (0: not known),
#: which tells a new message under a UIDL the server gave one it removed before.
_POP3_V6 = "size INTEGER NOT NULL DEFAULT 0"
#: The column added in version 7: the server listed the message again, under its UIDL and with its
#: bytes, after it said it had removed it (it keeps it): known from then on without a comparison.
_POP3_V7 = "relisted INTEGER NOT NULL DEFAULT 0"
_POP3_TABLE = _pop3_table(_POP3_V5, _POP3_V6, _POP3_V7)


def _pop3_v3(conn: sqlite3.Connection) -> None:
    """Version 2 -> 3: the UIDLs each POP3 account has downloaded."""
    conn.execute(_pop3_table())


def _pop3_v5(conn: sqlite3.Connection) -> None:
    """Version 4 -> 5: each downloaded message's digest."""
    conn.execute(f"ALTER TABLE pop3_uidls ADD COLUMN {_POP3_V5}")


def _pop3_v6(conn: sqlite3.Connection) -> None:
    """Version 5 -> 6: each downloaded message's size in the server's listing."""
    conn.execute(f"ALTER TABLE pop3_uidls ADD COLUMN {_POP3_V6}")


def _pop3_v7(conn: sqlite3.Connection) -> None:
    """Version 6 -> 7: whether the server keeps a message it said it removed."""
    conn.execute(f"ALTER TABLE pop3_uidls ADD COLUMN {_POP3_V7}")


#: ``LOCAL_MIGRATIONS[n]`` turns tables of version ``n`` into version ``n + 1``. A fresh file gets
#: the current shape directly and skips them.
LOCAL_MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _outbox_v2, 2: _pop3_v3, 3: _outbox_v4, 4: _pop3_v5, 5: _pop3_v6, 6: _pop3_v7,
}

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS local_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS pending_actions ("
    " id INTEGER PRIMARY KEY, account TEXT NOT NULL, folder TEXT NOT NULL,"
    " uids TEXT NOT NULL, action TEXT NOT NULL, args TEXT NOT NULL DEFAULT '{}',"
    " created REAL NOT NULL, state TEXT NOT NULL DEFAULT 'pending',"
    " attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '')",
    "CREATE INDEX IF NOT EXISTS ix_pending_actions_account_state"
    " ON pending_actions (account, state)",
    "CREATE TABLE IF NOT EXISTS outbox ("
    " id INTEGER PRIMARY KEY, account TEXT NOT NULL, raw BLOB NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'queued', attempts INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT NOT NULL DEFAULT '', created REAL NOT NULL"
    + "".join(f", {name} {definition}" for name, definition in _OUTBOX_V2 + _OUTBOX_V4)
    + ")",
    "CREATE INDEX IF NOT EXISTS ix_outbox_account_state ON outbox (account, state)",
    _POP3_TABLE,
    "CREATE TABLE IF NOT EXISTS folder_changes ("
    " id INTEGER PRIMARY KEY, account TEXT NOT NULL, folder TEXT NOT NULL, new_name TEXT,"
    " pid INTEGER NOT NULL, created REAL NOT NULL)",
)
_VERSION_KEY = "local_version"
#: With the account's name after it: its first POP3 download has run to its end.
_FIRST_DOWNLOAD_KEY = "pop3_first_download_done:"
_ACTION_COLUMNS = "id, account, folder, uids, action, args, created, state, attempts, last_error"
_OUTBOX_COLUMNS = (
    "id, account, state, attempts, last_error, created, sender, recipients, subject, send_at,"
    " next_attempt, copy, mark_account, mark_folder, mark_uid, mark_flag"
)


class LocalStoreDamaged(Exception):
    """The local store cannot be trusted (SQLite reports it malformed or unreadable)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"the local store {path} is damaged ({reason}); mailbag will not apply actions from it."
            " Move it away to start with an empty journal and outbox"
        )
        self.path = path


def local_path_for(cache_path: Path) -> Path:
    """Where the local store of the cache file at ``cache_path`` lives (the same folder)."""
    return cache_path.with_name(LOCAL_FILE)


def _action(row: sqlite3.Row) -> PendingAction:
    return PendingAction(
        id=row["id"],
        account=row["account"],
        folder=row["folder"],
        uids=tuple(int(u) for u in row["uids"].split(",") if u),
        action=row["action"],
        args=json.loads(row["args"]),
        created=row["created"],
        state=row["state"],
        attempts=row["attempts"],
        last_error=row["last_error"],
    )


class LocalStore:
    """The journal and the outbox of one mailbag installation (every account shares the file)."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn
        self._lock = threading.Lock()
        self._outbox_lock: int | None = None  # the lock file's descriptor while this one sends

    @classmethod
    def open(cls, path: Path) -> LocalStore:
        """Open (creating or migrating) the local store at ``path``; raises LocalStoreDamaged."""
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))  # WAL files inherit the mode
        try:
            conn = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise LocalStoreDamaged(path, str(exc)) from None
        conn.row_factory = sqlite3.Row
        try:
            _check(conn, path)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
            _migrate(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise LocalStoreDamaged(path, str(exc)) from None
        except BaseException:
            conn.close()
            raise
        return cls(path, conn)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            if self._outbox_lock is not None:
                os.close(self._outbox_lock)  # and with it the lock
                self._outbox_lock = None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction, committed (and synced) on success."""
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # ---- the journal ------------------------------------------------------------------------------

    def add_action(
        self,
        account: str,
        folder: str,
        uids: Iterable[int],
        action: str,
        args: Mapping[str, Any] | None = None,
    ) -> int:
        """Journal a triage action to replay on the server; returns its id."""
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO pending_actions (account, folder, uids, action, args, created, state)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    account,
                    folder,
                    ",".join(str(int(u)) for u in uids),
                    action,
                    json.dumps(dict(args or {})),
                    time.time(),
                    PENDING,
                ),
            )
            return int(cursor.lastrowid or 0)

    def actions(
        self, account: str, states: Sequence[str] | None = ACTIVE, after: int = 0
    ) -> list[PendingAction]:
        """The account's journalled actions in the order they were made: those in ``states``
        (None: all) with an id above ``after``."""
        sql = f"SELECT {_ACTION_COLUMNS} FROM pending_actions WHERE account = ? AND id > ?"
        params: list[Any] = [account, after]
        if states is not None:
            sql += f" AND state IN ({','.join('?' * len(states))})"
            params.extend(states)
        return [_action(r) for r in self._read(sql + " ORDER BY id", params)]

    def journal_lock_file(self, account: str) -> Path:
        """The file a process holds locked while it sends ``account``'s journal (beside this
        store; named by a hash, so any account name makes a safe file name)."""
        digest = hashlib.sha256(account.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return self.path.with_name(JOURNAL_LOCK_FILE.format(digest))

    def count_actions(self, account: str, states: Sequence[str]) -> int:
        """How many of the account's journalled actions are in ``states``."""
        sql = f"SELECT COUNT(*) FROM pending_actions WHERE account = ? AND state IN ({','.join('?' * len(states))})"
        return int(self._read(sql, (account, *states))[0][0])

    def pending_overlay(self, account: str, folder: str) -> PendingOverlay:
        """The user's changes in ``folder`` the server may not have yet (pending, in flight or
        set aside), for a sync to lay over the server's flags so that they do not flip back."""
        rows = self._read(
            f"SELECT {_ACTION_COLUMNS} FROM pending_actions WHERE account = ? AND folder = ?"
            f" AND state IN ({','.join('?' * len(UNSENT))}) ORDER BY id",
            (account, folder, *UNSENT),
        )
        changes = []
        hidden: set[int] = set()
        for action in map(_action, rows):
            if action.action == FLAGS:
                add = frozenset(action.args.get("add", ()))
                remove = frozenset(action.args.get("remove", ()))
                changes.append((frozenset(action.uids), add, remove))
            elif action.action in (MOVE, EXPUNGE):
                hidden.update(action.uids)
        return PendingOverlay(tuple(changes), frozenset(hidden))

    def incoming(self, account: str, folder: str) -> list[tuple[str, list[int]]]:
        """(source folder, uids) of the moves and copies into ``folder`` the server has not
        done yet (pending, in flight or set aside): messages the folder is about to hold."""
        rows = self._read(
            f"SELECT {_ACTION_COLUMNS} FROM pending_actions WHERE account = ?"
            f" AND action IN (?, ?) AND state IN ({','.join('?' * len(UNSENT))}) ORDER BY id",
            (account, MOVE, COPY, *UNSENT),
        )
        return [
            (action.folder, list(action.uids))
            for action in map(_action, rows)
            if action.args.get("target") == folder and action.folder != folder
        ]

    def action(self, action_id: int) -> PendingAction | None:
        """One journalled action by id, whatever its state."""
        rows = self._read(
            f"SELECT {_ACTION_COLUMNS} FROM pending_actions WHERE id = ?", (action_id,)
        )
        return _action(rows[0]) if rows else None

    def transition(
        self,
        action_id: int,
        from_states: Sequence[str],
        to_state: str,
        changes: Mapping[str, Any] | None = None,
        *,
        attempt: bool = False,
        error: str | None = None,
    ) -> bool:
        """Move an action from one of ``from_states`` to ``to_state`` in one transaction, with
        ``changes`` merged into its args (and one more attempt counted, an error recorded);
        False when it was in no such state, so that a replay and an undo never both take it."""
        marks = ",".join("?" * len(from_states))
        with self._write() as conn:
            row = conn.execute(
                f"SELECT args FROM pending_actions WHERE id = ? AND state IN ({marks})",
                (action_id, *from_states),
            ).fetchone()
            if row is None:
                return False
            args = dict(json.loads(row["args"]), **(changes or {}))
            sets, params = ["state = ?", "args = ?"], [to_state, json.dumps(args)]
            if attempt:
                sets.append("attempts = attempts + 1")
            if error is not None:
                sets.append("last_error = ?")
                params.append(error)
            conn.execute(
                f"UPDATE pending_actions SET {', '.join(sets)} WHERE id = ?", (*params, action_id)
            )
            return True

    def retry_aside(self, account: str) -> int:
        """Put the account's actions that were set aside back in the queue, with their attempts
        counted afresh; one that was sent before stays in flight (checked before it is sent
        again). Returns how many."""
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE pending_actions SET attempts = 0, state = CASE WHEN attempts > 0"
                " THEN ? ELSE ? END WHERE account = ? AND state = ?",
                (IN_FLIGHT, PENDING, account, ASIDE),
            )
            return cursor.rowcount

    def record_failure(self, action_id: int, error: str, count: bool = False) -> None:
        """Note why the last attempt of an action did not finish (its state is kept); ``count``
        it as an attempt when it failed before it was sent."""
        extra = ", attempts = attempts + 1" if count else ""
        with self._write() as conn:
            conn.execute(
                f"UPDATE pending_actions SET last_error = ?{extra} WHERE id = ?", (error, action_id)
            )

    def rename_folder(self, account: str, folder: str, new_name: str, delimiter: str | None) -> int:
        """The folder (and those below it, by ``delimiter``) renamed on the server: the account's
        journal actions in it or moving into it name it by its new name from now on, so that undo
        finds the messages where they are. Returns how many actions changed."""
        below = folder + delimiter if delimiter else None

        def renamed(name: str) -> str:
            if name == folder or (below and name.startswith(below)):
                return new_name + name[len(folder):]
            return name

        changed = 0
        with self._write() as conn:
            rows = conn.execute(
                "SELECT id, folder, args FROM pending_actions WHERE account = ?", (account,)
            ).fetchall()
            for row in rows:
                args = json.loads(row["args"])
                target = args.get("target")
                new_args = dict(args, target=renamed(target)) if isinstance(target, str) else args
                if renamed(row["folder"]) == row["folder"] and new_args == args:
                    continue
                conn.execute(
                    "UPDATE pending_actions SET folder = ?, args = ? WHERE id = ?",
                    (renamed(row["folder"]), json.dumps(new_args), row["id"]),
                )
                changed += 1
        return changed

    def prune_actions(self, account: str, keep: int, below: int | None = None) -> int:
        """Delete the account's finished actions (done, failed, cancelled) except the newest
        ``keep`` of them and any with an id from ``below`` on; pending, in-flight and set-aside
        actions always stay. Returns how many were deleted."""
        marks = ",".join("?" * len(FINISHED))
        with self._write() as conn:
            row = conn.execute(
                f"SELECT id FROM pending_actions WHERE account = ? AND state IN ({marks})"
                " ORDER BY id DESC LIMIT 1 OFFSET ?",
                (account, *FINISHED, max(keep, 0)),
            ).fetchone()
            if row is None:  # no more than ``keep`` of them
                return 0
            limit = int(row["id"]) + 1 if below is None else min(int(row["id"]) + 1, below)
            cursor = conn.execute(
                f"DELETE FROM pending_actions WHERE account = ? AND state IN ({marks}) AND id < ?",
                (account, *FINISHED, limit),
            )
            return cursor.rowcount

    def adopt_actions(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Take over journal rows of an older layout (kept under their ids, once); returns how
        many were new here."""
        added = 0
        with self._write() as conn:
            for row in rows:
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO pending_actions"
                    " (id, account, folder, uids, action, args, created, state)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    tuple(
                        row[k]
                        for k in ("id", "account", "folder", "uids", "action", "args", "created")
                    )
                    + (row["state"],),
                )
                added += cursor.rowcount
        return added

    # ---- the outbox -------------------------------------------------------------------------------

    def add_outbox(
        self,
        account: str,
        raw: bytes,
        *,
        sender: str = "",
        recipients: Sequence[str] = (),
        subject: str = "",
        send_at: float | None = None,
        mark: MarkWhenSent | None = None,
    ) -> int:
        """Queue a message for sending; it is committed (and synced) before this returns.
        ``mark``: the message to flag once it is sent. Returns its id."""
        marked = (mark.account, mark.folder, mark.uid, mark.flag) if mark else ("", "", 0, "")
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO outbox (account, raw, state, created, sender, recipients, subject,"
                " send_at, mark_account, mark_folder, mark_uid, mark_flag)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (account, raw, QUEUED, time.time(), sender, "\n".join(recipients), subject, send_at,
                 *marked),
            )
            return int(cursor.lastrowid or 0)

    def adopt_outbox(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Take over outbox rows of an older layout (kept under their ids, once)."""
        added = 0
        keys = ("id", "account", "raw", "state", "attempts", "last_error", "created")
        with self._write() as conn:
            for row in rows:
                cursor = conn.execute(
                    f"INSERT OR IGNORE INTO outbox ({', '.join(keys)}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    tuple(row[k] for k in keys),
                )
                added += cursor.rowcount
        return added

    def outbox(
        self, account: str | None = None, state: str | None = None, *, with_raw: bool = True
    ) -> list[OutboxItem]:
        """Outbox messages, oldest first, optionally of one account and/or in one state (without
        their bytes unless ``with_raw``: a listing stays small whatever the attachments)."""
        columns = _OUTBOX_COLUMNS + (", raw" if with_raw else "")
        sql = f"SELECT {columns} FROM outbox WHERE 1 = 1"
        params: list[Any] = []
        if account is not None:
            sql += " AND account = ?"
            params.append(account)
        if state is not None:
            sql += " AND state = ?"
            params.append(state)
        return [_outbox_item(r) for r in self._read(sql + " ORDER BY id", params)]

    def outbox_item(self, item_id: int) -> OutboxItem | None:
        """One outbox message with its bytes, whatever its state; None when it is gone."""
        rows = self._read(f"SELECT {_OUTBOX_COLUMNS}, raw FROM outbox WHERE id = ?", (item_id,))
        return _outbox_item(rows[0]) if rows else None

    def update_outbox(
        self,
        item_id: int,
        from_states: Sequence[str],
        state: str,
        *,
        error: str | None = None,
        attempted: bool = False,
        next_attempt: float | None = None,
        copy: str | None = None,
        reset_attempts: bool = False,
        clear_send_at: bool = False,
    ) -> bool:
        """Move a message from one of ``from_states`` to ``state`` in one transaction, noting the
        error, one more attempt (or none so far), when to try next, where its Sent copy stands,
        and no time to wait for; False when it was in no such state (cancelled, or taken by
        another path meanwhile)."""
        sets: list[str] = ["state = ?"]
        params: list[Any] = [state]
        if error is not None:
            sets.append("last_error = ?")
            params.append(error)
        if attempted:
            sets.append("attempts = attempts + 1")
        if reset_attempts:
            sets.append("attempts = 0")
        if clear_send_at:
            sets.append("send_at = NULL")
        if next_attempt is not None:
            sets.append("next_attempt = ?")
            params.append(next_attempt)
        if copy is not None:
            sets.append("copy = ?")
            params.append(copy)
        marks = ",".join("?" * len(from_states))
        with self._write() as conn:
            cursor = conn.execute(
                f"UPDATE outbox SET {', '.join(sets)} WHERE id = ? AND state IN ({marks})",
                (*params, item_id, *from_states),
            )
            return cursor.rowcount == 1

    def lock_outbox(self) -> bool:
        """Take the sending of the outbox for this process until :meth:`close` (one mailbag at a
        time sends, so none sends a message another is sending); False when another has it."""
        if self._outbox_lock is not None:
            return True
        self._outbox_lock = try_lock(self.path.with_name(OUTBOX_LOCK_FILE))
        return self._outbox_lock is not None

    def remove_outbox(self, item_id: int, from_states: Sequence[str]) -> bool:
        """Delete a message of the outbox if it is in one of ``from_states``; False otherwise."""
        marks = ",".join("?" * len(from_states))
        with self._write() as conn:
            cursor = conn.execute(
                f"DELETE FROM outbox WHERE id = ? AND state IN ({marks})", (item_id, *from_states)
            )
            return cursor.rowcount == 1


    # --- folder changes ----------------------------------------------------------------------

    def add_folder_change(self, account: str, folder: str, new_name: str | None) -> int:
        """Write down a folder change about to be sent to the server (``folder`` renamed to
        ``new_name``, deleted with ``new_name`` None, or ``new_name`` made with ``folder``
        empty) by this process; returns its id."""
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO folder_changes (account, folder, new_name, pid, created) VALUES (?, ?, ?, ?, ?)",
                (account, folder, new_name, os.getpid(), time.time()),
            )
            return int(cursor.lastrowid or 0)

    def folder_changes(self, account: str) -> list[FolderChange]:
        """The account's folder changes written down and not yet forgotten, oldest first."""
        rows = self._read(
            "SELECT id, folder, new_name, pid FROM folder_changes WHERE account = ? ORDER BY id", (account,)
        )
        return [FolderChange(r["folder"], r["new_name"], r["id"], r["pid"]) for r in rows]

    def forget_folder_change(self, change_id: int) -> None:
        """The change is settled: the server refused it, or the cache has followed it."""
        with self._write() as conn:
            conn.execute("DELETE FROM folder_changes WHERE id = ?", (change_id,))

    # --- POP3 downloads ----------------------------------------------------------------------

    def pop3_downloads(self, account: str) -> dict[str, Pop3Download]:
        """UIDL -> what the account has downloaded (or was writing when it stopped)."""
        rows = self._read(
            "SELECT uidl, key, state, downloaded, deleted, digest, size, relisted FROM pop3_uidls"
            " WHERE account = ?",
            (account,),
        )
        return {
            r["uidl"]: Pop3Download(
                r["uidl"], r["key"], r["state"], r["downloaded"], r["deleted"], r["digest"], r["size"],
                bool(r["relisted"]),
            )
            for r in rows
        }

    def pop3_cut_short(self, account: str) -> dict[str, str]:
        """UIDL -> Maildir key of each message a download was writing when it stopped."""
        rows = self._read(
            "SELECT uidl, key FROM pop3_uidls WHERE account = ? AND state = ?", (account, FETCHING)
        )
        return {r["uidl"]: r["key"] for r in rows}

    def pop3_fetching(
        self, account: str, keys: Mapping[str, str], digests: Mapping[str, str] | None = None,
        renamed: Mapping[str, str] | None = None, sizes: Mapping[str, int] | None = None,
    ) -> None:
        """Record that the messages ``keys`` (UIDL -> Maildir key) are about to be written, with
        their ``digests`` (UIDL -> digest of the bytes) and ``sizes`` (UIDL -> the listing's
        size); a record of the same UIDL (a message the server removed, whose UIDL it gave
        another) is replaced. And, in the same transaction, that the server now lists the
        messages stored under the UIDLs ``renamed`` (old -> new) under new ones (the record keeps
        its file and its dates, and counts as not deleted on the server, where it is again)."""
        now = time.time()
        digests, sizes = digests or {}, sizes or {}
        with self._write() as conn:
            for old, new in (renamed or {}).items():
                conn.execute("DELETE FROM pop3_uidls WHERE account = ? AND uidl = ?", (account, new))
                conn.execute(
                    "UPDATE pop3_uidls SET uidl = ?, deleted = NULL, size = ?, relisted = 0"
                    " WHERE account = ? AND uidl = ?",
                    (new, sizes.get(new, 0), account, old),
                )
            conn.executemany(
                "INSERT INTO pop3_uidls (account, uidl, key, state, downloaded, digest, size)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (account, uidl) DO UPDATE SET key = excluded.key, state = excluded.state,"
                " digest = excluded.digest, size = excluded.size, downloaded = excluded.downloaded,"
                " deleted = NULL, relisted = 0",
                [(account, uidl, key, FETCHING, now, digests.get(uidl, ""), sizes.get(uidl, 0))
                 for uidl, key in keys.items()],
            )

    def pop3_set_digests(self, account: str, digests: Mapping[str, str]) -> None:
        """Give these downloads (UIDL -> digest) their digests."""
        with self._write() as conn:
            conn.executemany(
                "UPDATE pop3_uidls SET digest = ? WHERE account = ? AND uidl = ?",
                [(digest, account, uidl) for uidl, digest in digests.items()],
            )

    def pop3_stored(self, account: str, uidls: Iterable[str]) -> None:
        """These messages are in the Maildir for good (their files fsynced)."""
        now = time.time()
        with self._write() as conn:
            conn.executemany(
                "UPDATE pop3_uidls SET state = ?, downloaded = ? WHERE account = ? AND uidl = ?",
                [(STORED, now, account, uidl) for uidl in uidls],
            )

    def pop3_first_download_done(self, account: str) -> bool:
        """Whether a download of the account has run to its end (before that, one killed part-way
        is still the first: what its next run brings is no new mail)."""
        row = self._read("SELECT value FROM local_meta WHERE key = ?", (_FIRST_DOWNLOAD_KEY + account,))
        return bool(row)

    def set_pop3_first_download_done(self, account: str) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO local_meta (key, value) VALUES (?, 1) ON CONFLICT (key) DO NOTHING",
                (_FIRST_DOWNLOAD_KEY + account,),
            )

    def pop3_forget(self, account: str, uidls: Iterable[str]) -> None:
        """Forget these UIDLs (a message whose writing never finished: fetch it again)."""
        with self._write() as conn:
            conn.executemany(
                "DELETE FROM pop3_uidls WHERE account = ? AND uidl = ?", [(account, u) for u in uidls]
            )

    def pop3_relisted(self, account: str, uidls: Iterable[str]) -> None:
        """The server lists these messages it said it removed again, with the same bytes: it
        keeps them (they count as removed all the same: no DELE goes out for them again)."""
        with self._write() as conn:
            conn.executemany(
                "UPDATE pop3_uidls SET relisted = 1 WHERE account = ? AND uidl = ?", [(account, u) for u in uidls]
            )

    def pop3_deleted(self, account: str, uidls: Iterable[str]) -> None:
        """The server has removed these messages (its QUIT said so)."""
        now = time.time()
        with self._write() as conn:
            conn.executemany(
                "UPDATE pop3_uidls SET deleted = ? WHERE account = ? AND uidl = ?",
                [(now, account, uidl) for uidl in uidls],
            )


def _outbox_item(row: sqlite3.Row) -> OutboxItem:
    keys = row.keys()
    return OutboxItem(
        id=row["id"],
        account=row["account"],
        raw=bytes(row["raw"]) if "raw" in keys else b"",
        state=row["state"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        created=row["created"],
        sender=row["sender"],
        recipients=tuple(r for r in row["recipients"].split("\n") if r),
        subject=row["subject"],
        send_at=row["send_at"],
        next_attempt=row["next_attempt"],
        copy=row["copy"],
        mark=MarkWhenSent(row["mark_account"], row["mark_folder"], row["mark_uid"], row["mark_flag"])
        if row["mark_flag"]
        else None,
    )


def _check(conn: sqlite3.Connection, path: Path) -> None:
    """Raise LocalStoreDamaged unless SQLite finds the file sound."""
    rows = conn.execute("PRAGMA integrity_check").fetchall()
    verdict = "; ".join(str(r[0]) for r in rows[:3])
    if verdict != "ok":
        raise LocalStoreDamaged(path, verdict)


def _migrate(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        fresh = not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'local_meta'"
        ).fetchall()
        if fresh:
            version = LOCAL_VERSION
        else:
            row = conn.execute(
                "SELECT value FROM local_meta WHERE key = ?", (_VERSION_KEY,)
            ).fetchone()
            version = LOCAL_VERSION if row is None else int(row[0])
            while version < LOCAL_VERSION:
                LOCAL_MIGRATIONS[version](conn)
                version += 1
        for statement in _SCHEMA:  # tables added since this file was made; existing ones stay
            conn.execute(statement)
        conn.execute(
            "INSERT INTO local_meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (_VERSION_KEY, version),
        )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
