"""A first sync cut short (the process killed, the folder recreated on the server) never leaves
rows for messages the server no longer has: the next sync makes the cache equal the server."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from mailbag.domain.events import BodyLoaded, Event, MessagesChanged
from mailbag.domain.requests import LoadBody
from mailbag.protocols.imap import FromUid, ImapClient
from mailbag.services import imap_account
from mailbag.services.imap_account import ImapAccount
from mailbag.store.store import Store
from tests.integration.accounts import Recorder, imap_account_config, make_account, other_client
from tests.integration.test_cli_sync import write_config
from tests.servers.messages import make_message, subject_of

BIG = 20_000


def cached_count(db: Path, folder: str) -> int:
    """Rows of ``folder`` in the cache file another process is writing (0 before it exists)."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            (count,) = conn.execute(
                "SELECT count(*) FROM messages JOIN folders ON messages.folder_id = folders.id"
                " WHERE folders.name = ?",
                (folder,),
            ).fetchone()
        return int(count)
    except sqlite3.OperationalError:  # the schema is being created
        return 0


def kill_sync_part_way(config: Path, db: Path, password: str) -> int:
    """Start `mailbag sync`, SIGKILL it once some but not all of INBOX is cached; returns how
    many INBOX rows the killed run left."""
    env = dict(os.environ, MAILBAG_TEST_PASSWORD=password)
    process = subprocess.Popen(
        [sys.executable, "-m", "mailbag", "--config", str(config), "sync"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while cached_count(db, "INBOX") == 0 and time.monotonic() < deadline:
            assert process.poll() is None, "the sync ended before it could be killed"
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL
    return cached_count(db, "INBOX")


def server_uids(dovecot, user, folder: str = "INBOX") -> list[int]:
    client = other_client(dovecot, user)
    try:
        client.select(folder, readonly=True)
        _, data = client.uid("SEARCH", "ALL")
    finally:
        client.logout()
    return sorted(int(u) for u in data[0].split())


def expunge(dovecot, user, uids: list[int]) -> None:
    client = other_client(dovecot, user)
    try:
        client.select("INBOX")
        client.uid("STORE", ",".join(map(str, uids)), "+FLAGS.SILENT", "(\\Deleted)")
        client.expunge()
    finally:
        client.logout()


def test_killed_first_syncs_leave_no_row_of_an_expunged_message(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(BIG)))
    config = write_config(tmp_path / "config.toml", dovecot, mail_user)
    db = Path(os.environ["XDG_DATA_HOME"]) / "mailbag" / "cache.sqlite3"

    for round_ in range(2):
        left = kill_sync_part_way(config, db, mail_user.password)
        assert 0 < left < BIG - 100 * round_, "the sync was not killed part-way"
        # meanwhile another client expunges messages the killed run had cached (the newest come
        # first) and some it had not reached
        uids = server_uids(dovecot, mail_user)
        expunge(dovecot, mail_user, uids[-50:] + uids[100:150])

    env = dict(os.environ, MAILBAG_TEST_PASSWORD=mail_user.password)
    done = subprocess.run(
        [sys.executable, "-m", "mailbag", "--config", str(config), "sync"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr

    with Store.open(db) as store:
        assert store.uids("work", "INBOX") == server_uids(dovecot, mail_user)
        assert store.counts("work", "INBOX") == (BIG - 200, BIG - 200)


class Interrupted(Exception):
    """Stands for the process dying part-way."""


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imap_account, "FIRST_CHUNK", 100)
    monkeypatch.setattr(imap_account, "CHUNK", 200)


async def sync_the_new_folder(dovecot, user, db: Path) -> None:
    """Fill the recreated Projects, sync, and check the cache holds exactly its messages."""
    dovecot.deliver_many(user.name, (make_message(i) for i in range(1000, 1120)), folder="Projects")
    account, store, _ = make_account(dovecot, user, db)
    await account.sync_once()
    rows = store.rows(store.message_index("work", "Projects"))
    assert {r.subject for r in rows} == {subject_of(i) for i in range(1000, 1120)}
    assert store.uids("work", "Projects") == server_uids(dovecot, user, "Projects")
    store.close()


async def test_folder_recreated_after_a_cut_short_first_sync(
    dovecot, mail_user, tmp_path, small_chunks
):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(500)), folder="Projects")
    account, store, _ = make_account(dovecot, mail_user, tmp_path / "c.db")

    def die_after_first_chunk(event: Event) -> None:
        if isinstance(event, MessagesChanged) and event.folder == "Projects" and event.added:
            raise Interrupted

    with pytest.raises(Interrupted):
        await account.sync_once(on_progress=die_after_first_chunk)
    assert 0 < store.counts("work", "Projects")[0] < 500

    store.close()
    dovecot.doveadm("mailbox", "delete", "-u", mail_user.name, "Projects")
    await sync_the_new_folder(dovecot, mail_user, tmp_path / "c.db")


