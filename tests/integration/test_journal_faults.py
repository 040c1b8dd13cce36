"""The journal against the private Dovecot under faults: folders recreated or deleted while actions
wait, links cut and processes killed between a command and its answer, a deleted cache."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

import mailbag as package
from mailbag.domain.events import (
    ActionApplied,
    ActionRolledBack,
    ConnectionChanged,
    ErrorReported,
    RequestDone,
)
from mailbag.domain.models import FLAGGED, SEEN, ConnectionState, FolderRole
from mailbag.domain.requests import DeleteMessages, MoveMessages, RetryAccount, SetFlags
from mailbag.store.local import DONE
from mailbag.store.store import Store
from tests.cache_reads import cached_flags, cached_state
from tests.integration.accounts import other_client, proxied_config
from tests.integration.journal_fixtures import (
    CuttingProxy,
    proxied_account,
    server_headers,
    synced,
    triage_offline,
)
from tests.integration.test_live_triage import running, server_state, until
from tests.killing import kill_once
from tests.servers.messages import make_message, message_id

pytestmark = pytest.mark.dovecot

PROJECTS = "Projects"


def flags(uid_map: dict[int, int], i: int, add: str) -> SetFlags:
    return SetFlags(account="work", folder=PROJECTS, uids=(uid_map[i],), add=frozenset({add}))


async def test_actions_queued_before_a_folder_was_recreated_touch_none_of_the_new_messages(
    dovecot, mail_user, tmp_path
):
    db = tmp_path / "cache.sqlite3"
    uid = await synced(dovecot, mail_user, db, 6, PROJECTS)
    await triage_offline(dovecot, mail_user, db, [
        flags(uid, 0, SEEN),
        flags(uid, 1, FLAGGED),
        MoveMessages(account="work", folder=PROJECTS, uids=(uid[2],), target_role=FolderRole.ARCHIVE),
        DeleteMessages(account="work", folder=PROJECTS, uids=(uid[3],)),
    ])
    with Store.open(db) as store:  # a permanent delete (D), journalled as mailbag does
        validity = cached_state(store, "work", PROJECTS).uidvalidity
        store.local.add_action("work", PROJECTS, [uid[4]], "expunge", {"uidvalidity": validity})
    # Meanwhile another program deletes the folder and makes a new one of that name, whose
    # messages get the same UIDs.
    old_validity = (await _status(dovecot, mail_user, PROJECTS))["UIDVALIDITY"]
    dovecot.doveadm("mailbox", "delete", "-u", mail_user.name, PROJECTS)
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(100, 106)), folder=PROJECTS)
    assert (await _status(dovecot, mail_user, PROJECTS))["UIDVALIDITY"] != old_validity
    before = server_state(dovecot, mail_user, PROJECTS)

    async with running(dovecot, mail_user, db) as (_account, store, events):
        await until(lambda: store.local.actions("work") == [], 15)
        told = events.of(ActionRolledBack)
        await until(lambda: {m for m in [message_id(i) for i in range(100, 106)]}
                    == {store.summary("work", PROJECTS, u).message_id
                        for u in store.uids("work", PROJECTS)}, 15)
    assert server_state(dovecot, mail_user, PROJECTS) == before  # no flag, move or expunge
    assert server_state(dovecot, mail_user, "Archive") == {}
    assert server_state(dovecot, mail_user, "Trash") == {}
    assert len(told) == 5
    assert all("recreated" in e.reason for e in told)


def server_ids(dovecot, user, folder: str) -> list[str]:
    """The Message-ID of every message in ``folder``, copies counted, in UID order."""
    return server_headers(dovecot, user, folder, "Message-ID")


async def _status(dovecot, user, folder: str) -> dict[str, int]:
    client = other_client(dovecot, user)
    try:
        _, data = client.status(f'"{folder}"', "(UIDVALIDITY UIDNEXT)")
    finally:
        client.logout()
    words = data[0].decode().split("(", 1)[1].rstrip(")").split()
    return {words[i]: int(words[i + 1]) for i in range(0, len(words), 2)}


async def test_an_action_on_a_deleted_folder_is_refused_and_the_account_goes_on(
    dovecot, mail_user, tmp_path
):
    dovecot.deliver(mail_user.name, make_message(10))
    db = tmp_path / "cache.sqlite3"
    uid = await synced(dovecot, mail_user, db, 3, PROJECTS)
    await triage_offline(dovecot, mail_user, db, [
        flags(uid, 0, SEEN),
        MoveMessages(account="work", folder=PROJECTS, uids=(uid[1],), target_role=FolderRole.ARCHIVE),
    ])
    dovecot.doveadm("mailbox", "delete", "-u", mail_user.name, PROJECTS)
    dovecot.deliver(mail_user.name, make_message(11))  # and the account has other news

    async with running(dovecot, mail_user, db) as (_account, store, events):
        await until(lambda: store.local.actions("work") == [], 15)
        await until(lambda: store.counts("work", "INBOX")[0] == 2, 15)
        dovecot.deliver(mail_user.name, make_message(12))  # live updates go on too
        await until(lambda: store.counts("work", "INBOX")[0] == 3, 15)
        told = events.of(ActionRolledBack)
        states = [e.state for e in events.of(ConnectionChanged)]
    assert len(told) == 2
    assert ConnectionState.ERROR not in states  # refused, not a broken link: no reconnect
    assert states.count(ConnectionState.CONNECTING) == 1
    assert set(server_state(dovecot, mail_user, "Archive")) == set()


async def test_actions_survive_a_deleted_cache(dovecot, mail_user, tmp_path):
    db = tmp_path / "cache.sqlite3"
    uid = await synced(dovecot, mail_user, db, 5)
    before = server_state(dovecot, mail_user)
    await triage_offline(dovecot, mail_user, db, [
        SetFlags(account="work", folder="INBOX", uids=(uid[0],), add=frozenset({FLAGGED})),
        MoveMessages(account="work", folder="INBOX", uids=(uid[1], uid[2]),
                     target_role=FolderRole.ARCHIVE),
        DeleteMessages(account="work", folder="INBOX", uids=(uid[3],)),
    ])
    for leftover in tmp_path.glob("cache.sqlite3*"):
        leftover.unlink()

    async with running(dovecot, mail_user, db) as (_account, store, _events):
        await until(lambda: store.local.actions("work") == [], 15)
    after = server_state(dovecot, mail_user)
    assert after == {
        message_id(0): before[message_id(0)] | {b"\\Flagged"},
        message_id(4): before[message_id(4)],
    }
    assert set(server_state(dovecot, mail_user, "Archive")) == {message_id(1), message_id(2)}
    assert set(server_state(dovecot, mail_user, "Trash")) == {message_id(3)}


@pytest.mark.parametrize("copy", [False, True], ids=["move", "copy"])
async def test_a_cut_link_after_the_server_acted_does_not_act_twice(
    dovecot, mail_user, tmp_path, copy: bool
):
    db = tmp_path / "cache.sqlite3"
    uid = await synced(dovecot, mail_user, db, 3)
    word = b"UID COPY" if copy else b"UID MOVE"
    async with CuttingProxy(dovecot.imap_port, word) as proxy:
        async with proxied_account(dovecot, mail_user, db, proxy) as (account, store, events):
            await events.wait_for(lambda e: isinstance(e, RequestDone), 30)  # synced
            account.submit(MoveMessages(account="work", folder="INBOX", uids=(uid[1],),
                                        target="Archive", copy=copy))
            await proxy.cut.wait()
            done = await events.wait_for_one(ActionApplied, lambda e: e.on_server, 30)
            (action,) = store.local.actions("work", None)
            await until(lambda: store.counts("work", "Archive")[0] == 1, 15)
    assert proxy.times_cut == 1
    assert done.description.startswith("Copied" if copy else "Moved")
    assert action.state == DONE and action.args["result"]  # where the message went is known
    assert server_ids(dovecot, mail_user, "Archive") == [message_id(1)]  # one copy
    inbox = {message_id(i) for i in (0, 1, 2)} if copy else {message_id(0), message_id(2)}
    assert set(server_state(dovecot, mail_user)) == inbox


async def test_an_action_that_keeps_losing_the_link_is_set_aside_then_retried(
    dovecot, mail_user, tmp_path
):
    db = tmp_path / "cache.sqlite3"
    uid = await synced(dovecot, mail_user, db, 3)
    async with CuttingProxy(dovecot.imap_port, b"UID STORE", cuts=None) as proxy:
        async with proxied_account(dovecot, mail_user, db, proxy) as (account, store, events):
            await events.wait_for(lambda e: isinstance(e, RequestDone), 30)
            account.submit(SetFlags(account="work", folder="INBOX", uids=(uid[2],),
                                    add=frozenset({FLAGGED})))
            aside = await events.wait_for_one(ErrorReported, lambda e: "set aside" in e.message, 60)
            assert proxy.times_cut == 3
            dovecot.deliver(mail_user.name, make_message(20))  # the account goes on meanwhile
            await until(lambda: store.counts("work", "INBOX")[0] == 4, 30)
            assert proxy.times_cut == 3 and store.local.actions("work") == []
            assert FLAGGED in cached_flags(store, "work", "INBOX", uid[2])  # kept here
            proxy.cuts_left = 0  # the link is sound again; the user asks for a retry
            account.submit(RetryAccount(account="work"))
            await events.wait_for(lambda e: isinstance(e, ActionApplied) and e.on_server, 30)
    assert aside.message.startswith("Could not mark 1 message flagged (tried 3 times: ")
    assert proxy.times_cut == 3
    assert b"\\Flagged" in server_state(dovecot, mail_user)[message_id(2)]


REPLAY_SCRIPT = """
import asyncio, pickle, sys
from pathlib import Path
from mailbag.services.imap_account import ImapAccount
from mailbag.store.store import Store

