"""Actions on messages just moved into a folder mailbag has not synced yet: the journal takes the
folder's UIDVALIDITY from the move's COPYUID, so the action reaches the message it was made on,
and is still cancelled when the folder is recreated before it is sent."""

from __future__ import annotations

import pytest

from mailbag.domain.events import ActionApplied, ActionRolledBack
from mailbag.domain.models import FLAGGED
from mailbag.domain.requests import MoveMessages, SetFlags
from mailbag.store.local import FLAGS
from mailbag.store.store import Store
from tests.integration.journal_fixtures import synced, triage_offline
from tests.integration.test_live_triage import running, server_state, uid_of, until
from tests.servers.messages import make_message, message_id

pytestmark = pytest.mark.dovecot

LATER = "Later"


def flag(folder: str, uid: int) -> SetFlags:
    return SetFlags(account="work", folder=folder, uids=(uid,), add=frozenset({FLAGGED}))


async def moved_to_a_new_folder(account, store, events, dovecot, user) -> int:
    """Make LATER on the server behind the running account's back and move message 1 of the
    Inbox there (done on the server): its uid in LATER, a folder the account has not synced."""
    dovecot.doveadm("mailbox", "create", "-u", user.name, LATER)
    account.submit(MoveMessages(account="work", folder="INBOX", uids=(uid_of(store, "INBOX", 1),), target=LATER))
    await events.wait_for_one(ActionApplied, lambda e: e.on_server)
    assert store.folder_state("work", LATER) is None  # not synced: no UIDVALIDITY of its own
    return uid_of(store, LATER, 1)


async def moved_then_closed(dovecot, user, db) -> int:
    """Message 1 moved into LATER, then mailbag closed before LATER was synced: its uid there."""
    await synced(dovecot, user, db, 3)
    async with running(dovecot, user, db) as (account, store, events):
        return await moved_to_a_new_folder(account, store, events, dovecot, user)


async def test_a_message_flagged_in_the_folder_it_was_just_moved_to_is_flagged_on_the_server(
    dovecot, mail_user, tmp_path
):
    db = tmp_path / "cache.sqlite3"
    await synced(dovecot, mail_user, db, 3)
    async with running(dovecot, mail_user, db) as (account, store, events):
        moved = await moved_to_a_new_folder(account, store, events, dovecot, mail_user)
        account.submit(flag(LATER, moved))  # at once, before the folder is synced
        await events.wait_for(lambda e: isinstance(e, ActionRolledBack) or (
            isinstance(e, ActionApplied) and e.on_server and "flagged" in e.description))
        assert events.of(ActionRolledBack) == []
    assert server_state(dovecot, mail_user, LATER) == {message_id(1): frozenset({b"\\Flagged"})}


async def test_a_flag_waiting_for_a_folder_recreated_since_touches_none_of_its_new_messages(
    dovecot, mail_user, tmp_path
):
    db = tmp_path / "cache.sqlite3"
    moved = await moved_then_closed(dovecot, mail_user, db)
    await triage_offline(dovecot, mail_user, db, [flag(LATER, moved)])  # not sent yet
    # Meanwhile another program deletes the folder and makes a new one of that name, whose
    # first message gets the moved message's uid.
    dovecot.doveadm("mailbox", "delete", "-u", mail_user.name, LATER)
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(100, 103)), folder=LATER)
    with Store.open(db) as store:
        assert moved in store.uids("work", LATER)

    async with running(dovecot, mail_user, db) as (_account, store, events):
        await until(lambda: store.local.actions("work") == [], 15)
        told = events.of(ActionRolledBack)
    assert [e.description for e in told if "recreated" in e.reason] == ["Could not mark 1 message flagged"]
    assert all(flags == frozenset() for flags in server_state(dovecot, mail_user, LATER).values())


async def test_a_flag_journalled_without_a_uidvalidity_by_an_earlier_run_is_sent(dovecot, mail_user, tmp_path):
    db = tmp_path / "cache.sqlite3"
    moved = await moved_then_closed(dovecot, mail_user, db)
    with Store.open(db) as store:  # as mailbag journalled it before it took COPYUID's
        args = {"add": [FLAGGED], "remove": [], "before": {str(moved): []}, "uidvalidity": 0}
        store.local.add_action("work", LATER, [moved], FLAGS, args)

    async with running(dovecot, mail_user, db) as (_account, store, events):
        await until(lambda: store.local.actions("work") == [], 15)
        assert events.of(ActionRolledBack) == []
    assert server_state(dovecot, mail_user, LATER) == {message_id(1): frozenset({b"\\Flagged"})}
