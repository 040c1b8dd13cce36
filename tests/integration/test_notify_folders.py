"""With NOTIFY (the private Dovecot), a folder another mail program makes, subscribes, renames or
deletes shows in the account's folders at once: no poll interval passes in these tests."""

from __future__ import annotations

import contextlib
import dataclasses
import imaplib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from mailbag.domain.events import ErrorReported, FoldersChanged, Notice, RequestDone
from mailbag.domain.models import Folder
from mailbag.domain.requests import CheckFolders
from mailbag.services.imap_account import ImapAccount
from mailbag.store.store import Store
from tests.integration.accounts import Recorder, account_running, imap_account_config, other_client
from tests.integration.test_live_triage import until, watching
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.messages import make_message

pytestmark = pytest.mark.dovecot


@contextlib.asynccontextmanager
async def notified_account(
    dovecot: DovecotServer, user: MailUser, db: Path
) -> AsyncIterator[tuple[ImapAccount, Store, Recorder]]:
    """An account whose only word of other programs' folder changes is NOTIFY: its folders are
    never looked at on a schedule during a test."""
    config = imap_account_config(dovecot, user)
    assert config.imap is not None
    config = dataclasses.replace(config, imap=dataclasses.replace(config.imap, poll_seconds=3600))
    with Store.open(db) as store:
        events = Recorder()
        account = ImapAccount(config, store, events)
        async with account_running(account):
            await events.wait_for(lambda e: isinstance(e, RequestDone), timeout=30)  # the first sync
            await watching(account)
            assert account.watcher is not None and account.watcher.notify_active
            yield account, store, events


@contextlib.contextmanager
def another_program(dovecot: DovecotServer, user: MailUser) -> Iterator[imaplib.IMAP4_SSL]:
    client = other_client(dovecot, user)
    try:
        yield client
    finally:
        client.logout()


def folder(store: Store, name: str) -> Folder | None:
    return next((f for f in store.folders("work") if f.name == name), None)


def subscribed(store: Store, name: str) -> bool:
    found = folder(store, name)
    return found is not None and "\\subscribed" in {a.lower() for a in found.attributes}


async def test_a_folder_made_and_subscribed_elsewhere_shows_at_once(dovecot, mail_user, tmp_path):
    async with notified_account(dovecot, mail_user, tmp_path / "c.db") as (_account, store, events):
        assert folder(store, "Receipts") is None
        with another_program(dovecot, mail_user) as other:
            other.create("Receipts")
            await until(lambda: folder(store, "Receipts") is not None, 30)
            assert not subscribed(store, "Receipts")
            other.subscribe("Receipts")
            await until(lambda: subscribed(store, "Receipts"), 30)
        shown = events.of(FoldersChanged)[-1].folders
        assert "Receipts" in {f.name for f in shown}
        assert not events.of(ErrorReported) and not events.of(Notice)


async def test_a_folder_deleted_elsewhere_leaves_with_a_notice(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(2)), folder="Projects")
    async with notified_account(dovecot, mail_user, tmp_path / "c.db") as (_account, store, events):
        await until(lambda: len(store.uids("work", "Projects")) == 2, 30)
        with another_program(dovecot, mail_user) as other:
            other.delete("Projects")
        await until(lambda: folder(store, "Projects") is None, 30)
        told = await events.wait_for_one(Notice, lambda e: "Projects" in e.message)
        assert told.message == "Projects was deleted or renamed by another program"
        assert store.uids("work", "Projects") == []
        assert "Projects" not in {f.name for f in events.of(FoldersChanged)[-1].folders}


async def test_a_folder_renamed_elsewhere_shows_under_its_new_name(dovecot, mail_user, tmp_path):
    dovecot.deliver(mail_user.name, make_message(1), folder="Projects")
    async with notified_account(dovecot, mail_user, tmp_path / "c.db") as (_account, store, events):
        await until(lambda: folder(store, "Projects") is not None, 30)
        with another_program(dovecot, mail_user) as other:
            other.rename("Projects", "Done")
        await until(lambda: folder(store, "Done") is not None and folder(store, "Projects") is None, 30)
        told = await events.wait_for_one(Notice, lambda e: "Projects" in e.message)
        assert told.message == "Projects was deleted or renamed by another program"
        assert {"Done"} <= {f.name for f in events.of(FoldersChanged)[-1].folders}




async def test_turning_to_the_folders_lists_them_again_though_notify_said_nothing(
    dovecot, mail_user, tmp_path
):
    """Dovecot holds back its word of a rename until the next folder change elsewhere, and an
    empty folder brings no other word: turning to the folder tree (CheckFolders) lists the
    folders again. Here the cache keeps an old name for a folder the server has under another,
    and the server says nothing of it."""
    with another_program(dovecot, mail_user) as other:
        other.create("Renamed")
    async with notified_account(dovecot, mail_user, tmp_path / "c.db") as (account, store, events):
        await until(lambda: folder(store, "Renamed") is not None, 30)
        store.rename_folder("work", "Renamed", "Empty", "/")  # as cached before the rename
        account.submit(CheckFolders(account="work"))  # what focusing the folder tree asks
        await until(lambda: folder(store, "Renamed") is not None and folder(store, "Empty") is None, 30)
        told = await events.wait_for_one(Notice, lambda e: "Empty" in e.message)
        assert told.message == "Empty was deleted or renamed by another program"
