"""Bringing a cache file up to the current schema.

The CACHE tables carry their version in ``PRAGMA user_version``: on any mismatch every table that is not
LOCAL is dropped and the cache tables are created afresh (the next sync refills them). The LOCAL tables
carry their own version in ``local_meta`` and are migrated forward step by step, never dropped.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine, select, text

from mailbag.store import schema
from mailbag.store.engine import write_connection
from mailbag.store.version import CACHE_VERSION

#: Version of the LOCAL tables' shape. Raise it together with a new entry in LOCAL_MIGRATIONS.
LOCAL_VERSION = 1

#: ``LOCAL_MIGRATIONS[n]`` turns LOCAL tables of version ``n`` into version ``n + 1``.
#: A fresh file gets the current shape directly and skips them.
LOCAL_MIGRATIONS: dict[int, Callable[[Connection], None]] = {}

_LOCAL_VERSION_KEY = "local_version"


def ensure_schema(engine: Engine) -> None:
    """Create, rebuild or migrate the tables so that they match this version of mailbag."""
    with write_connection(engine) as conn:
        current = conn.exec_driver_sql("PRAGMA user_version").scalar_one()
        if current != CACHE_VERSION:
            _rebuild_cache(conn)
        _migrate_local(conn)


def _rebuild_cache(conn: Connection) -> None:
    names = conn.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).scalars()
    doomed = [name for name in names if name not in schema.LOCAL_TABLES]
    # Foreign keys cannot be switched off inside a transaction; defer their checks instead, so the
    # tables can go in any order (nothing that references them survives the commit).
    conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
    for name in doomed:
        conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name.replace(chr(34), chr(34) * 2)}"')
    schema.cache_metadata.create_all(conn)
    conn.exec_driver_sql(f"PRAGMA user_version={int(CACHE_VERSION)}")


def _migrate_local(conn: Connection) -> None:
    existing = set(
        conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'").scalars()
    )
    if schema.local_meta.name not in existing:
        schema.local_metadata.create_all(conn)
        _set_local_version(conn, LOCAL_VERSION)
        return
    row = conn.execute(
        select(schema.local_meta.c.value).where(schema.local_meta.c.key == _LOCAL_VERSION_KEY)
    ).scalar_one_or_none()
    version = LOCAL_VERSION if row is None else int(row)
    while version < LOCAL_VERSION:
        LOCAL_MIGRATIONS[version](conn)
        version += 1
    # Tables added to the current shape after this file was made are created; existing ones stay.
    schema.local_metadata.create_all(conn)
    _set_local_version(conn, version)


def _set_local_version(conn: Connection, version: int) -> None:
    conn.execute(
        text(
            "INSERT INTO local_meta (key, value) VALUES (:key, :value) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        ),
        {"key": _LOCAL_VERSION_KEY, "value": version},
    )
