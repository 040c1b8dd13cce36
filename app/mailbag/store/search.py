"""Local search over the cache: a parsed :class:`~mailbag.domain.search.Query` as one SQL statement.

Text terms go to the FTS5 index (``messages_fts``: subject, sender, recipients, body text); flags, dates
and folders are filters on the messages table. Results are row ids, newest first.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from mailbag.domain.mime import render_message
from mailbag.domain.search import DateTerm, Flag, FlagTerm, Query, TextField, TextTerm
from mailbag.store.schema import FTS_INDEX_RANGE_SQL, FTS_INDEX_ROW_SQL, FTS_TABLE

_COLUMNS = {
    TextField.ANY: "",
    TextField.FROM: "{sender} : ",
    TextField.TO: "{recipients} : ",
    TextField.SUBJECT: "{subject} : ",
    TextField.BODY: "{body} : ",
}

_FLAG_SQL = {
    Flag.UNREAD: "m.unread = 1",
    Flag.READ: "m.unread = 0",
    Flag.FLAGGED: "(' ' || m.flags || ' ') LIKE '% \\flagged %'",
    Flag.ATTACHMENT: "m.has_attachment = 1",
}


def body_text(raw: bytes) -> str:
    """The text the index holds for a cached message: its rendered body, not the raw MIME."""
    return render_message(raw).body


def _searchable(text: str) -> bool:
    """True when the text holds something the tokenizer keeps (a letter or a digit)."""
    return any(ch.isalnum() for ch in text)


def fts_expression(term: TextTerm) -> str | None:
    """One text term as an FTS5 expression, or None when it holds nothing to search for.

    The text goes in as one FTS5 string, so the index's own tokenizer splits it (``alice@example.org``
    is the phrase ``alice example org``). A plain word matches as a prefix (``rep`` finds "report");
    a quoted phrase matches its words exactly, in order.
    """
    if not _searchable(term.text):
        return None
    quoted = '"' + term.text.replace('"', '""') + '"'
    return _COLUMNS[term.field] + quoted + ("" if term.phrase else " *")


def _day_start(term: DateTerm) -> int:
    return calendar.timegm(term.day.timetuple())


#: Up to this many full-text matches, a search starts from them (a few microseconds each); with
#: more, it walks the folder's list order and stops at ``limit`` matching rows instead.
FTS_FIRST_LIMIT = 10_000


def build_search_sql(
    query: Query, folder_ids: Sequence[int], limit: int, *, from_matches: bool = False,
    among: Sequence[int] | None = None,
) -> tuple[str, list[Any]] | None:
    """The SELECT of matching row ids (newest first) and its parameters; None when nothing can match.

    Dates compare the message's own local day, as IMAP's SENTBEFORE/SENTSINCE do. With
    ``from_matches`` the full-text matches drive the query (fast when they are few); otherwise the
    folder's list order does, each row checked against the matches (fast when they are many).
    ``among``: only these row ids can match.
    """
    if not folder_ids or limit <= 0 or (among is not None and not among):
        return None
    where = [f"m.folder_id IN ({', '.join('?' for _ in folder_ids)})", "m.hidden = 0"]
    params: list[Any] = list(folder_ids)
    if among is not None:
        where.append(f"m.id IN ({', '.join('?' for _ in among)})")
        params.extend(among)
    for term in query.terms:
        if isinstance(term, FlagTerm):
            condition = _FLAG_SQL[term.flag]
            where.append(f"NOT ({condition})" if term.negated else condition)
        elif isinstance(term, DateTerm):
            operator = "<" if term.before else ">="
            condition = f"(m.date + m.date_offset) {operator} ?"
            where.append(f"NOT ({condition})" if term.negated else condition)
            params.append(_day_start(term))
    source = "messages AS m"
    match, excluded = match_expressions(query)
    if match is not None:
        if from_matches:
            source = f"{FTS_TABLE} CROSS JOIN messages AS m ON m.id = {FTS_TABLE}.rowid"
            where.insert(0, f"{FTS_TABLE} MATCH ?")
            params.insert(0, match)
        else:
            where.append(f"m.id IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ?)")
            params.append(match)
    if excluded is not None:
        where.append(
            f"m.id NOT IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ?)"
        )
        params.append(excluded)
    sql = (
        f"SELECT m.id FROM {source} WHERE "
        + " AND ".join(where)
        + " ORDER BY m.date DESC, m.uid DESC LIMIT ?"
    )
    params.append(limit)
    return sql, params


def match_expressions(query: Query) -> tuple[str | None, str | None]:
    """The query's text terms as FTS5 expressions: what every match holds, and what none may hold."""
    positive: list[str] = []
    negative: list[str] = []
    for term in query.terms:
        if isinstance(term, TextTerm):
            expression = fts_expression(term)
            if expression is not None:
                (negative if term.negated else positive).append(expression)
    return (
        " AND ".join(f"({e})" for e in positive) if positive else None,
        " OR ".join(f"({e})" for e in negative) if negative else None,
    )


