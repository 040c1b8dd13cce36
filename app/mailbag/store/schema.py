"""Tables of the cache (SQLAlchemy Core).

They hold what the server already has (accounts, folders, messages, bodies), and are dropped and
recreated whenever :data:`mailbag.store.version.CACHE_VERSION` changes, then refilled by the next
sync. What exists only here lives in another file, the local store (``mailbag.store.local``).
"""

from __future__ import annotations

from sqlalchemy import (
    DDL,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    event,
)

cache_metadata = MetaData()

accounts = Table(
    "accounts",
    cache_metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String, nullable=False, unique=True),
)

folders = Table(
    "folders",
    cache_metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("name", String, nullable=False),
    Column("delimiter", String, nullable=True),
    Column("role", String, nullable=False, default=""),
    Column("attributes", String, nullable=False, default=""),  # space-separated
    Column("total", Integer, nullable=False, default=0),  # as the server last reported
    Column("unread", Integer, nullable=False, default=0),
    Column("uidvalidity", Integer, nullable=True),  # NULL: never synced
    Column("uidnext", Integer, nullable=False, default=0),
    Column("highestmodseq", Integer, nullable=False, default=0),
    # 1 once a full sync under ``uidvalidity`` has listed every message; 0 while one is under way
    # (or was cut short): the next sync lists them all again and drops the rows the server lacks.
    Column("complete", Integer, nullable=False, default=0),
    UniqueConstraint("account_id", "name", name="uq_folders_account_name"),
)

messages = Table(
    "messages",
    cache_metadata,
    Column("id", Integer, primary_key=True),  # the MessageRow.row_id
    Column("folder_id", Integer, ForeignKey("folders.id", ondelete="CASCADE"), nullable=False),
    Column("uid", Integer, nullable=False),
    Column("flags", String, nullable=False, default=""),  # sorted, space-separated
    Column("unread", Integer, nullable=False, default=1),  # 1 when \Seen is absent
    Column("date", Integer, nullable=True),  # UTC epoch seconds; NULL when unknown
    Column("date_offset", Integer, nullable=False, default=0),  # the Date's zone, seconds east of UTC
    Column("size", Integer, nullable=False, default=0),
    Column("subject", String, nullable=False, default=""),
    Column("sender", String, nullable=False, default=""),  # display form of the first From address
    Column("sender_email", String, nullable=False, default=""),
    Column("from_addrs", String, nullable=False, default=""),  # see mailbag.store.codec
    Column("to_addrs", String, nullable=False, default=""),
    Column("cc_addrs", String, nullable=False, default=""),
    Column("reply_to_addrs", String, nullable=False, default=""),
    Column("message_id", String, nullable=False, default=""),
    Column("in_reply_to", String, nullable=False, default=""),
    Column("refs", String, nullable=False, default=""),
    Column("has_attachment", Integer, nullable=False, default=0),
    Column("modseq", Integer, nullable=False, default=0),
    # 1 while a move or delete the user made waits for the server: out of lists and counts.
    Column("hidden", Integer, nullable=False, server_default="0"),
    UniqueConstraint("folder_id", "uid", name="uq_messages_folder_uid"),
    # Ids are never reused, so the search index's high-water mark (below) cannot skip a new row.
    sqlite_autoincrement=True,
)
# The list (visible rows, date desc, uid desc) read backwards from one covering index: with ``hidden``
# in it SQLite never visits the table rows. Counts of unread per folder come from the second one.
Index(
    "ix_messages_folder_list",
    messages.c.folder_id,
    messages.c.hidden,
    messages.c.date,
    messages.c.uid,
)
Index("ix_messages_folder_unread", messages.c.folder_id, messages.c.hidden, messages.c.unread)

# ---- full-text index ----------------------------------------------------------------------------------
#
# messages_fts holds, per message (rowid = messages.id), the subject, the From addresses, the To and Cc
# addresses (name and address of each) and the cached body's text. A sync does not index: it only
# writes messages, and the headers of new rows are indexed afterwards in batches (FTS_INDEX_RANGE_SQL,
# run by Store.index_pending when the app is idle and before every search), up to a high-water mark
# kept in search_index_state. Store.put_body indexes its row at once, with the body's text; the batch
# skips rows already there. A trigger follows the (rare) header changes of an indexed message. Not a
# trigger per inserted row: FTS5 flushes its buffer at every statement a trigger writes from, which
# made a 100k-message sync several times slower. Rows are removed by the store's delete paths, not by
# a trigger either: an FTS5 write inside a transaction makes the cache rebuild's DROP TABLE fail
# ("database table is locked"). A row left behind matches no message.
# unicode61 splits words (folding case and diacritics). No prefix index: "word*" queries of four or more
# letters are as fast without one, and it doubled the indexing time (measured on 100k messages).

#: Name of the full-text table (an FTS5 virtual table, created with the messages table).
FTS_TABLE = "messages_fts"


def _address_text(column: str) -> str:
    """SQL turning an encoded address list (see mailbag.store.codec) into space-separated text."""
    return f"replace(replace({column}, char(31), ' '), char(30), ' ')"


def _recipients(row: str) -> str:
    return f"{_address_text(f'{row}to_addrs')} || ' ' || {_address_text(f'{row}cc_addrs')}"


#: Index the headers of the messages with ids in (first parameter, second parameter] that the index
#: does not hold yet.
FTS_INDEX_RANGE_SQL = (
    f"INSERT INTO {FTS_TABLE} (rowid, subject, sender, recipients, body) "
    f"SELECT m.id, m.subject, {_address_text('m.from_addrs')}, {_recipients('m.')}, '' "
    f"FROM messages AS m WHERE m.id > ? AND m.id <= ? "
    f"AND NOT EXISTS (SELECT 1 FROM {FTS_TABLE} WHERE rowid = m.id)"
)

#: Index one message's headers and body text (parameters: body text, message id).
FTS_INDEX_ROW_SQL = (
    f"INSERT OR REPLACE INTO {FTS_TABLE} (rowid, subject, sender, recipients, body) "
    f"SELECT id, subject, {_address_text('from_addrs')}, {_recipients('')}, ? "
    "FROM messages WHERE id = ?"
)

#: One row: every message with an id up to ``indexed_through`` is in messages_fts.
search_index_state = Table(
    "search_index_state",
    cache_metadata,
    Column("id", Integer, primary_key=True),
    Column("indexed_through", Integer, nullable=False),
)

_FTS_DDL = (
    (
        f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(subject, sender, recipients, body, "
        "tokenize = 'unicode61 remove_diacritics 2')"
    ),
    (
        "CREATE TRIGGER messages_fts_update AFTER UPDATE OF subject, from_addrs, to_addrs, cc_addrs "
        "ON messages WHEN old.subject IS NOT new.subject OR old.from_addrs IS NOT new.from_addrs "
        "OR old.to_addrs IS NOT new.to_addrs OR old.cc_addrs IS NOT new.cc_addrs BEGIN "
        f"UPDATE {FTS_TABLE} SET subject = new.subject, sender = {_address_text('new.from_addrs')}, "
        f"recipients = {_recipients('new.')} WHERE rowid = new.id; END"
    ),
)
for _statement in _FTS_DDL:
    event.listen(messages, "after_create", DDL(_statement))

bodies = Table(
    "bodies",
    cache_metadata,
    Column(
        "message_row", Integer, ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("raw", LargeBinary, nullable=False),
)
