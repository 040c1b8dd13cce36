"""The local store: the journal and the outbox in their own file, kept when the cache goes."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from mailbag.paths import try_lock
from mailbag.store import local as local_module
from mailbag.store.local import (
    ACTIVE,
    ASIDE,
    CANCELLED,
    DONE,
    IN_FLIGHT,
    PENDING,
    LocalStore,
    LocalStoreDamaged,
)
from mailbag.store.records import PendingAction
from mailbag.store.store import Store
from mailbag.store.version import CACHE_VERSION
from tests.unit.cli import environment, mailbag, run_in_terminal
from tests.unit.test_damaged_cache import demo_config

A, INBOX = "work", "INBOX"


def action_of(local: LocalStore, action_id: int) -> PendingAction:
    """The journalled action ``action_id``, which must exist."""
    action = local.action(action_id)
    assert action is not None
    return action


@pytest.fixture
def local(tmp_path: Path) -> Iterator[LocalStore]:
    store = LocalStore.open(tmp_path / "local.sqlite3")
    yield store
    store.close()


def test_journal_in_order_per_account(local: LocalStore) -> None:
    first = local.add_action(A, INBOX, [3, 1, 2], "move", {"target": "Archive"})
    second = local.add_action(A, INBOX, [4], "flags", None)
    local.add_action("home", INBOX, [9], "expunge")
    assert [(a.id, a.uids, a.action, a.args) for a in local.actions(A)] == [
        (first, (3, 1, 2), "move", {"target": "Archive"}),
        (second, (4,), "flags", {}),
    ]
    assert local.transition(first, ACTIVE, DONE, {"result": {"3": 10}})
    assert [a.id for a in local.actions(A)] == [second]
    assert [a.state for a in local.actions(A, None)] == [DONE, PENDING]
    assert action_of(local, first).args == {"target": "Archive", "result": {"3": 10}}
    assert [a.id for a in local.actions(A, None, after=first)] == [second]
    assert local.action(9999) is None


def test_a_replay_and_an_undo_never_both_take_an_action(local: LocalStore) -> None:
    action = local.add_action(A, INBOX, [1], "move", {"target": "Archive"})
    assert local.transition(action, ACTIVE, IN_FLIGHT, {"since": [7, 40]}, attempt=True)
    assert not local.transition(action, (PENDING, ASIDE), CANCELLED)  # too late to cancel
    sent = action_of(local, action)
    assert (sent.state, sent.attempts, sent.args["since"]) == (IN_FLIGHT, 1, [7, 40])
    assert local.transition(action, (IN_FLIGHT,), IN_FLIGHT, {"undo": True})
    assert action_of(local, action).args == {"target": "Archive", "since": [7, 40], "undo": True}

    other = local.add_action(A, INBOX, [2], "flags")
    assert local.transition(other, (PENDING, ASIDE), CANCELLED)
    assert not local.transition(other, ACTIVE, IN_FLIGHT, attempt=True)  # undone: never sent
    assert action_of(local, other).attempts == 0


def test_each_account_sends_its_journal_under_a_lock_file_of_its_own_beside_the_store(
    local: LocalStore,
) -> None:
    names = ["work", "../../etc/x", "a/b", "Ärger \x00\udcff", "." * 300, ""]
    files = [local.journal_lock_file(name) for name in names]
    assert len(set(files)) == len(names)
    for name, path in zip(names, files):
        assert path.parent == local.path.parent  # whatever the name holds
        assert path == local.journal_lock_file(name)  # the same file for every mailbag
        lock = try_lock(path)
        assert lock is not None
        assert try_lock(path) is None  # held: another mailbag sends that account's journal
        os.close(lock)


def test_set_aside_actions_come_back_on_retry(local: LocalStore) -> None:
    sent = local.add_action(A, INBOX, [1], "copy", {"target": "Archive"})
    never = local.add_action(A, INBOX, [2], "flags")
    for _ in range(3):
        local.transition(sent, ACTIVE, IN_FLIGHT, attempt=True, error="connection lost")
    local.transition(sent, ACTIVE, ASIDE)
    local.transition(never, ACTIVE, ASIDE)
    assert local.actions(A) == []
    assert local.retry_aside(A) == 2
    retried = {a.id: (a.state, a.attempts) for a in local.actions(A)}
    # the one sent before is checked on the server before it goes again
    assert retried == {sent: (IN_FLIGHT, 0), never: (PENDING, 0)}
    assert action_of(local, sent).last_error == "connection lost"


def test_outbox(local: LocalStore) -> None:
    raw = b"From: me@example.org\r\nSubject: hi\r\n\r\nbody\r\n"
    item = local.add_outbox(A, raw)
    local.add_outbox("home", b"other")
    (queued,) = local.outbox(A)
    assert (queued.id, queued.raw, queued.state, queued.attempts) == (item, raw, "queued", 0)
    assert local.update_outbox(item, ["queued"], "queued", error="451 try later", attempted=True)
    assert local.update_outbox(item, ["queued"], "held", error="550 no", attempted=True)
    assert not local.update_outbox(item, ["queued"], "sending")  # no longer queued
    (held,) = local.outbox(A, state="held")
    assert (held.attempts, held.last_error) == (2, "550 no")
    assert local.outbox(A, state="queued") == []
    assert len(local.outbox()) == 2
    assert not local.remove_outbox(item, ["queued"])
    assert local.remove_outbox(item, ["held"])
    assert local.outbox_item(item) is None


def test_outbox_keeps_the_envelope_and_lists_without_the_bytes(local: LocalStore) -> None:
    item = local.add_outbox(
        A, b"x" * 100, sender="me@example.org", recipients=["a@example.org", "b@example.org"],
        subject="hi", send_at=1234.5,
    )
    (listed,) = local.outbox(with_raw=False)
    assert (listed.raw, listed.recipients, listed.sender, listed.subject, listed.send_at) == (
        b"", ("a@example.org", "b@example.org"), "me@example.org", "hi", 1234.5,
    )
    assert local.update_outbox(item, ["queued"], "sent", copy="owed")
    stored = local.outbox_item(item)
    assert stored is not None and (stored.raw, stored.state, stored.copy) == (b"x" * 100, "sent", "owed")


def test_an_outbox_of_the_first_layout_is_migrated_with_its_messages(tmp_path: Path) -> None:
    path = tmp_path / "local.sqlite3"
    with closing(sqlite3.connect(path)) as raw:
        raw.executescript(
            "CREATE TABLE local_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
            "INSERT INTO local_meta VALUES ('local_version', 1);"
            "CREATE TABLE outbox (id INTEGER PRIMARY KEY, account TEXT NOT NULL, raw BLOB NOT NULL,"
            " state TEXT NOT NULL DEFAULT 'queued', attempts INTEGER NOT NULL DEFAULT 0,"
            " last_error TEXT NOT NULL DEFAULT '', created REAL NOT NULL);"
            "INSERT INTO outbox (account, raw, created) VALUES ('work', X'6869', 1.0);"
        )
    store = LocalStore.open(path)
    try:
        (item,) = store.outbox()
        assert (item.raw, item.state, item.recipients, item.send_at) == (b"hi", "queued", (), None)
    finally:
        store.close()


def test_own_file_private_and_in_wal_mode(tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite3"
    with Store.open(cache) as store:
        store.local.add_action(A, INBOX, [1], "flags")
    path = tmp_path / "local.sqlite3"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with closing(sqlite3.connect(path)) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert raw.execute("SELECT count(*) FROM pending_actions").fetchone() == (1,)
    with closing(sqlite3.connect(cache)) as raw:
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert not tables & {"pending_actions", "outbox", "local_meta"}


def test_deleting_the_cache_keeps_the_journal_and_outbox(tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite3"
    with Store.open(cache) as store:
        action = store.local.add_action(A, INBOX, [1, 2], "move", {"target": "Archive"})
        queued = store.local.add_outbox(A, b"raw message")
    for leftover in tmp_path.glob("cache.sqlite3*"):
        leftover.unlink()
    with Store.open(cache) as store:
        assert [a.id for a in store.local.actions(A)] == [action]
        assert [o.id for o in store.local.outbox(A)] == [queued]


def old_layout_cache(path: Path) -> None:
    """A cache file as older versions of mailbag left it: the journal and outbox inside."""
    with Store.open(path):
        pass
    with closing(sqlite3.connect(path)) as raw, raw:
        raw.executescript(
            "CREATE TABLE local_meta (key VARCHAR PRIMARY KEY, value INTEGER NOT NULL);"
            "INSERT INTO local_meta VALUES ('local_version', 1);"
            "CREATE TABLE pending_actions (id INTEGER PRIMARY KEY, account VARCHAR NOT NULL,"
            " folder VARCHAR NOT NULL, uids VARCHAR NOT NULL, action VARCHAR NOT NULL,"
            " args VARCHAR NOT NULL, created FLOAT NOT NULL, state VARCHAR NOT NULL);"
            "INSERT INTO pending_actions VALUES (4, 'work', 'INBOX', '5,6', 'move',"
            " '{\"target\": \"Archive\", \"uidvalidity\": 9}', 1.0, 'pending');"
            "INSERT INTO pending_actions VALUES (5, 'work', 'INBOX', '7', 'flags',"
            " '{}', 2.0, 'done');"
            "CREATE TABLE outbox (id INTEGER PRIMARY KEY, account VARCHAR NOT NULL,"
            " raw BLOB NOT NULL, state VARCHAR NOT NULL, attempts INTEGER NOT NULL,"
            " last_error VARCHAR NOT NULL, created FLOAT NOT NULL);"
            "INSERT INTO outbox VALUES (2, 'work', X'6869', 'queued', 0, '', 3.0);"
        )


@pytest.mark.parametrize("version", [CACHE_VERSION, CACHE_VERSION - 1], ids=["same", "older"])
def test_rows_of_the_old_layout_move_over_once(tmp_path: Path, version: int) -> None:
    cache = tmp_path / "cache.sqlite3"
    old_layout_cache(cache)
    with closing(sqlite3.connect(cache)) as raw, raw:
        raw.execute(f"PRAGMA user_version={version}")
    for _ in range(2):  # a second start finds nothing more to move
        with Store.open(cache) as store:
            (pending,) = store.local.actions(A)
            assert (pending.id, pending.uids, pending.args) == (
                4,
                (5, 6),
                {"target": "Archive", "uidvalidity": 9},
            )
            assert [a.id for a in store.local.actions(A, None)] == [4, 5]
            assert [(o.id, o.raw) for o in store.local.outbox()] == [(2, b"hi")]
    with closing(sqlite3.connect(cache)) as raw:
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert not tables & {"pending_actions", "outbox", "local_meta"}


def test_tables_are_migrated_forward(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "local.sqlite3"
    with closing(LocalStore.open(path)) as store:
        store.add_outbox(A, b"kept")

    def add_priority(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 5")

    monkeypatch.setattr(local_module, "LOCAL_VERSION", local_module.LOCAL_VERSION + 1)
    monkeypatch.setitem(local_module.LOCAL_MIGRATIONS, local_module.LOCAL_VERSION - 1, add_priority)
    with closing(LocalStore.open(path)) as store:
        assert [o.raw for o in store.outbox(A)] == [b"kept"]
    with closing(LocalStore.open(path)):  # a second open must not run the step again
        pass
    with closing(sqlite3.connect(path)) as raw:
        assert raw.execute("SELECT raw, priority FROM outbox").fetchall() == [(b"kept", 5)]
        version = raw.execute("SELECT value FROM local_meta WHERE key='local_version'").fetchone()
    assert version == (local_module.LOCAL_VERSION,)


def damage(path: Path) -> None:
    """Overwrite a page in the middle of a local store full of journal rows."""
    with closing(LocalStore.open(path)) as store:
        for i in range(400):
            store.add_action(A, INBOX, range(i, i + 20), "flags", {"add": ["\\Seen"], "i": i})
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 6 * page
    data[3 * page : 4 * page] = b"\xa5" * page
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["pages", "not a database"])
def test_a_damaged_local_store_is_refused(tmp_path: Path, how: str) -> None:
    path = tmp_path / "local.sqlite3"
    if how == "pages":
        damage(path)
    else:
        path.write_bytes(b"this is not a database " * 200)
    before = path.read_bytes()
    with pytest.raises(LocalStoreDamaged) as caught:
        Store.open(tmp_path / "cache.sqlite3")
    message = str(caught.value)
    assert f"the local store {path} is damaged" in message and "\n" not in message
    assert path.read_bytes() == before  # left as it was, for the user to look at


def test_a_damaged_local_store_is_one_line_for_the_ui_and_sync(tmp_path: Path) -> None:
    config = demo_config(tmp_path)
    path = tmp_path / "data" / "mailbag" / "local.sqlite3"
    path.parent.mkdir(parents=True)
    damage(path)
    expected = (
        f"mailbag: the local store {path} is damaged (database disk image is malformed);"
        " mailbag will not apply actions from it. Move it away to start with an empty journal"
        " and outbox"
    )
    status, screen = run_in_terminal("--config", str(config), env=environment(tmp_path))
    assert "Traceback" not in screen and expected in screen.replace("\r\n", "")
    assert status == 2
    synced = mailbag("--config", str(config), "sync", env_home=tmp_path)
    assert (synced.returncode, synced.stderr.splitlines()) == (2, [expected])


def test_prune_drops_only_finished_actions_beyond_those_kept(local: LocalStore) -> None:
    ids = [local.add_action(A, INBOX, [n], "flags", {"add": ["\\Seen"]}) for n in range(10)]
    for action_id in ids[:8]:
        local.transition(action_id, ACTIVE, DONE if action_id % 2 else CANCELLED)
    local.transition(ids[8], ACTIVE, ASIDE)  # set aside: R retries it; never pruned
    other = local.add_action("home", INBOX, [1], "flags", {})
    local.transition(other, ACTIVE, DONE)

    assert local.prune_actions(A, keep=3, below=ids[2]) == 2  # undo can still reach ids[2]
    assert [a.id for a in local.actions(A, None)] == ids[2:]
    assert local.prune_actions(A, keep=3) == 3
    assert [a.id for a in local.actions(A, None)] == ids[5:]
    assert local.prune_actions(A, keep=3) == 0
    assert local.prune_actions(A, keep=0) == 3
    assert [(a.id, a.state) for a in local.actions(A, None)] == [(ids[8], ASIDE), (ids[9], PENDING)]
    assert [a.id for a in local.actions("home", None)] == [other]


def test_the_messages_a_pop3_download_was_writing_are_those_of_its_account_not_yet_stored(local: LocalStore) -> None:
    local.pop3_fetching("old", {"u1": "k1", "u2": "k2", "u3": "k3"})
    local.pop3_fetching("other", {"u1": "x1"})
    local.pop3_stored("old", ["u2"])
    local.pop3_forget("old", ["u3"])
    assert local.pop3_cut_short("old") == {"u1": "k1"}
    assert local.pop3_cut_short("other") == {"u1": "x1"}
    assert local.pop3_cut_short("nobody") == {}


@pytest.mark.parametrize(
    "version", [2, 4, 5, 6], ids=["before POP3", "before digests", "before sizes", "before relisted"]
)
def test_a_local_store_of_an_older_version_gets_the_pop3_digests_and_keeps_its_downloads(
    tmp_path: Path, version: int
) -> None:
    path = tmp_path / "local.sqlite3"
    with closing(LocalStore.open(path)) as store:
        store.pop3_fetching("old", {"u1": "k1"}, {"u1": "d1"}, sizes={"u1": 10})
    with closing(sqlite3.connect(path)) as raw, raw:  # the file as that version left it
        if version == 2:
            raw.execute("DROP TABLE pop3_uidls")
            for column in ("mark_account", "mark_folder", "mark_uid", "mark_flag"):  # of version 4
                raw.execute(f"ALTER TABLE outbox DROP COLUMN {column}")
        else:
            raw.execute("ALTER TABLE pop3_uidls DROP COLUMN relisted")
        if version in (4, 5):
            raw.execute("ALTER TABLE pop3_uidls DROP COLUMN size")
            if version == 4:
                raw.execute("ALTER TABLE pop3_uidls DROP COLUMN digest")
        raw.execute("UPDATE local_meta SET value = ? WHERE key = 'local_version'", (version,))
    for _ in range(2):  # a second start has nothing more to do
        with closing(LocalStore.open(path)) as store:
            kept = [(d.uidl, d.key, d.digest, d.size) for d in store.pop3_downloads("old").values() if d.uidl != "u2"]
            assert kept == {
                2: [], 4: [("u1", "k1", "", 0)], 5: [("u1", "k1", "d1", 0)], 6: [("u1", "k1", "d1", 10)]
            }[version]
            store.pop3_fetching("old", {"u2": "k2"}, {"u2": "d2"}, sizes={"u2": 20})
            assert (store.pop3_downloads("old")["u2"].digest, store.pop3_downloads("old")["u2"].size) == ("d2", 20)


def test_a_pop3_download_known_again_under_a_new_uidl_keeps_its_file_and_dates(local: LocalStore) -> None:
    local.pop3_fetching("old", {"u1": "k1", "u2": "k2"}, {"u1": "d1", "u2": "d2"})
    local.pop3_stored("old", ["u1", "u2"])
    local.pop3_deleted("old", ["u2"])
    before = local.pop3_downloads("old")
    local.pop3_fetching("old", {"n3": "k3"}, {"n3": "d3"}, renamed={"u1": "n1", "u2": "n2"})
    after = local.pop3_downloads("old")
    assert sorted(after) == ["n1", "n2", "n3"]
    assert (after["n1"].key, after["n1"].downloaded, after["n1"].digest) == ("k1", before["u1"].downloaded, "d1")
    # It is on the server again, under its new UIDL: deleted there no longer.
    assert after["n2"].deleted is None and after["n2"].key == "k2"