async def test_folder_recreated_while_its_first_sync_runs(dovecot, mail_user, tmp_path, small_chunks):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(500)), folder="Projects")
    account, store, _ = make_account(dovecot, mail_user, tmp_path / "c.db")
    recreated = False

    def recreate_after_first_chunk(event: Event) -> None:
        nonlocal recreated
        if isinstance(event, MessagesChanged) and event.folder == "Projects" and not recreated:
            recreated = True
            dovecot.doveadm("mailbox", "delete", "-u", mail_user.name, "Projects")
            dovecot.doveadm("mailbox", "create", "-u", mail_user.name, "Projects")

    try:
        await account.sync_once(on_progress=recreate_after_first_chunk)
    except Exception:  # noqa: BLE001 - the server may end the session of a deleted folder
        pass
    assert recreated
    store.close()
    await sync_the_new_folder(dovecot, mail_user, tmp_path / "c.db")


async def test_folder_recreated_while_urgent_work_has_another_one_selected(
    dovecot, mail_user, tmp_path, small_chunks, monkeypatch
):
    """The sync serves a body between two chunks (INBOX selected); meanwhile the folder it was
    filling is recreated. Selecting it again shows the new UIDVALIDITY: the sync starts over on
    the new folder at once, and no row of the old one is left."""
    # A chunk is announced once the cache writer has stored it, which may be a few chunks after
    # it was fetched (on a busy machine, after the last one). The writer's short queue holds the
    # fetch back: the first chunk's announcement (and so the request for a body) comes before
    # the fourth chunk is fetched. With nine chunks the body is served in the middle of the sync.
    monkeypatch.setattr(imap_account, "CHUNK", 50)
    dovecot.deliver(mail_user.name, make_message(7))
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(500)), folder="Projects")
    store = Store.open(tmp_path / "c.db")
    events = Recorder()
    recreated = False

    def sink(event: Event) -> None:
        nonlocal recreated
        events(event)
        if isinstance(event, MessagesChanged) and event.folder == "Projects" and not events.of(BodyLoaded):
            inbox = store.uids("work", "INBOX")
            account.submit(LoadBody(account="work", folder="INBOX", uid=inbox[0]))
        elif isinstance(event, BodyLoaded) and not recreated:
            recreated = True
            dovecot.doveadm("mailbox", "delete", "-u", mail_user.name, "Projects")
            dovecot.deliver_many(
                mail_user.name, (make_message(i) for i in range(1000, 1120)), folder="Projects"
            )

    account = ImapAccount(imap_account_config(dovecot, mail_user), store, sink)
    await account.sync_once()

    assert recreated
    rows = store.rows(store.message_index("work", "Projects"))
    assert {r.subject for r in rows} == {subject_of(i) for i in range(1000, 1120)}
    assert store.uids("work", "Projects") == server_uids(dovecot, mail_user, "Projects")
    store.close()


RESUMED = 6000


async def test_a_resumed_first_sync_fetches_only_what_the_killed_one_had_not_cached(
    dovecot, mail_user, tmp_path, monkeypatch
):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(RESUMED)))
    config = write_config(tmp_path / "config.toml", dovecot, mail_user)
    db = Path(os.environ["XDG_DATA_HOME"]) / "mailbag" / "cache.sqlite3"
    left = kill_sync_part_way(config, db, mail_user.password)
    assert 0 < left < RESUMED - 100, "the sync was not killed part-way"

    # meanwhile another client flags and expunges messages the killed run had cached (the
    # newest come first)
    uids = server_uids(dovecot, mail_user)
    client = other_client(dovecot, mail_user)
    try:
        client.select("INBOX")
        client.uid("STORE", str(uids[-1]), "+FLAGS.SILENT", "(\\Flagged)")
        client.uid("STORE", str(uids[-2]), "+FLAGS.SILENT", "(\\Deleted)")
        client.expunge()
    finally:
        client.logout()

    asked: list[int] = []
    plain = ImapClient.fetch_summaries

    def counting(self: ImapClient, uids: Sequence[int] | FromUid, **kwargs: Any) -> Any:
        assert not isinstance(uids, FromUid)
        asked.extend(uids)
        return plain(self, uids, **kwargs)

    monkeypatch.setattr(ImapClient, "fetch_summaries", counting)
    account, store, _ = make_account(dovecot, mail_user, db)
    await account.sync_once()

    assert len(asked) == RESUMED - left  # each message the cache lacked, once
    assert store.uids("work", "INBOX") == server_uids(dovecot, mail_user)
    assert store.counts("work", "INBOX") == (RESUMED - 1, RESUMED - 1)
    newest = store.rows(store.message_index("work", "INBOX"))[0]
    assert newest.uid == uids[-1] and "\\Flagged" in newest.flags
    state = store.folder_state("work", "INBOX")
    assert state is not None and state.complete
    store.close()
