"""The sync engine against the private Dovecot: what a user's cache holds after each kind of change."""

from __future__ import annotations


import pytest

from mailbag.domain.events import (
    ActionApplied,
    BodyLoaded,
    ConnectionChanged,
    MessagesChanged,
    RequestDone,
    RequestFailed,
    SyncProgress,
)
from mailbag.domain.models import FLAGGED, SEEN, ConnectionState
from mailbag.domain.requests import LoadBody, SetFlags
from tests.cache_reads import cached_flags, cached_state
from tests.integration.accounts import account_running, make_account, other_client
from tests.servers.messages import make_message, subject_of


async def test_first_sync_fills_cache_newest_first(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(3000)))
    account, store, events = make_account(dovecot, mail_user, tmp_path / "c.db")
    await account.sync_once()

    assert store.counts("work", "INBOX") == (3000, 3000)
    index = store.message_index("work", "INBOX")
    assert len(index) == 3000
    rows = store.rows(index[:3])
    # make_message dates grow with i: the newest message is the last one delivered
    assert [r.subject for r in rows] == [subject_of(2999), subject_of(2998), subject_of(2997)]
    progress = [e for e in events.of(SyncProgress) if e.folder == "INBOX"]
    assert progress[0].done < 3000, "the first chunk should be small so the list fills at once"
    assert progress[-1].done == progress[-1].total == 3000
    # special-use folders of the server are listed with their roles
    roles = {f.name: f.role for f in store.folders("work")}
    assert roles["INBOX"] == "inbox" and roles["Sent"] == "sent" and roles["Trash"] == "trash"
    store.close()


async def test_incremental_sync_fetches_only_new_mail(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(200)))
    account, store, events = make_account(dovecot, mail_user, tmp_path / "c.db")
    await account.sync_once()
    for i in range(200, 205):
        dovecot.deliver(mail_user.name, make_message(i))
    events.events.clear()
    await account.sync_once()

    assert store.counts("work", "INBOX") == (205, 205)
    assert len(set(store.uids("work", "INBOX"))) == 205
    inbox_changes = [e for e in events.of(MessagesChanged) if e.folder == "INBOX"]
    assert sum(e.added for e in inbox_changes) == 5
    store.close()


async def test_flags_and_expunges_by_another_client(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(50)))
    account, store, _ = make_account(dovecot, mail_user, tmp_path / "c.db")
    await account.sync_once()
    uids = store.uids("work", "INBOX")

    other = other_client(dovecot, mail_user)
    other.select("INBOX")
    other.uid("STORE", f"{uids[0]}:{uids[4]}", "+FLAGS", "(\\Seen)")
    other.uid("STORE", str(uids[5]), "+FLAGS", "(\\Flagged)")
    other.uid("STORE", f"{uids[10]},{uids[11]}", "+FLAGS", "(\\Deleted)")
    other.expunge()
    other.logout()

    await account.sync_once()
    assert store.counts("work", "INBOX") == (48, 43)
    assert SEEN in cached_flags(store, "work", "INBOX", uids[0])
    assert FLAGGED in cached_flags(store, "work", "INBOX", uids[5])
    assert store.summary("work", "INBOX", uids[10]) is None
    assert uids[10] not in store.uids("work", "INBOX")
    store.close()


async def test_uidvalidity_change_drops_and_resyncs(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(20)), folder="Projects")
    account, store, _ = make_account(dovecot, mail_user, tmp_path / "c.db")
    await account.sync_once()
    old = cached_state(store, "work", "Projects")
    assert store.counts("work", "Projects") == (20, 20)

    dovecot.doveadm("mailbox", "delete", "-u", mail_user.name, "Projects")
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(100, 107)), folder="Projects")
    await account.sync_once()

    new = cached_state(store, "work", "Projects")
    assert new.uidvalidity != old.uidvalidity
    assert store.counts("work", "Projects") == (7, 7)
    subjects = {r.subject for r in store.rows(store.message_index("work", "Projects"))}
    assert subjects == {subject_of(i) for i in range(100, 107)}
    store.close()


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_tls_modes_with_trusted_ca(dovecot, mail_user, tmp_path, security):
    dovecot.deliver(mail_user.name, make_message(1))
    account, store, _ = make_account(dovecot, mail_user, tmp_path / "c.db", security=security)
    await account.sync_once()
    assert store.counts("work", "INBOX") == (1, 1)
    store.close()


