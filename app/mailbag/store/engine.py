"""The SQLite engine of the cache: one factory, no import-time engine.

Every connection runs in WAL mode with ``synchronous=NORMAL``, foreign keys on and a busy timeout, so a
writer thread and reader threads can share one file. The Python driver's own transaction handling is
switched off and SQLAlchemy emits ``BEGIN`` itself: plain ``BEGIN`` for reads, ``BEGIN IMMEDIATE`` for
writes (see :func:`write_connection`), so a writer takes the lock up front and waits for it instead of
failing with "database is locked" when it upgrades a stale read snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

from mailbag import paths

#: How long (seconds) a connection waits for another writer before giving up.
BUSY_TIMEOUT = 30.0

_BEGIN_OPTION = "mailbag_begin"


def create_engine_for(path: Path) -> Engine:
    """Make an engine for the cache database file at ``path``. The file and its folder are made
    private first (0600, 0700): SQLite gives its -wal and -shm files the mode of the database."""
    paths.private_file(path)
    for companion in ("-wal", "-shm"):
        paths.tighten(path.with_name(path.name + companion))
    engine = create_engine(
        f"sqlite+pysqlite:///{path}",
        connect_args={
            "check_same_thread": False,
            "timeout": BUSY_TIMEOUT,
            "isolation_level": None,
        },
        pool_size=4,
        max_overflow=8,
        pool_pre_ping=False,
    )
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.execute("PRAGMA cache_size=-16000")
    finally:
        cursor.close()


def _on_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get(_BEGIN_OPTION, "")
    conn.exec_driver_sql(f"BEGIN {mode}".strip())


@contextmanager
def write_connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside one ``BEGIN IMMEDIATE`` transaction, committed on success."""
    with engine.connect() as conn:
        conn.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
        with conn.begin():
            yield conn


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for reading; its statements share one snapshot until it is closed."""
    with engine.connect() as conn:
        yield conn