def _few_matches(conn: Connection, query: Query) -> bool:
    """Whether the query's text terms match at most FTS_FIRST_LIMIT messages (False without any)."""
    match, _excluded = match_expressions(query)
    if match is None:
        return False
    count = conn.exec_driver_sql(
        f"SELECT count(*) FROM (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ? LIMIT ?)",
        (match, FTS_FIRST_LIMIT + 1),
    ).scalar_one()
    return int(count) <= FTS_FIRST_LIMIT


def search_row_ids(
    conn: Connection, query: Query, folder_ids: Sequence[int], limit: int,
    among: Sequence[int] | None = None,
) -> list[int]:
    """Row ids of the messages in these folders matching every term, newest first, at most
    ``limit`` (only of ``among``, when given)."""
    few = among is not None or _few_matches(conn, query)
    built = build_search_sql(query, folder_ids, limit, from_matches=few, among=among)
    if built is None:
        return []
    sql, params = built
    cursor = conn.connection.driver_connection.execute(sql, params)  # type: ignore[union-attr]
    try:
        return [row[0] for row in cursor]
    finally:
        cursor.close()


def last_message_id(conn: Connection) -> int:
    """The largest message id so far: rows written after this call have larger ids."""
    return int(conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM messages").scalar_one())


def index_range(conn: Connection, after_id: int, through_id: int) -> None:
    """Index the headers of the messages with ids in (``after_id``, ``through_id``] not indexed yet."""
    conn.exec_driver_sql(FTS_INDEX_RANGE_SQL, (after_id, through_id))


def _indexed_through(conn: Connection) -> int:
    mark = conn.exec_driver_sql(
        "SELECT indexed_through FROM search_index_state WHERE id = 1"
    ).scalar()
    return int(mark or 0)


def index_pending(conn: Connection, limit: int) -> int:
    """Index up to ``limit`` messages above the index's high-water mark and raise the mark past
    them; returns how many rows that covered (0 when the index is complete)."""
    mark = _indexed_through(conn)
    top, count = conn.exec_driver_sql(
        "SELECT max(id), count(*) FROM (SELECT id FROM messages WHERE id > ? ORDER BY id LIMIT ?)",
        (mark, limit),
    ).one()
    if not count:
        return 0
    index_range(conn, mark, int(top))
    conn.exec_driver_sql(
        "INSERT INTO search_index_state (id, indexed_through) VALUES (1, ?) "
        "ON CONFLICT (id) DO UPDATE SET indexed_through = excluded.indexed_through",
        (int(top),),
    )
    return int(count)


def index_backlog(conn: Connection) -> int:
    """How many messages wait to be indexed."""
    return int(
        conn.exec_driver_sql(
            "SELECT count(*) FROM messages WHERE id > ?", (_indexed_through(conn),)
        ).scalar_one()
    )


def index_row(conn: Connection, row_id: int, body: str) -> None:
    """Index one message now, headers and body text (whether or not it was indexed before)."""
    conn.exec_driver_sql(FTS_INDEX_ROW_SQL, (body, row_id))


def unindex_folder(
    conn: Connection, folder_id: int, uids: Sequence[int] | None = None
) -> None:
    """Drop the index rows of a folder's messages (only those ``uids`` when given); call it before
    the messages themselves are deleted."""
    sql = f"DELETE FROM {FTS_TABLE} WHERE rowid IN (SELECT id FROM messages WHERE folder_id = ?"
    params: list[int] = [folder_id]
    if uids is not None:
        sql += f" AND uid IN ({', '.join('?' for _ in uids)})"
        params.extend(uids)
    conn.exec_driver_sql(sql + ")", tuple(params))


def copy_body_text(conn: Connection, source_row: int, target_row: int) -> None:
    """Give a copied message the body text its original has in the index."""
    conn.exec_driver_sql(
        f"UPDATE {FTS_TABLE} SET body = (SELECT body FROM {FTS_TABLE} WHERE rowid = ?) WHERE rowid = ?",
        (source_row, target_row),
    )


def matching_folders(
    folders: Sequence[tuple[int, str, str | None]], names: Sequence[str]
) -> set[int]:
    """Ids of the folders (id, name, delimiter) that ``folder:NAME`` terms name.

    A name matches a folder's full name or its last component, ignoring case.
    """
    wanted = {n.casefold() for n in names}
    found: set[int] = set()
    for folder_id, name, delimiter in folders:
        leaf = name.rsplit(delimiter, 1)[-1] if delimiter else name
        if name.casefold() in wanted or leaf.casefold() in wanted:
            found.add(folder_id)
    return found
