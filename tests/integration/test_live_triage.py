"""Live sync and triage against the private Dovecot: what the user sees, and what the server holds."""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager

from mailbag.domain.events import (
    ActionApplied,
    ConnectionChanged,
    FolderCountsChanged,
    NewMail,
    RequestDone,
)
from mailbag.domain.models import FLAGGED, SEEN, ConnectionState, FolderRole
from mailbag.domain.requests import DeleteMessages, MoveMessages, SetFlags
from mailbag.services.imap_account import ImapAccount
from mailbag.store.store import Store
from tests.integration.accounts import Recorder, account_running, imap_account_config, other_client
from tests.servers.messages import make_message, message_id, subject_of


@asynccontextmanager
async def running(dovecot, user, db, recorder: Recorder | None = None):
    """An account worker running as in the app, synced once before the test goes on."""
    with Store.open(db) as store:
        events = recorder or Recorder()
        account = ImapAccount(imap_account_config(dovecot, user), store, events)
        async with account_running(account):
            await events.wait_for(lambda e: isinstance(e, RequestDone), timeout=30)  # first full sync
            yield account, store, events


async def watching(account: ImapAccount) -> None:
    """Wait until the account's live watcher is idling on the server."""
    await until(lambda: account.watcher is not None)
    assert account.watcher is not None
    await asyncio.wait_for(account.watcher.ready.wait(), 10)


def server_state(dovecot, user, folder: str = "INBOX", connect=other_client) -> dict[str, frozenset[bytes]]:
    """Message-ID -> flags of every message in ``folder``, as another client (``connect``) sees it."""
    client = connect(dovecot, user)
    client.select(f'"{folder}"', readonly=True)
    _, data = client.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    client.logout()
    state = {}
    for item in data:
        if isinstance(item, tuple):
            meta, header = item
            flags = meta.split(b"FLAGS (", 1)[1].split(b")", 1)[0].split()
            mid = header.decode().split(":", 1)[1].strip()
            state[mid] = frozenset(f for f in flags if f != b"\\Recent")
    return state


def uid_of(store: Store, folder: str, i: int) -> int:
    for uid in store.uids("work", folder):
        summary = store.summary("work", folder, uid)
        if summary is not None and summary.message_id == message_id(i):
            return uid
    raise AssertionError(f"message {i} is not cached in {folder}")


