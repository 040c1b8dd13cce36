"""The bulk of a first sync fetched by a child process, against the private Dovecot: it fills the
cache as the in-process sync does, gets the password through a pipe only, and a child that is
killed or stopped part-way leaves the folder for the next sync to finish."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from mailbag.domain.events import Event, MessagesChanged, SyncProgress
from mailbag.services import imap_account
from mailbag.services.imap_account import ImapAccount
from mailbag.store.store import Store
from tests.integration.accounts import Recorder, imap_account_config, make_account
from tests.integration.test_sync_interrupted import server_uids
from tests.servers.messages import make_message, subject_of

COUNT = 1200
FIRST = 100


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imap_account, "FIRST_CHUNK", FIRST)
    monkeypatch.setattr(imap_account, "CHUNK", 200)
    monkeypatch.setattr(imap_account, "CHILD_MIN", 200)


def child_account(dovecot, user, db: Path) -> tuple[ImapAccount, Store, Recorder]:
    account, store, events = make_account(dovecot, user, db)
    account.sync_in_child = True
    return account, store, events


def complete(store: Store) -> bool:
    """Whether the cache holds INBOX as completely synced."""
    state = store.folder_state("work", "INBOX")
    return state is not None and state.complete


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (not a zombie waiting to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


async def test_the_bulk_of_a_first_sync_comes_from_a_child_process(
    dovecot, mail_user, tmp_path, small_chunks
):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(COUNT)))
    account, store, events = child_account(dovecot, mail_user, tmp_path / "c.db")
    children: dict[int, tuple[bytes, bytes]] = {}

    def look_at_child(event: Event) -> None:
        child = account.child
        if isinstance(event, MessagesChanged) and child is not None and child.pid not in children:
            proc = Path(f"/proc/{child.pid}")
            children[child.pid] = ((proc / "cmdline").read_bytes(), (proc / "environ").read_bytes())

    await account.sync_once(on_progress=look_at_child)

    assert len(children) == 1, "no child process did the sync"
    (cmdline, environ), = children.values()
    assert b"mailbag.services.sync_child" in cmdline
    assert mail_user.password.encode() not in cmdline + environ
    progress = [e for e in events.of(SyncProgress) if e.folder == "INBOX"]
    assert progress[0].done == FIRST
    assert progress[-1].done == progress[-1].total == COUNT
    assert sum(e.added for e in events.of(MessagesChanged) if e.folder == "INBOX") == COUNT
    assert store.uids("work", "INBOX") == server_uids(dovecot, mail_user)
    assert store.counts("work", "INBOX") == (COUNT, COUNT)
    rows = store.rows(store.message_index("work", "INBOX"))
    assert [r.subject for r in rows] == [subject_of(i) for i in range(COUNT - 1, -1, -1)]
    assert complete(store)
    assert account.child is None
    store.close()


async def test_a_child_killed_part_way_leaves_the_folder_for_the_next_sync(
    dovecot, mail_user, tmp_path, small_chunks
):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(COUNT)))
    account, store, events = child_account(dovecot, mail_user, tmp_path / "c.db")
    killed: list[int] = []

    def kill_child(event: Event) -> None:
        child = account.child
        if isinstance(event, MessagesChanged) and child is not None and not killed:
            os.kill(child.pid, signal.SIGKILL)
            killed.append(child.pid)

    with pytest.raises(Exception, match="not synced: INBOX"):
        await account.sync_once(on_progress=kill_child)

    assert killed and not running(killed[0])
    left = store.counts("work", "INBOX")[0]
    assert FIRST < left < COUNT, "the child was not killed part-way"
    assert not complete(store)
    store.close()

    again, store, _ = child_account(dovecot, mail_user, tmp_path / "c.db")
    await again.sync_once()
    assert store.uids("work", "INBOX") == server_uids(dovecot, mail_user)
    assert store.counts("work", "INBOX") == (COUNT, COUNT)
    assert complete(store)
    store.close()


async def test_stopping_the_account_stops_its_child(dovecot, mail_user, tmp_path, small_chunks):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(COUNT)))
    store = Store.open(tmp_path / "c.db")
    children: list[asyncio.subprocess.Process] = []

    def stop_at_first_child_chunk(event: Event) -> None:
        # what quitting mailbag does (MailService.stop): ask the worker to stop, cancel its task
        if isinstance(event, MessagesChanged) and account.child is not None and not children:
            children.append(account.child)
            account.request_stop()
            task.cancel()

    account = ImapAccount(imap_account_config(dovecot, mail_user), store, stop_at_first_child_chunk)
    account.sync_in_child = True
    task = asyncio.create_task(account.run())
    await asyncio.gather(task, return_exceptions=True)

    assert children, "the sync never reached its child"
    assert children[0].returncode is not None and not running(children[0].pid)
    assert FIRST < store.counts("work", "INBOX")[0] < COUNT
    assert not complete(store)
    store.close()
