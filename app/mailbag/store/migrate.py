"""Bringing a cache file up to the current schema.

The cache tables carry their version in ``PRAGMA user_version``: on any mismatch every table is
dropped and the cache tables are created afresh (the next sync refills them).

Older versions of mailbag kept the journal and the outbox in the cache file too. Their rows are
moved into the local store (``mailbag.store.local``) once, before anything else, and the old tables
are dropped from the cache afterwards; from then on the cache holds nothing that exists only here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine

from mailbag.store import schema
from mailbag.store.engine import write_connection
from mailbag.store.local import LocalStore
from mailbag.store.version import CACHE_VERSION

#: Tables of the older layout whose rows belong to the local store.
OLD_LOCAL_TABLES = ("pending_actions", "outbox", "local_meta")


def ensure_schema(engine: Engine, local: LocalStore) -> None:
    """Move local rows of an older layout into ``local``, then create or rebuild the cache
    tables so that they match this version of mailbag."""
    with write_connection(engine) as conn:
        tables = set(_tables(conn))
        if {"pending_actions", "outbox"} & tables:
            _move_local_rows(conn, tables, local)
        current = conn.exec_driver_sql("PRAGMA user_version").scalar_one()
        if current != CACHE_VERSION:
            _rebuild_cache(conn)


def _tables(conn: Connection) -> list[str]:
    """The file's tables, in the order they were made (a virtual table before its own)."""
    return list(
        conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).scalars()
    )


def _move_local_rows(conn: Connection, tables: set[str], local: LocalStore) -> None:
    """Copy the old tables' rows into the local store (committed there first: the ids make a
    second copy after a crash a no-op), then drop them here."""
    if "pending_actions" in tables:
        local.adopt_actions(_rows(conn, "pending_actions"))
    if "outbox" in tables:
        local.adopt_outbox(_rows(conn, "outbox"))
    for name in OLD_LOCAL_TABLES:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")


def _rows(conn: Connection, table: str) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY id")]


def _rebuild_cache(conn: Connection) -> None:
    # Foreign keys cannot be switched off inside a transaction; defer their checks instead, so the
    # tables can go in any order (nothing that references them survives the commit).
    conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
    for name in _tables(conn):
        conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name.replace(chr(34), chr(34) * 2)}"')
    schema.cache_metadata.create_all(conn)
    conn.exec_driver_sql(f"PRAGMA user_version={int(CACHE_VERSION)}")
