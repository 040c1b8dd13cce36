"""The SQLite cache: what goes in comes back out, in the order the screens need."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mailbag.domain.models import (
    FLAGGED,
    SEEN,
    Address,
    Folder,
    FolderRole,
    FolderState,
    MessageSummary,
)
from mailbag.store.store import Store
from mailbag.store.version import CACHE_VERSION
from tests.cache_reads import cached_flags

ACCOUNT = "work"
INBOX = "INBOX"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "mailbag.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    s = Store.open(db_path)
    yield s
    s.close()


def summary(uid: int, **kw: object) -> MessageSummary:
    values: dict[str, object] = {
        "date": datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc) + timedelta(minutes=uid),
        "subject": f"message {uid}",
        "from_": (Address(f"Sender {uid}", f"s{uid}@example.org"),),
    }
    values.update(kw)
    return MessageSummary(uid=uid, **values)  # type: ignore[arg-type]


# ---- summaries --------------------------------------------------------------------------------------


def test_summary_round_trip_keeps_every_field(store: Store) -> None:
    tokyo = timezone(timedelta(hours=9))
    original = MessageSummary(
        uid=42,
        flags=frozenset({SEEN, FLAGGED, "$Label1"}),
        date=datetime(2023, 12, 31, 23, 59, 58, tzinfo=tokyo),
        size=12345,
        subject="Grüße — 你好 🎉",
        from_=(Address("Zoë Ångström", "zoe@exämple.org"),),
        to=(Address("", "a@example.org"), Address("Bob, Jr.", "bob@example.org")),
        cc=(Address("Ça va", "cc@example.org"),),
        reply_to=(Address("Lists", "list@example.org"),),
        message_id="<abc@example.org>",
        in_reply_to="<parent@example.org>",
        references=("<root@example.org>", "<parent@example.org>"),
        has_attachment=True,
        modseq=987654321,
    )
    assert store.upsert_summaries(ACCOUNT, INBOX, [original]) == 1

    back = store.summary(ACCOUNT, INBOX, 42)

    assert back == original
    assert back is not None and back.date is not None
    assert back.date.utcoffset() == timedelta(hours=9)  # shown in the zone it was written in


def test_summary_without_date_or_addresses(store: Store) -> None:
    bare = MessageSummary(uid=1)
    store.upsert_summaries(ACCOUNT, INBOX, [bare])
    assert store.summary(ACCOUNT, INBOX, 1) == bare
    row = store.row(store.message_index(ACCOUNT, INBOX)[0])
    assert row is not None
    assert (row.date, row.sender, row.sender_email) == (None, "", "")


def test_summary_of_unknown_message_is_none(store: Store) -> None:
    store.upsert_summaries(ACCOUNT, INBOX, [summary(1)])
    assert store.summary(ACCOUNT, INBOX, 2) is None
    assert store.summary(ACCOUNT, "Other", 1) is None
    assert store.summary("home", INBOX, 1) is None


def test_message_row_for_the_list(store: Store) -> None:
    store.upsert_summaries(
        ACCOUNT,
        INBOX,
        [
            summary(
                7,
                flags=frozenset({FLAGGED}),
                size=99,
                from_=(Address("Ann Example", "ann@example.org"), Address("X", "x@example.org")),
                has_attachment=True,
            )
        ],
    )
    (row_id,) = store.message_index(ACCOUNT, INBOX)
    row = store.row(row_id)
    assert row is not None
    assert (row.account, row.folder, row.uid, row.size) == (ACCOUNT, INBOX, 7, 99)
    assert (row.sender, row.sender_email) == ("Ann Example", "ann@example.org")
    assert row.unread and row.flagged and row.has_attachment
    assert not row.has_body


def test_upsert_updates_flags_and_keeps_row_id(store: Store) -> None:
    store.upsert_summaries(ACCOUNT, INBOX, [summary(1), summary(2)])
    before = list(store.message_index(ACCOUNT, INBOX))

    store.upsert_summaries(ACCOUNT, INBOX, [summary(1, flags=frozenset({SEEN}), subject="new")])

    assert list(store.message_index(ACCOUNT, INBOX)) == before
    again = store.summary(ACCOUNT, INBOX, 1)
    assert again is not None
    assert again.flags == {SEEN} and again.subject == "new"
    assert store.counts(ACCOUNT, INBOX) == (2, 1)


def test_update_flags_changes_only_the_named_messages(store: Store) -> None:
    store.upsert_summaries(ACCOUNT, INBOX, [summary(u) for u in (1, 2, 3)])

    changed = store.update_flags(
        ACCOUNT, INBOX, [(1, frozenset({SEEN})), (3, frozenset({FLAGGED})), (99, frozenset())]
    )

    assert changed == 2
    flags = {u: cached_flags(store, ACCOUNT, INBOX, u) for u in (1, 2, 3)}
    assert flags == {1: {SEEN}, 2: frozenset(), 3: {FLAGGED}}


def test_counts_follow_flag_changes(store: Store) -> None:
    assert store.counts(ACCOUNT, INBOX) == (0, 0)
    store.upsert_summaries(ACCOUNT, INBOX, [summary(u) for u in range(1, 6)])
    assert store.counts(ACCOUNT, INBOX) == (5, 5)

    store.update_flags(ACCOUNT, INBOX, [(1, frozenset({SEEN})), (2, frozenset({SEEN, FLAGGED}))])
    assert store.counts(ACCOUNT, INBOX) == (5, 3)

    store.update_flags(ACCOUNT, INBOX, [(1, frozenset())])
    assert store.counts(ACCOUNT, INBOX) == (5, 4)

    store.remove_uids(ACCOUNT, INBOX, [3])
    assert store.counts(ACCOUNT, INBOX) == (4, 3)


def test_remove_uids(store: Store) -> None:
    store.upsert_summaries(ACCOUNT, INBOX, [summary(u) for u in range(1, 1201)])
    store.put_body(ACCOUNT, INBOX, 5, b"Subject: x\r\n\r\nbody")

    removed = store.remove_uids(ACCOUNT, INBOX, iter([*range(2, 1100), 5, 5000]))

    assert removed == 1098
    assert store.uids(ACCOUNT, INBOX) == [1, *range(1100, 1201)]
    assert store.body(ACCOUNT, INBOX, 5) is None
    assert store.summary(ACCOUNT, INBOX, 5) is None


def test_uids_ascending_and_per_folder(store: Store) -> None:
    store.upsert_summaries(ACCOUNT, INBOX, [summary(u) for u in (30, 10, 20)])
    store.upsert_summaries(ACCOUNT, "Archive", [summary(5)])
    store.upsert_summaries("home", INBOX, [summary(7)])
    assert store.uids(ACCOUNT, INBOX) == [10, 20, 30]
    assert store.uids(ACCOUNT, "Archive") == [5]
    assert store.uids("home", INBOX) == [7]
    assert store.uids(ACCOUNT, "Nowhere") == []


# ---- list order and rows ----------------------------------------------------------------------------


def test_message_index_newest_first_undated_last(store: Store) -> None:
    day = datetime(2024, 1, 10, tzinfo=timezone.utc)
    store.upsert_summaries(
        ACCOUNT,
        INBOX,
        [
            summary(1, date=day),
            summary(2, date=day + timedelta(days=2)),
            summary(3, date=None),
            summary(4, date=day),  # same instant as uid 1: the higher uid comes first
            summary(5, date=day.astimezone(timezone(timedelta(hours=-5))) + timedelta(days=1)),
            summary(6, date=None),
        ],
    )
    index = store.message_index(ACCOUNT, INBOX)
    assert [r.uid for r in store.rows(index)] == [2, 5, 4, 1, 6, 3]
    assert index.itemsize == 8  # a compact vector of row ids, not a list of objects


def test_message_index_of_unknown_folder_is_empty(store: Store) -> None:
    assert len(store.message_index(ACCOUNT, "Nowhere")) == 0


def test_rows_keep_the_order_asked_and_skip_missing(store: Store) -> None:
    store.upsert_summaries(ACCOUNT, INBOX, [summary(u) for u in range(1, 701)])
    index = list(store.message_index(ACCOUNT, INBOX))
    asked = [index[5], 10**9, index[0], index[650], index[3], -1]

    rows = store.rows(asked)

    assert [r.row_id for r in rows] == [index[5], index[0], index[650], index[3]]
    assert [r.uid for r in rows] == [695, 700, 50, 697]
    assert len(store.rows(index)) == 700  # more ids than one IN list holds
    assert store.row(10**9) is None
    assert store.rows([]) == []


# ---- bodies -----------------------------------------------------------------------------------------


def test_body_is_cached_and_flagged_on_the_row(store: Store) -> None:
    store.upsert_summaries(ACCOUNT, INBOX, [summary(1), summary(2)])
    raw = "Subject: hi\r\n\r\nHällo\r\n".encode()

    store.put_body(ACCOUNT, INBOX, 1, raw)
    store.put_body(ACCOUNT, INBOX, 77, b"no such message")  # ignored

    assert store.body(ACCOUNT, INBOX, 1) == raw
    assert store.body(ACCOUNT, INBOX, 2) is None
    assert store.body(ACCOUNT, INBOX, 77) is None
    by_uid = {r.uid: r for r in store.rows(store.message_index(ACCOUNT, INBOX))}
    assert by_uid[1].has_body and not by_uid[2].has_body

    store.put_body(ACCOUNT, INBOX, 1, b"replaced")
    assert store.body(ACCOUNT, INBOX, 1) == b"replaced"
    store.upsert_summaries(ACCOUNT, INBOX, [summary(1, flags=frozenset({SEEN}))])
    assert store.body(ACCOUNT, INBOX, 1) == b"replaced"  # a flag update keeps the body


# ---- folders ----------------------------------------------------------------------------------------


def test_folders_in_display_order(store: Store) -> None:
    names = [
        Folder(ACCOUNT, "zeta"),
        Folder(ACCOUNT, "Trash", role=FolderRole.TRASH),
        Folder(ACCOUNT, "Alpha"),
        Folder(ACCOUNT, "Sent Items", role=FolderRole.SENT),
        Folder(ACCOUNT, "beta/child", delimiter="/", attributes=frozenset({"\\HasNoChildren"})),
        Folder(ACCOUNT, "INBOX", role=FolderRole.INBOX, total=3, unread=1),
        Folder(ACCOUNT, "Drafts", role=FolderRole.DRAFTS),
        Folder(ACCOUNT, "Beta"),
    ]
    store.replace_folders(ACCOUNT, names)

    result = store.folders(ACCOUNT)

    assert [f.name for f in result] == [
        "INBOX",
        "Drafts",
        "Sent Items",
        "Trash",
        "Alpha",
        "Beta",
        "beta/child",
        "zeta",
    ]
    assert set(result) == set(names)  # every field comes back
    assert store.folders("other") == []


def test_replace_folders_drops_folders_gone_from_the_server(store: Store) -> None:
    store.replace_folders(ACCOUNT, [Folder(ACCOUNT, "INBOX", role=FolderRole.INBOX), Folder(ACCOUNT, "Old")])
    store.replace_folders("home", [Folder("home", "Old")])
    store.upsert_summaries(ACCOUNT, "Old", [summary(1)])
    store.put_body(ACCOUNT, "Old", 1, b"x")
    action = store.local.add_action(ACCOUNT, "Old", [1], "flags")

    store.replace_folders(
        ACCOUNT,
        [Folder(ACCOUNT, "INBOX", role=FolderRole.INBOX), Folder(ACCOUNT, "New", delimiter=".")],
    )

    assert [(f.name, f.delimiter) for f in store.folders(ACCOUNT)] == [("INBOX", "/"), ("New", ".")]
    assert store.uids(ACCOUNT, "Old") == []
    assert store.body(ACCOUNT, "Old", 1) is None
    assert [f.name for f in store.folders("home")] == ["Old"]  # other accounts untouched
    assert [a.id for a in store.local.actions(ACCOUNT)] == [action]


def test_replace_folders_updates_role_and_keeps_counts(store: Store) -> None:
    store.replace_folders(ACCOUNT, [Folder(ACCOUNT, "Stuff")])
    store.set_counts(ACCOUNT, "Stuff", total=10, unread=4)

    store.replace_folders(ACCOUNT, [Folder(ACCOUNT, "Stuff", role=FolderRole.ARCHIVE)])

    (folder,) = store.folders(ACCOUNT)
    assert (folder.role, folder.total, folder.unread) == (FolderRole.ARCHIVE, 10, 4)


def test_folder_state(store: Store) -> None:
    assert store.folder_state(ACCOUNT, INBOX) is None
    store.set_folder_state(ACCOUNT, INBOX, FolderState(uidvalidity=7, uidnext=100, highestmodseq=5))
    assert store.folder_state(ACCOUNT, INBOX) == FolderState(7, 100, 5)
    store.set_folder_state(ACCOUNT, INBOX, FolderState(uidvalidity=7, uidnext=120, highestmodseq=9))
    assert store.folder_state(ACCOUNT, INBOX) == FolderState(7, 120, 9)
    assert store.folder_state("home", INBOX) is None


def test_reset_folder_drops_messages_but_not_local_data(store: Store) -> None:
    store.set_folder_state(ACCOUNT, INBOX, FolderState(uidvalidity=7, uidnext=3))
    store.upsert_summaries(ACCOUNT, INBOX, [summary(1), summary(2)])
    store.upsert_summaries(ACCOUNT, "Archive", [summary(1)])
    store.put_body(ACCOUNT, INBOX, 1, b"body")
    action = store.local.add_action(ACCOUNT, INBOX, [1, 2], "move", {"target": "Archive"})
    queued = store.local.add_outbox(ACCOUNT, b"To: x@example.org\r\n\r\nhello")

    store.reset_folder(ACCOUNT, INBOX)

    assert store.uids(ACCOUNT, INBOX) == []
    assert store.body(ACCOUNT, INBOX, 1) is None
    assert store.counts(ACCOUNT, INBOX) == (0, 0)
    assert store.folder_state(ACCOUNT, INBOX) is None
    assert store.uids(ACCOUNT, "Archive") == [1]
    assert [a.id for a in store.local.actions(ACCOUNT)] == [action]
    assert [o.id for o in store.local.outbox(ACCOUNT)] == [queued]
    store.reset_folder(ACCOUNT, "Nowhere")  # nothing to do, no error


def test_a_full_sync_is_marked_incomplete_until_it_ends(store: Store) -> None:
    store.set_folder_state(ACCOUNT, INBOX, FolderState(uidvalidity=7, uidnext=4))
    store.upsert_summaries(ACCOUNT, INBOX, [summary(1), summary(2), summary(3)])

    assert store.begin_full_sync(ACCOUNT, INBOX, 7) == 0  # same UIDVALIDITY: rows stay
    assert store.folder_state(ACCOUNT, INBOX) == FolderState(7, complete=False)
    store.upsert_summaries(ACCOUNT, INBOX, [summary(5)])  # new since; 6 came after the listing
    store.upsert_summaries(ACCOUNT, INBOX, [summary(6)])

    removed = store.finish_full_sync(ACCOUNT, INBOX, [1, 3, 5], FolderState(7, 6, 9))
    assert removed == 1
    assert store.uids(ACCOUNT, INBOX) == [1, 3, 5, 6]
    assert store.folder_state(ACCOUNT, INBOX) == FolderState(7, 6, 9, complete=True)


def test_a_full_sync_under_a_new_uidvalidity_drops_the_old_rows_at_once(store: Store) -> None:
    store.set_folder_state(ACCOUNT, INBOX, FolderState(uidvalidity=7, uidnext=3))
    store.upsert_summaries(ACCOUNT, INBOX, [summary(1), summary(2)])
    store.put_body(ACCOUNT, INBOX, 1, b"old body")

    assert store.begin_full_sync(ACCOUNT, INBOX, 8) == 2

    assert store.uids(ACCOUNT, INBOX) == []
    assert store.folder_state(ACCOUNT, INBOX) == FolderState(8, complete=False)
    store.upsert_summaries(ACCOUNT, INBOX, [summary(1)])
    assert store.body(ACCOUNT, INBOX, 1) is None  # no body of the old message 1


# ---- schema versions --------------------------------------------------------------------------------


def test_reopen_keeps_the_cache(db_path: Path) -> None:
    with Store.open(db_path) as s:
        s.upsert_summaries(ACCOUNT, INBOX, [summary(1)])
    with Store.open(db_path) as s:
        assert s.uids(ACCOUNT, INBOX) == [1]


def test_user_version_mismatch_rebuilds_the_cache(db_path: Path) -> None:
    with Store.open(db_path) as s:
        s.replace_folders(ACCOUNT, [Folder(ACCOUNT, INBOX, role=FolderRole.INBOX)])
        s.upsert_summaries(ACCOUNT, INBOX, [summary(1)])
        s.put_body(ACCOUNT, INBOX, 1, b"body")
    with closing(sqlite3.connect(db_path)) as raw, raw:
        raw.execute(f"PRAGMA user_version={CACHE_VERSION + 1}")
        raw.execute("CREATE TABLE old_cache_table (x)")  # a table an older cache had

    with Store.open(db_path) as s:
        assert s.folders(ACCOUNT) == []
        assert s.uids(ACCOUNT, INBOX) == []
        assert s.body(ACCOUNT, INBOX, 1) is None
        s.upsert_summaries(ACCOUNT, INBOX, [summary(2)])  # the rebuilt cache works
        assert s.uids(ACCOUNT, INBOX) == [2]

    with closing(sqlite3.connect(db_path)) as raw, raw:
        assert raw.execute("PRAGMA user_version").fetchone() == (CACHE_VERSION,)
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "old_cache_table" not in tables


def test_database_settings(db_path: Path) -> None:
    with Store.open(db_path):
        pass
    with closing(sqlite3.connect(db_path)) as raw, raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


# ---- concurrency ------------------------------------------------------------------------------------


def test_writer_and_reader_threads_at_once(store: Store) -> None:
    errors: list[BaseException] = []
    done = threading.Event()
    seen_sizes: dict[int, list[int]] = {0: [], 1: []}

    def writer() -> None:
        try:
            for batch in range(40):
                base = batch * 250
                store.upsert_summaries(ACCOUNT, INBOX, [summary(base + i + 1) for i in range(250)])
                store.update_flags(ACCOUNT, INBOX, [(base + 1, frozenset({SEEN}))])
                store.put_body(ACCOUNT, INBOX, base + 1, b"body")
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            done.set()

    def second_writer() -> None:
        try:
            for uid in range(1, 201):
                store.upsert_summaries(ACCOUNT, "Archive", [summary(uid)])
                store.local.add_action(ACCOUNT, "Archive", [uid], "flags")
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    def reader(n: int) -> None:
        try:
            while not done.is_set():
                index = store.message_index(ACCOUNT, INBOX)
                rows = store.rows(index[:50])
                assert len(rows) == min(50, len(index))
                total, unread = store.counts(ACCOUNT, INBOX)
                assert unread <= total
                seen_sizes[n].append(len(index))
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=writer), threading.Thread(target=second_writer)] + [
        threading.Thread(target=reader, args=(n,)) for n in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert errors == []
    assert store.counts(ACCOUNT, INBOX) == (10_000, 10_000 - 40)
    assert store.uids(ACCOUNT, "Archive") == list(range(1, 201))
    assert len(store.local.actions(ACCOUNT)) == 200
    for sizes in seen_sizes.values():
        assert len(sizes) > 1  # the readers really ran while the writer wrote
        assert sizes == sorted(sizes)  # each read saw a committed state, never a step back
