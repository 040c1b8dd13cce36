"""Folders made, renamed, deleted and subscribed on the real backends, with what only a real
server or tree shows: the namespace prefix and separator of the server, modified UTF-7 on the
wire, the special rename of INBOX, the server's refusal in its own words, the nested Maildir
layout on disk, the journal guarding a folder its actions still wait for, and offline."""

from __future__ import annotations

import asyncio
import imaplib
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from mailbag.domain.config import MaildirLayout
from mailbag.domain.events import ActionApplied, ConnectionChanged, ErrorReported, RequestDone, RequestFailed
from mailbag.domain.models import ConnectionState
from mailbag.domain.requests import (
    CreateFolder,
    DeleteFolder,
    RenameFolder,
    Request,
    SubscribeFolder,
)
from mailbag.protocols.maildir import MaildirStore
from mailbag.services.backend import Backend
from mailbag.services.imap_account import ImapAccount
from mailbag.services.maildir_account import MaildirAccount
from mailbag.store.local import ASIDE, MOVE, PENDING
from mailbag.store.store import Store
from tests.integration.accounts import Recorder, account_running, imap_account_config, other_client
from tests.integration.test_imap_compat import compat_config
from tests.integration.test_imap_compat import other_client as compat_client
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.messages import make_message


@asynccontextmanager
async def served(account: Backend, events: Recorder) -> AsyncIterator[None]:
    """Run ``account`` until its first sync is done."""
    async with account_running(account):
        await events.wait_for(lambda e: isinstance(e, RequestDone), timeout=30)
        yield


@asynccontextmanager
async def on_dovecot(
    dovecot: DovecotServer, user: MailUser, tmp_path: Path
) -> AsyncIterator[tuple[ImapAccount, Recorder, Store]]:
    """An account on the private Dovecot, synced once, with its events and cache."""
    events = Recorder()
    with Store.open(tmp_path / "c.db") as store:
        account = ImapAccount(imap_account_config(dovecot, user), store, events)
        async with served(account, events):
            yield account, events, store


async def answer(account: Backend, events: Recorder, request: Request) -> RequestDone | RequestFailed:
    account.submit(request)
    reply = await events.wait_for(
        lambda e: isinstance(e, (RequestDone, RequestFailed)) and e.request_id == request.request_id, timeout=30
    )
    assert isinstance(reply, (RequestDone, RequestFailed))
    return reply


def listed(client: imaplib.IMAP4, command: str = "LIST") -> list[bytes]:
    """The raw names a LIST (or LSUB) answers, as another client sees them."""
    kind, lines = client.list() if command == "LIST" else client.lsub()
    assert kind == "OK"
    return [line.rsplit(b" ", 1)[-1].strip(b'"') for line in lines if isinstance(line, bytes)]


@pytest.mark.dovecot
async def test_names_go_under_the_namespace_prefix_with_its_separator(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path
) -> None:
    events = Recorder()
    with Store.open(tmp_path / "c.db") as store:
        account = ImapAccount(compat_config(dovecot, mail_user), store, events)
        async with served(account, events):
            assert isinstance(await answer(account, events, CreateFolder(account="work", name="Projects")), RequestDone)
            assert isinstance(
                await answer(account, events, RenameFolder(account="work", folder="INBOX.Projects", new_name="Plans")),
                RequestDone,
            )
            names = {f.name for f in store.folders("work")}
    assert "INBOX.Plans" in names and "INBOX.Projects" not in names
    assert "Folder Projects renamed to Plans" in [e.description for e in events.of(ActionApplied)]
    client = compat_client(dovecot, mail_user)
    try:
        assert b"INBOX.Plans" in listed(client)
    finally:
        client.logout()


@pytest.mark.dovecot
async def test_names_travel_in_modified_utf7_and_subscriptions_change(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path
) -> None:
    async with on_dovecot(dovecot, mail_user, tmp_path) as (account, events, store):
        await answer(account, events, CreateFolder(account="work", name="Zoë"))
        await answer(account, events, SubscribeFolder(account="work", folder="Zoë"))
        client = other_client(dovecot, mail_user)
        try:
            assert b"Zo&AOs-" in listed(client)
            assert b"Zo&AOs-" in listed(client, "LSUB")
            subscribed = {f.name: f for f in store.folders("work")}["Zoë"]
            assert "\\subscribed" in {a.lower() for a in subscribed.attributes}
            await answer(account, events, SubscribeFolder(account="work", folder="Zoë", subscribe=False))
            assert b"Zo&AOs-" not in listed(client, "LSUB")
        finally:
            client.logout()
    assert "Unsubscribed from Zoë" in [e.description for e in events.of(ActionApplied)]


