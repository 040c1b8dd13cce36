"""A sync never undoes the user's triage the server has not been told about yet: flag changes still
in the journal are laid over the flags a sync reads, and messages a pending move or delete hides
stay hidden, on IMAP (incremental and full sync) and on Maildir."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mailbag.domain.events import ActionApplied
from mailbag.domain.models import ANSWERED, FLAGGED, SEEN
from mailbag.domain.requests import DeleteMessages, MoveMessages, SetFlags
from mailbag.protocols.maildir import MaildirStore
from mailbag.services.maildir_account import MaildirAccount
from mailbag.store.store import Store
from tests.cache_reads import cached_flags
from tests.integration.accounts import Recorder, make_account, other_client
from tests.integration.journal_fixtures import synced, triage_offline
from tests.integration.test_live_triage import server_state
from tests.servers.messages import make_message, message_id


def _flags(store: Store, folder: str, uid: int) -> frozenset[str]:
    return cached_flags(store, "work", folder, uid)


@pytest.mark.dovecot
@pytest.mark.parametrize("cache_deleted", [False, True], ids=["incremental", "full"])
async def test_a_sync_of_the_old_server_flags_keeps_the_users_pending_changes(
    dovecot, mail_user, tmp_path: Path, cache_deleted: bool
) -> None:
    db = tmp_path / "cache.sqlite3"
    uid = await synced(dovecot, mail_user, db, 3)
    await triage_offline(dovecot, mail_user, db, [
        SetFlags(account="work", folder="INBOX", uids=(uid[0],), add=frozenset({SEEN})),
        SetFlags(account="work", folder="INBOX", uids=(uid[1],), add=frozenset({FLAGGED})),
        MoveMessages(account="work", folder="INBOX", uids=(uid[2],), target="Archive"),
    ])
    # Another program answers all three, so the next sync fetches their (old) flags.
    client = other_client(dovecot, mail_user)
    client.select("INBOX")
    client.uid("STORE", f"{uid[0]},{uid[1]},{uid[2]}", "+FLAGS", f"({ANSWERED})")
    client.logout()
    if cache_deleted:  # the journal lives in its own file; the first sync starts from nothing
        for path in tmp_path.glob("cache.sqlite3*"):
            path.unlink()

    account, store, _ = make_account(dovecot, mail_user, db)
    await account.connect()
    try:
        await account.sync_folder("INBOX")  # the journal is not replayed yet
        assert _flags(store, "INBOX", uid[0]) == {SEEN, ANSWERED}
        assert _flags(store, "INBOX", uid[1]) == {FLAGGED, ANSWERED}
        assert store.counts("work", "INBOX") == (2, 1)  # the moved message stays hidden

        await account.journal.replay()
        assert _flags(store, "INBOX", uid[0]) == {SEEN, ANSWERED}
    finally:
        await account.disconnect()
        store.close()
    state = server_state(dovecot, mail_user)
    assert state[message_id(0)] == {SEEN.encode(), ANSWERED.encode()}
    assert state[message_id(1)] == {FLAGGED.encode(), ANSWERED.encode()}
    assert message_id(2) not in state
    assert set(server_state(dovecot, mail_user, "Archive")) == {message_id(2)}


async def test_a_maildir_sync_keeps_flag_changes_not_yet_written_to_the_files(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    maildir = MaildirStore(root, "local", create=True)
    first, second = (maildir.add("INBOX", make_message(i)) for i in (1, 2))
    store = Store.open(tmp_path / "cache.db")
    events = Recorder()
    account = MaildirAccount("work", root, store, events)
    await account.connect()
    local = asyncio.create_task(account.journal.run_local())  # the cache side only: no replay
    try:
        await account.sync_folder("INBOX")
        account.submit(SetFlags(account="work", folder="INBOX", uids=(first,), add=frozenset({SEEN})))
        account.submit(DeleteMessages(account="work", folder="INBOX", uids=(second,), permanent=True))
        await events.wait_for(lambda e: len(events.of(ActionApplied)) == 2)
        await account.sync_folder("INBOX")  # reads the files, which do not have them yet
        assert _flags(store, "INBOX", first) == {SEEN}
        assert store.counts("work", "INBOX") == (1, 0)

        await account.journal.replay()
        assert _flags(store, "INBOX", first) == {SEEN}
    finally:
        local.cancel()
        await asyncio.gather(local, return_exceptions=True)
        await account.disconnect()
        store.close()
    assert MaildirStore(root, "local").flags("INBOX") == {first: frozenset({SEEN})}
