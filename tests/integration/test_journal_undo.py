"""Undo through the mail service against the private Dovecot (and a Maildir tree): it takes back
the action the user made last, waits for one being sent, follows a message that came back under a
new UID, and follows a folder renamed since."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from mailbag.domain.config import AccountConfig, Config
from mailbag.domain.events import ActionApplied, ActionRolledBack, ErrorReported, Event, RequestDone
from mailbag.domain.models import FLAGGED, SEEN, FolderRole
from mailbag.domain.requests import CreateFolder, MoveMessages, OpenFolder, RenameFolder, SetFlags
from mailbag.protocols.maildir import MaildirStore
from mailbag.services.mail import MailService
from mailbag.store.store import Store
from tests.cache_reads import cached_flags
from tests.integration.accounts import Recorder, imap_account_config, proxied_config
from tests.integration.journal_fixtures import CuttingProxy
from tests.integration.test_live_triage import server_state, uid_of, until
from tests.servers.messages import make_message, message_id



@contextlib.asynccontextmanager
async def service(
    account: AccountConfig, db: Path
) -> AsyncIterator[tuple[MailService, Store, Recorder]]:
    """The mail service as the app runs it, over one account, synced once."""
    store = Store.open(db)
    events = Recorder()
    mail = MailService(Config(path=None, accounts={"work": account}), store, events)
    await mail.start()
    try:
        await events.wait_for(lambda e: isinstance(e, RequestDone), 30)  # the first sync
        yield mail, store, events
    finally:
        await mail.stop()
        store.close()


def applied(events: Recorder, description: str, *, on_server: bool) -> asyncio.Future[ActionApplied]:
    """Wait for the ActionApplied event with ``description``."""
    return asyncio.ensure_future(
        events.wait_for_one(
            ActionApplied, lambda e: e.description == description and e.on_server == on_server, 30
        )
    )


@pytest.mark.dovecot
async def test_undo_right_after_an_action_takes_that_action_back(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(3)))
    before = server_state(dovecot, mail_user)
    config = imap_account_config(dovecot, mail_user)
    async with service(config, tmp_path / "cache.sqlite3") as (mail, store, events):
        uid = {i: uid_of(store, "INBOX", i) for i in range(3)}
        mail.submit(SetFlags(account="work", folder="INBOX", uids=(uid[0],), add=frozenset({SEEN})))
        await applied(events, "Marked 1 message read", on_server=True)
        mail.submit(MoveMessages(account="work", folder="INBOX", uids=(uid[1],),
                                 target_role=FolderRole.ARCHIVE))
        assert mail.undo() == "Moved 1 message to Archive"  # `a` then `u` at once
        await applied(events, "Undone: Moved 1 message to Archive", on_server=False)
        await until(lambda: store.local.actions("work") == [], 15)
        assert store.counts("work", "INBOX") == (3, 2)
    after = server_state(dovecot, mail_user)
    assert after[message_id(0)] == before[message_id(0)] | {b"\\Seen"}  # the older action stays
    assert set(after) == set(before)  # the message is (back) in the Inbox
    assert server_state(dovecot, mail_user, "Archive") == {}


@pytest.mark.dovecot
async def test_undo_while_the_action_is_being_sent_waits_for_its_answer(
    dovecot, mail_user, tmp_path
):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(3)))
    before = server_state(dovecot, mail_user)
    async with CuttingProxy(dovecot.imap_port, b"UID MOVE", deliver_late=True) as proxy:
        async with service(proxied_config(mail_user, proxy.port), tmp_path / "cache.sqlite3") as (mail, store, events):
            uid = {i: uid_of(store, "INBOX", i) for i in range(3)}
            mail.submit(MoveMessages(account="work", folder="INBOX", uids=(uid[2],),
                                     target="Archive"))
            await proxy.cut.wait()  # the server moved it; its answer is on the way
            undone = applied(events, "Undone: Moved 1 message to Archive", on_server=False)
            assert mail.undo() == "Moved 1 message to Archive"
            proxy.release.set()
            moved = await applied(events, "Moved 1 message to Archive", on_server=True)
            await undone
            back = await applied(events, "Moved 1 message to INBOX", on_server=True)
            await until(lambda: store.local.actions("work") == [], 15)
            await until(lambda: store.counts("work", "INBOX")[0] == 3, 15)
    order = events.events
    assert order.index(moved) < order.index(back)
    assert len([e for e in events.of(ActionApplied) if e.description.startswith("Undone")]) == 1
    assert set(server_state(dovecot, mail_user)) == set(before)
    assert server_state(dovecot, mail_user, "Archive") == {}


@pytest.mark.dovecot
async def test_undo_follows_a_message_that_came_back_under_a_new_uid(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(2)))
    config = imap_account_config(dovecot, mail_user)
    async with service(config, tmp_path / "cache.sqlite3") as (mail, store, events):
        uid = uid_of(store, "INBOX", 0)
        # open (marks it read), `a`, `u`, `u`
        mail.submit(SetFlags(account="work", folder="INBOX", uids=(uid,), add=frozenset({SEEN})))
        await applied(events, "Marked 1 message read", on_server=True)
        mail.submit(MoveMessages(account="work", folder="INBOX", uids=(uid,),
                                 target_role=FolderRole.ARCHIVE))
        await applied(events, "Moved 1 message to Archive", on_server=True)
        assert mail.undo() == "Moved 1 message to Archive"
        await applied(events, "Moved 1 message to INBOX", on_server=True)
        new_uid = uid_of(store, "INBOX", 0)
        assert new_uid != uid
        assert mail.undo() == "Marked 1 message read"
        await applied(events, "Undone: Marked 1 message read", on_server=False)
        await applied(events, "Marked 1 message unread", on_server=True)
        await until(lambda: store.local.actions("work") == [], 15)
        assert SEEN not in cached_flags(store, "work", "INBOX", new_uid)
    assert b"\\Seen" not in server_state(dovecot, mail_user)[message_id(0)]


async def undo_across_a_rename(mail: MailService, store: Store, events: Recorder) -> None:
    """Move message 0 to a new folder Work and flag it there; rename Work to Projects; undo both.
    Each undo must be done on the server, under the new name."""
    mail.submit(CreateFolder(account="work", name="Work"))
    await applied(events, "Folder Work created", on_server=True)
    mail.submit(MoveMessages(account="work", folder="INBOX", uids=(uid_of(store, "INBOX", 0),), target="Work"))
    await applied(events, "Moved 1 message to Work", on_server=True)
    opened = mail.submit(OpenFolder(account="work", folder="Work"))  # the user goes there
    await events.wait_for(lambda e: isinstance(e, RequestDone) and e.request_id == opened, 30)
    mail.submit(SetFlags(account="work", folder="Work", uids=(uid_of(store, "Work", 0),), add=frozenset({FLAGGED})))
    await applied(events, "Marked 1 message flagged", on_server=True)
    mail.submit(RenameFolder(account="work", folder="Work", new_name="Projects"))
    await applied(events, "Folder Work renamed to Projects", on_server=True)

    def settled(description: str) -> Callable[[Event], bool]:
        def match(event: Event) -> bool:
            if isinstance(event, ActionApplied):
                return event.on_server and event.description == description
            return isinstance(event, (ActionRolledBack, ErrorReported))
        return match

    assert mail.undo() == "Marked 1 message flagged"
    done = await events.wait_for(settled("Marked 1 message unflagged"), 30)
    assert isinstance(done, ActionApplied), done
    assert mail.undo() == "Moved 1 message to Work"
    done = await events.wait_for(settled("Moved 1 message to INBOX"), 30)
    assert isinstance(done, ActionApplied), done
    assert not events.of(ActionRolledBack) and not events.of(ErrorReported)
    assert store.uids("work", "Projects") == []
    assert FLAGGED not in cached_flags(store, "work", "INBOX", uid_of(store, "INBOX", 0))


@pytest.mark.dovecot
async def test_undo_after_a_folder_rename_acts_under_the_new_name(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(2)))
    async with service(imap_account_config(dovecot, mail_user), tmp_path / "cache.sqlite3") as (mail, store, events):
        await undo_across_a_rename(mail, store, events)
    inbox = server_state(dovecot, mail_user)
    assert set(inbox) == {message_id(0), message_id(1)}
    assert b"\\Flagged" not in inbox[message_id(0)]
    assert server_state(dovecot, mail_user, "Projects") == {}


async def test_undo_after_a_folder_rename_on_maildir_acts_under_the_new_name(tmp_path):
    root = tmp_path / "Mail"
    md = MaildirStore(root, "work", create=True)
    for i in range(2):
        md.add("INBOX", make_message(i))
    config = AccountConfig(name="work", email="me@example.test", maildir=root)
    async with service(config, tmp_path / "cache.sqlite3") as (mail, store, events):
        await undo_across_a_rename(mail, store, events)
    assert len(md.flags("INBOX")) == 2 and md.flags("Projects") == {}
    assert all(FLAGGED not in flags for flags in md.flags("INBOX").values())
