"""Search, threads and several accounts, over a cache filled from the private Dovecot."""

from __future__ import annotations


from mailbag.domain.config import Config
from mailbag.domain.events import SearchResults
from mailbag.domain.models import FLAGGED
from mailbag.domain.requests import Search
from mailbag.services.mail import ALL_INBOXES, MailService
from mailbag.store.store import Store
from tests.cache_reads import cached_summary
from tests.integration.accounts import Recorder, imap_account_config, other_client
from tests.servers.messages import make_message, message_id, subject_of


def service_for(store: Store, *accounts, searches=None) -> tuple[MailService, Recorder]:
    recorder = Recorder()
    config = Config(path=None, accounts=dict(accounts), searches=searches or {})
    return MailService(config, store, recorder), recorder


async def sync_all(service: MailService) -> None:
    for worker in service.workers.values():
        await worker.sync_once()


def message_ids(store: Store, row_ids) -> set[str]:
    ids = set()
    for row in store.rows(list(row_ids)):
        ids.add(cached_summary(store, row.account, row.folder, row.uid).message_id)
    return ids


async def test_search_by_sender_subject_body_and_flags_in_10k(dovecot, mail_user, tmp_path):
    messages = [make_message(i, size=600) for i in range(10_000)]
    messages[1234] = messages[1234].replace(b"Subject: ", b"Subject: Zebra crossing ", 1)
    messages[4321] = messages[4321].replace(
        b"\r\n\r\n", b"\r\n\r\nThe quokka report is attached.\r\n", 1
    )
    messages[777] = messages[777].replace(b"From: ", b"From: Xavier Quill <xq@example.test>\r\nX-Old-From: ", 1)
    dovecot.deliver_many(mail_user.name, messages)
    store = Store.open(tmp_path / "c.db")
    service, events = service_for(store, ("work", imap_account_config(dovecot, mail_user)))
    await sync_all(service)
    assert store.counts("work", "INBOX") == (10_000, 10_000)

    assert message_ids(store, service.local_search("subject:zebra").row_ids) == {message_id(1234)}
    assert message_ids(store, service.local_search("from:quill").row_ids) == {message_id(777)}
    assert message_ids(store, service.local_search("from:xq@example.test").row_ids) == {message_id(777)}

    # Flags set elsewhere reach the cache by sync; is:flagged finds them.
    other = other_client(dovecot, mail_user)
    other.select("INBOX")
    other.uid("STORE", "10,20", "+FLAGS", "(\\Flagged)")
    other.logout()
    await sync_all(service)
    flagged = service.local_search("is:flagged").row_ids
    assert len(flagged) == 2
    assert all(FLAGGED in r.flags for r in store.rows(list(flagged)))

    # The body is not cached: the local search cannot know; the server finds it.
    assert service.local_search("body:quokka").row_ids == []
    worker = service.workers["work"]
    await worker.connect()
    try:
        request = Search(account="work", query="body:quokka", folder="INBOX")
        await worker.search(request)
    finally:
        await worker.disconnect()
    results = [e for e in events.of(SearchResults) if e.request_id == request.request_id]
    assert results[-1].complete
    assert message_ids(store, [i for e in results for i in e.row_ids]) == {message_id(4321)}
    store.close()


async def test_threads_group_a_reply_chain_delivered_out_of_order(dovecot, mail_user, tmp_path):
    # 10 <- 11 <- 12 (a chain), 20 alone; the replies arrive before the message they answer.
    dovecot.deliver(mail_user.name, make_message(12, thread_of=11))
    dovecot.deliver(mail_user.name, make_message(20))
    dovecot.deliver(mail_user.name, make_message(11, thread_of=10))
    dovecot.deliver(mail_user.name, make_message(10))
    store = Store.open(tmp_path / "c.db")
    service, _ = service_for(store, ("work", imap_account_config(dovecot, mail_user)))
    await sync_all(service)

    view = service.thread_index("work", "INBOX")
    rows = store.rows(list(view.row_ids))
    shown = [(cached_summary(store, "work", "INBOX", r.uid).message_id, d) for r, d in zip(rows, view.depths)]
    chain = [(message_id(10), 0), (message_id(11), 1), (message_id(12), 2)]
    assert shown in ([*chain, (message_id(20), 0)], [(message_id(20), 0), *chain])
    assert subject_of(10) in rows[[m for m, _ in shown].index(message_id(10))].subject
    store.close()


async def test_two_accounts_unified_inbox_and_saved_search(dovecot, tmp_path):
    alice, bob = dovecot.add_user(), dovecot.add_user()
    dovecot.deliver(alice.name, make_message(1))
    dovecot.deliver(alice.name, make_message(2))
    dovecot.deliver(bob.name, make_message(3))
    dovecot.deliver(bob.name, make_message(4), folder="Archive")
    store = Store.open(tmp_path / "c.db")
    service, _ = service_for(
        store,
        ("alice", imap_account_config(dovecot, alice, name="alice")),
        ("bob", imap_account_config(dovecot, bob, name="bob")),
        searches={"Everything from 3": f"subject:\"{subject_of(3)}\""},
    )
    await sync_all(service)
    names = [v.name for v in service.virtual_folders()]
    assert names == [ALL_INBOXES, "Everything from 3"]
    unified = service.virtual_index(ALL_INBOXES)
    assert message_ids(store, unified) == {message_id(1), message_id(2), message_id(3)}
    assert {r.account for r in store.rows(list(unified))} == {"alice", "bob"}
    assert message_ids(store, service.virtual_index("Everything from 3")) == {message_id(3)}
    store.close()