async def main() -> None:
    config = pickle.loads(Path(sys.argv[1]).read_bytes())
    store = Store.open(Path(sys.argv[2]))
    await ImapAccount(config, store, lambda event: None).run()

asyncio.run(main())
"""


async def test_a_replay_killed_after_the_server_acted_does_not_act_twice(
    dovecot, mail_user, tmp_path
):
    db = tmp_path / "cache.sqlite3"
    uid = await synced(dovecot, mail_user, db, 3)
    await triage_offline(dovecot, mail_user, db, [
        MoveMessages(account="work", folder="INBOX", uids=(uid[0], uid[1]), target="Archive",
                     copy=True),
    ])
    async with CuttingProxy(dovecot.imap_port, b"UID COPY", hold=True) as proxy:
        config = proxied_config(mail_user, proxy.port)
        (tmp_path / "config.pickle").write_bytes(pickle.dumps(config))
        env = dict(os.environ, PYTHONPATH=str(Path(package.__file__).parents[1]))
        try:  # killed once the server copied, with no answer yet
            await kill_once(["-c", REPLAY_SCRIPT, str(tmp_path / "config.pickle"), str(db)], env, proxy.cut)
        finally:
            proxy.release.set()
    async with running(dovecot, mail_user, db) as (_account, store, events):
        await until(lambda: store.local.actions("work") == [], 15)
        (action,) = store.local.actions("work", None)
        await until(lambda: store.counts("work", "Archive")[0] == 2, 15)
    assert action.state == DONE and len(action.args["result"]) == 2
    assert server_ids(dovecot, mail_user, "Archive") == [message_id(0), message_id(1)]
    assert len(server_ids(dovecot, mail_user, "INBOX")) == 3
