"""Undo through the mail service against the private Dovecot: it takes back the action the user
made last, waits for one being sent, and follows a message that came back under a new UID."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mailbag.domain.config import AccountConfig, Config
from mailbag.domain.events import ActionApplied, RequestDone
from mailbag.domain.models import SEEN, FolderRole
from mailbag.domain.requests import MoveMessages, SetFlags
from mailbag.services.mail import MailService
from mailbag.store.store import Store
from tests.cache_reads import cached_flags
from tests.integration.accounts import Recorder, imap_account_config, proxied_config
from tests.integration.journal_fixtures import CuttingProxy
from tests.integration.test_live_triage import server_state, uid_of, until
from tests.servers.messages import make_message, message_id

pytestmark = pytest.mark.dovecot


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
            moved = await applied(events, "Move of 1 message to Archive", on_server=True)
            await undone
            back = await applied(events, "Move of 1 message to INBOX", on_server=True)
            await until(lambda: store.local.actions("work") == [], 15)
            await until(lambda: store.counts("work", "INBOX")[0] == 3, 15)
    order = events.events
    assert order.index(moved) < order.index(back)
    assert len([e for e in events.of(ActionApplied) if e.description.startswith("Undone")]) == 1
    assert set(server_state(dovecot, mail_user)) == set(before)
    assert server_state(dovecot, mail_user, "Archive") == {}


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
        await applied(events, "Move of 1 message to Archive", on_server=True)
        assert mail.undo() == "Moved 1 message to Archive"
        await applied(events, "Move of 1 message to INBOX", on_server=True)
        new_uid = uid_of(store, "INBOX", 0)
        assert new_uid != uid
        assert mail.undo() == "Marked 1 message read"
        await applied(events, "Undone: Marked 1 message read", on_server=False)
        await applied(events, "Marked 1 message unread", on_server=True)
        await until(lambda: store.local.actions("work") == [], 15)
        assert SEEN not in cached_flags(store, "work", "INBOX", new_uid)
    assert b"\\Seen" not in server_state(dovecot, mail_user)[message_id(0)]