async def test_untrusted_certificate_is_refused(dovecot, mail_user, tmp_path):
    account, store, _ = make_account(dovecot, mail_user, tmp_path / "c.db", trust=False)
    with pytest.raises(Exception) as info:
        await account.sync_once()
    assert account.is_connection_error(info.value)
    assert "certificate" in account.describe(info.value).lower()
    assert store.folders("work") == []
    store.close()


async def test_open_read_and_flag_through_running_worker(dovecot, mail_user, tmp_path):
    dovecot.deliver(mail_user.name, make_message(7, size=5000))
    account, store, events = make_account(dovecot, mail_user, tmp_path / "c.db")
    with store:
        async with account_running(account):
            await events.wait_for(lambda e: isinstance(e, SyncProgress) and e.folder == "INBOX")
            await events.wait_for(lambda e: isinstance(e, RequestDone))  # the initial SyncAccount
            uid = store.uids("work", "INBOX")[0]

            body_id = account.submit(LoadBody(account="work", folder="INBOX", uid=uid))
            await events.wait_for(lambda e: isinstance(e, RequestDone) and e.request_id == body_id)
            assert events.of(BodyLoaded)
            assert subject_of(7).encode() in (store.body("work", "INBOX", uid) or b"")
            # fetching the body did not mark it read
            assert store.counts("work", "INBOX") == (1, 1)

            flag_id = account.submit(
                SetFlags(account="work", folder="INBOX", uids=(uid,), add=frozenset({SEEN}))
            )
            await events.wait_for(lambda e: isinstance(e, RequestDone) and e.request_id == flag_id)
            assert store.counts("work", "INBOX") == (1, 0)  # at once, before the server answers
            await events.wait_for(lambda e: isinstance(e, ActionApplied) and e.on_server)
            other = other_client(dovecot, mail_user)
            other.select("INBOX", readonly=True)
            _, data = other.uid("FETCH", str(uid), "(FLAGS)")
            other.logout()
            assert b"\\Seen" in data[0]
            assert not events.of(RequestFailed)


async def test_a_body_asked_for_while_the_first_connection_is_made_waits_for_it(
    dovecot, mail_user, tmp_path
):
    """At start the reader asks for the message under the cursor before the account is online:
    it is fetched once the connection is up, not refused as offline."""
    dovecot.deliver(mail_user.name, make_message(7, size=3000))
    synced, store, _ = make_account(dovecot, mail_user, tmp_path / "c.db")
    await synced.sync_once()
    uid = store.uids("work", "INBOX")[0]
    store.close()

    account, store, events = make_account(dovecot, mail_user, tmp_path / "c.db")
    body_id = account.submit(LoadBody(account="work", folder="INBOX", uid=uid))
    with store:
        async with account_running(account):
            await events.wait_for(lambda e: getattr(e, "request_id", None) == body_id)
            assert RequestDone(body_id) in events.events
            assert not events.of(RequestFailed)
            assert subject_of(7).encode() in (store.body("work", "INBOX", uid) or b"")


async def test_a_body_asked_for_after_the_connection_failed_is_refused_at_once(
    dovecot, mail_user, tmp_path
):
    account, store, events = make_account(dovecot, mail_user, tmp_path / "c.db", trust=False)
    with store:
        async with account_running(account):
            await events.wait_for(
                lambda e: isinstance(e, ConnectionChanged) and e.state == ConnectionState.ERROR
            )
            body_id = account.submit(LoadBody(account="work", folder="INBOX", uid=1))
            failed = [e for e in events.of(RequestFailed) if e.request_id == body_id]
            assert failed and "offline" in failed[0].error