async def until(predicate, timeout: float = 60.0) -> None:
    """Wait until ``predicate()`` holds; the bound only stops a hung run."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not reached within {timeout:.0f} s")
        await asyncio.sleep(0.02)


async def test_new_mail_arrives_without_input(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(5)))
    async with running(dovecot, mail_user, tmp_path / "c.db") as (account, store, events):
        await watching(account)
        dovecot.deliver(mail_user.name, make_message(100))
        # pushed by the server, with nothing asked (how fast is a figure of the bench)
        event = await events.wait_for(lambda e: isinstance(e, NewMail), timeout=60)
        assert event.folder == "INBOX" and event.count == 1
        assert event.subjects == (subject_of(100),)
        assert store.counts("work", "INBOX") == (6, 6)
        await events.wait_for(  # the folder's badge follows
            lambda e: isinstance(e, FolderCountsChanged) and e.folder == "INBOX" and e.total == 6
        )

        # another folder, watched through NOTIFY
        dovecot.deliver(mail_user.name, make_message(101), folder="Archive")
        await until(lambda: store.counts("work", "Archive") == (1, 1))


async def test_changes_by_another_client_show(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(6)))
    async with running(dovecot, mail_user, tmp_path / "c.db") as (account, store, events):
        await watching(account)
        uids = store.uids("work", "INBOX")
        other = other_client(dovecot, mail_user)
        other.select("INBOX")
        other.uid("STORE", str(uids[0]), "+FLAGS", "(\\Seen)")
        await until(lambda: SEEN in store.summary("work", "INBOX", uids[0]).flags)
        other.uid("STORE", str(uids[1]), "+FLAGS", "(\\Flagged)")
        await until(lambda: FLAGGED in store.summary("work", "INBOX", uids[1]).flags)
        other.uid("MOVE", str(uids[2]), "Archive")
        await until(lambda: uids[2] not in store.uids("work", "INBOX"))
        await until(lambda: store.counts("work", "Archive")[0] == 1)
        other.uid("STORE", str(uids[3]), "+FLAGS", "(\\Deleted)")
        other.expunge()
        other.logout()
        await until(lambda: store.counts("work", "INBOX") == (4, 3))
        assert uids[3] not in store.uids("work", "INBOX")


async def test_kicked_connection_is_shown_and_reconnected_without_missing_mail(
    dovecot, mail_user, tmp_path
):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(3)))
    async with running(dovecot, mail_user, tmp_path / "c.db") as (account, store, events):
        await watching(account)
        events.events.clear()
        dovecot.kick(mail_user.name)
        dovecot.deliver(mail_user.name, make_message(50))
        await events.wait_for(
            lambda e: isinstance(e, ConnectionChanged) and e.state == ConnectionState.ERROR, 15
        )
        await events.wait_for(
            lambda e: isinstance(e, ConnectionChanged) and e.state == ConnectionState.ONLINE, 15
        )
        await until(lambda: store.counts("work", "INBOX")[0] == 4)
        assert len(set(store.uids("work", "INBOX"))) == 4


async def test_offline_triage_is_replayed_exactly(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(8)))
    before = server_state(dovecot, mail_user)
    db = tmp_path / "c.db"
    async with running(dovecot, mail_user, db) as (account, store, events):
        uid = {i: uid_of(store, "INBOX", i) for i in range(8)}
        dovecot.stop()
        account.submit(SetFlags(account="work", folder="INBOX", uids=(uid[0], uid[1]),
                                add=frozenset({SEEN})))
        account.submit(SetFlags(account="work", folder="INBOX", uids=(uid[2],),
                                add=frozenset({FLAGGED})))
        account.submit(MoveMessages(account="work", folder="INBOX", uids=(uid[3],),
                                    target_role=FolderRole.ARCHIVE))
        account.submit(DeleteMessages(account="work", folder="INBOX", uids=(uid[4],)))
        await until(lambda: len([e for e in events.of(ActionApplied) if not e.on_server]) == 4)
        # the user sees it all at once, while the server is down
        assert store.counts("work", "INBOX") == (6, 4)
    # the app is closed before anything was replayed; the server comes back; the app starts again
    dovecot.start()
    async with running(dovecot, mail_user, db) as (account, store, events):
        await until(lambda: store.local.actions("work") == [])
        await until(lambda: store.counts("work", "Archive")[0] == 1)
    after = server_state(dovecot, mail_user)
    expected = dict(before)
    for i in (0, 1):
        expected[message_id(i)] = before[message_id(i)] | {b"\\Seen"}
    expected[message_id(2)] = before[message_id(2)] | {b"\\Flagged"}
    del expected[message_id(3)], expected[message_id(4)]
    assert after == expected
    assert set(server_state(dovecot, mail_user, "Archive")) == {message_id(3)}
    assert set(server_state(dovecot, mail_user, "Trash")) == {message_id(4)}


async def test_undo_of_move_delete_and_flags_on_the_server(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(4)))
    before = server_state(dovecot, mail_user)
    async with running(dovecot, mail_user, tmp_path / "c.db") as (account, store, events):
        uid = {i: uid_of(store, "INBOX", i) for i in range(4)}

        async def act_then_undo(request) -> None:
            account.submit(request)
            await events.wait_for(lambda e: isinstance(e, ActionApplied) and e.on_server, 10)
            events.events.clear()
            ticket = account.journal.undo_tickets.pop()
            account.journal.submit_undo(ticket)
            await events.wait_for(
                lambda e: isinstance(e, ActionApplied) and e.description.startswith("Undone"), 10
            )
            await events.wait_for(lambda e: isinstance(e, ActionApplied) and e.on_server, 10)
            await asyncio.sleep(0.5)  # the watcher sees the message come back...
            assert not events.of(NewMail)  # ...which is not new mail
            events.events.clear()

        await watching(account)
        await act_then_undo(MoveMessages(account="work", folder="INBOX", uids=(uid[0],),
                                         target_role=FolderRole.ARCHIVE))
        await act_then_undo(DeleteMessages(account="work", folder="INBOX", uids=(uid[1],)))
        await act_then_undo(SetFlags(account="work", folder="INBOX", uids=(uid[2], uid[3]),
                                     add=frozenset({SEEN, FLAGGED})))
        await until(lambda: store.counts("work", "INBOX") == (4, 4))
    assert server_state(dovecot, mail_user) == before
    assert server_state(dovecot, mail_user, "Archive") == {}
    assert server_state(dovecot, mail_user, "Trash") == {}