@pytest.mark.dovecot
async def test_renaming_inbox_moves_its_messages_and_leaves_it_empty(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path
) -> None:
    for n in range(1, 4):
        dovecot.deliver(mail_user.name, make_message(n))
    async with on_dovecot(dovecot, mail_user, tmp_path) as (account, events, store):
        assert len(store.uids("work", "INBOX")) == 3
        reply = await answer(account, events, RenameFolder(account="work", folder="INBOX", new_name="Old mail"))
        assert isinstance(reply, RequestDone)
        assert store.uids("work", "INBOX") == []
        account.mark_dirty("Old mail")
        for _ in range(600):
            if len(store.uids("work", "Old mail")) == 3:
                break
            await asyncio.sleep(0.05)
        assert len(store.uids("work", "Old mail")) == 3
        assert store.counts("work", "INBOX") == (0, 0)


@pytest.mark.dovecot
async def test_a_refusal_shows_the_servers_reason_and_changes_nothing(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path
) -> None:
    async with on_dovecot(dovecot, mail_user, tmp_path) as (account, events, store):
        await answer(account, events, CreateFolder(account="work", name="Parent/Child"))
        reply = await answer(account, events, DeleteFolder(account="work", folder="Parent"))
        names = {f.name for f in store.folders("work")}
    assert isinstance(reply, RequestFailed) and "children" in reply.error.lower()
    assert any("children" in e.message.lower() for e in events.of(ErrorReported))
    assert {"Parent", "Parent/Child"} <= names


def maildir_account(root: Path, store: Store, events: Recorder, layout: MaildirLayout | None = None) -> MaildirAccount:
    return MaildirAccount("home", root, store, events, layout=layout)


async def test_a_nested_tree_renames_and_deletes_directories(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    md = MaildirStore(root, "home", create=True, layout="nested")
    md.create_folder("Work/Projects")
    md.add("Work/Projects", make_message(1))
    events = Recorder()
    with Store.open(tmp_path / "c.db") as store:
        account = maildir_account(root, store, events, "nested")
        async with served(account, events):
            reply = await answer(account, events, RenameFolder(account="home", folder="Work", new_name="Jobs"))
            assert isinstance(reply, RequestDone)
            assert len(store.uids("home", "Jobs/Projects")) == 1  # the cache went along, nothing read again
            assert (root / "Jobs" / "Projects" / "cur").is_dir() and not (root / "Work").exists()
            refused = await answer(account, events, DeleteFolder(account="home", folder="Jobs"))
            assert isinstance(refused, RequestFailed) and "below it" in refused.error
            done = await answer(account, events, DeleteFolder(account="home", folder="Jobs/Projects"))
            assert isinstance(done, RequestDone)
            assert not (root / "Jobs" / "Projects").exists()
            assert "Jobs/Projects" not in {f.name for f in store.folders("home")}


async def test_a_folder_with_actions_waiting_is_not_renamed(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    md = MaildirStore(root, "home", create=True)
    md.create_folder("Work")
    events = Recorder()
    with Store.open(tmp_path / "c.db") as store:
        waiting = store.local.add_action("home", "INBOX", [7], MOVE, {"target": "Work", "uidvalidity": 1})
        store.local.transition(waiting, (PENDING,), ASIDE)  # failed, set aside: waits for $
        account = maildir_account(root, store, events)
        async with served(account, events):
            reply = await answer(account, events, RenameFolder(account="home", folder="Work", new_name="Jobs"))
            deleted = await answer(account, events, DeleteFolder(account="home", folder="Work"))
    assert isinstance(reply, RequestFailed) and "1 action" in reply.error and "Work" in reply.error
    assert isinstance(deleted, RequestFailed) and "1 action" in deleted.error
    assert (root / ".Work" / "cur").is_dir() and not (root / ".Jobs").exists()


async def test_offline_a_folder_change_is_refused_at_once_and_nothing_is_queued(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    MaildirStore(root, "home", create=True)
    shutil.rmtree(root)  # the disk it was on is gone
    events = Recorder()
    with Store.open(tmp_path / "c.db") as store:
        account = maildir_account(root, store, events)
        async with account_running(account):
            await events.wait_for(lambda e: isinstance(e, ConnectionChanged) and e.state == ConnectionState.ERROR)
            reply = await answer(account, events, CreateFolder(account="home", name="Later"))
            MaildirStore(root, "home", create=True)
            await events.wait_for(lambda e: isinstance(e, ConnectionChanged) and e.state == ConnectionState.ONLINE)
    assert isinstance(reply, RequestFailed)
    assert "offline" in reply.error and "only while connected" in reply.error
    assert not (root / ".Later").exists()
