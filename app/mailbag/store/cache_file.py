"""CacheFile: the cache as a start uses it: its reader at once, its Store when first needed.

Opening the :class:`~mailbag.store.store.Store` imports SQLAlchemy and checks the schema, which costs
more than everything else a warm start does before its first frame. A cache file already at this
version can be read without either, so the UI paints from the :class:`CacheReader` and the Store
is opened afterwards (the services open it off the UI loop when they start). A missing or older
file is built or rebuilt by the Store first, since there is nothing to read from it yet.
"""

from __future__ import annotations

import errno
import sqlite3
import ssl
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from mailbag.store.local import LocalStore, LocalStoreDamaged, local_path_for
from mailbag.store.reader import CacheReader

if TYPE_CHECKING:
    from mailbag.store.store import Store


class CacheFile:
    """One cache file. ``reader`` is ready at once; ``store`` opens on first use (thread-safe)."""

    def __init__(self, path: Path, *, store: Store | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._store = store
        # The local store is checked now, before anything is shown (LocalStoreDamaged).
        self.local = store.local if store is not None else LocalStore.open(local_path_for(path))
        reader = store.reader if store is not None else CacheReader.open_current(path)
        if reader is None:  # nothing to read yet: let the Store build the file now
            try:
                self._store = _open_store(path, None, self.local)
            except BaseException:
                self.local.close()
                raise
            reader = self._store.reader
        self.reader: CacheReader = reader

    @classmethod
    def of(cls, store: Store) -> CacheFile:
        """A CacheFile over a Store that is already open."""
        return cls(store.reader.path, store=store)

    @property
    def is_open(self) -> bool:
        """Whether the Store has been opened."""
        return self._store is not None

    @property
    def store(self) -> Store:
        """The full Store (writes, search, bodies), opened on first use."""
        with self._lock:
            if self._store is None:
                self.reader.drop_prefetch()  # the Store writes: a list read before may go stale
                self._store = _open_store(self.path, self.reader, self.local)
            return self._store

    def close(self) -> None:
        """Close the Store if it was opened, and the reader."""
        with self._lock:
            store, self._store = self._store, None
        if store is not None:
            store.close()  # closes the reader too
        else:
            self.reader.close()
            self.local.close()


#: OSError numbers that mean the file or its disk cannot take writes.
_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO})


def cache_problem(exc: BaseException, path: Path) -> str | None:
    """The one line to show when the cache at ``path`` cannot be used because of ``exc``: it is
    not a database, is damaged, is read-only, or its disk is full. None for any other error.
    A damaged local store names its own file."""
    if isinstance(exc, LocalStoreDamaged):
        return str(exc)
    fault = _storage_fault(exc)
    if fault is None:
        return None
    reason, full = fault
    advice = (
        "free some space on its disk and start mailbag again"
        if full
        else "move it away and mailbag builds a new one from the server"
    )
    return f"the cache {path} cannot be used ({reason}); {advice}"


def _storage_fault(exc: BaseException) -> tuple[str, bool] | None:
    """What SQLite or the disk said, and whether the disk is full, when ``exc`` or an error it
    wraps or came from is about the file or its disk (a misuse such as a closed connection is a
    bug, not a fault of the file)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.DatabaseError) and not isinstance(
            current, (sqlite3.ProgrammingError, sqlite3.IntegrityError)
        ):
            return str(current), getattr(current, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
        if isinstance(current, OSError) and disk_fault(current):
            full = current.errno in (errno.ENOSPC, errno.EDQUOT)
            return current.strerror or str(current), full
        orig = getattr(current, "orig", None)  # SQLAlchemy wraps the driver's error
        if isinstance(orig, BaseException):
            current = orig
        else:  # what it came from; not what it was raised in place of ("raise ... from None")
            current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return None


def disk_fault(exc: OSError) -> bool:
    """Whether ``exc`` says a file or its disk cannot take writes (full, read-only, refused,
    failing). A TLS or connection failure never does, whatever its number: a TLS error's 1, its
    library's "SSL error", is EPERM's."""
    return exc.errno in _DISK_ERRNOS and not isinstance(exc, (ssl.SSLError, ConnectionError))


def _open_store(path: Path, reader: CacheReader | None, local: LocalStore) -> Store:
    from mailbag.store.store import (
        Store,  # imports SQLAlchemy: only once the Store is needed
    )

    return Store.open(path, reader=reader, local=local)
