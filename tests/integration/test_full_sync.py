"""First sync of a big folder against the private Dovecot: the newest messages reach the cache
before the server has listed every UID, and the rest follows in full."""

from __future__ import annotations

import pytest

from mailbag.domain.events import Event, MessagesChanged, SyncProgress
from mailbag.protocols.imap.client import ImapClient
from mailbag.services import imap_account
from tests.integration.accounts import make_account
from tests.servers.messages import make_message, subject_of

COUNT = 1500
FIRST = 100


@pytest.fixture
def searches(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every UID SEARCH the client sends, in order."""
    sent: list[str] = []
    plain = ImapClient.search

    async def search(self: ImapClient, criteria: str, *, charset: str | None = "UTF-8") -> list[int]:
        sent.append(criteria)
        return await plain(self, criteria, charset=charset)

    monkeypatch.setattr(ImapClient, "search", search)
    monkeypatch.setattr(imap_account, "FIRST_CHUNK", FIRST)
    monkeypatch.setattr(imap_account, "CHUNK", 400)
    return sent


async def test_newest_messages_are_cached_before_every_uid_is_listed(
    dovecot, mail_user, tmp_path, searches
):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(COUNT)))
    account, store, events = make_account(dovecot, mail_user, tmp_path / "c.db")
    seen_first: dict[str, list[str]] = {}

    def at_first_chunk(event: Event) -> None:
        if isinstance(event, MessagesChanged) and event.folder == "INBOX" and not seen_first:
            index = store.message_index("work", "INBOX")
            seen_first["subjects"] = [r.subject for r in store.rows(index)]
            seen_first["searches"] = list(searches)

    await account.sync_once(on_progress=at_first_chunk)

    # the first announcement: exactly the newest FIRST messages, newest on top, and the full
    # UID list not asked for yet
    assert seen_first["subjects"] == [subject_of(i) for i in range(COUNT - 1, COUNT - FIRST - 1, -1)]
    assert "ALL" not in seen_first["searches"]
    progress = [e for e in events.of(SyncProgress) if e.folder == "INBOX"]
    assert progress[0].done == FIRST and progress[0].total == COUNT
    # then every message, once
    assert progress[-1].done == progress[-1].total == COUNT
    assert sum(e.added for e in events.of(MessagesChanged) if e.folder == "INBOX") == COUNT
    assert store.counts("work", "INBOX") == (COUNT, COUNT)
    rows = store.rows(store.message_index("work", "INBOX"))
    assert [r.subject for r in rows] == [subject_of(i) for i in range(COUNT - 1, -1, -1)]
    store.close()


async def test_folder_synced_in_between_does_not_disturb_the_rest(
    dovecot, mail_user, tmp_path, searches
):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(COUNT)))
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(5000, 5005)), folder="Projects")
    account, store, _ = make_account(dovecot, mail_user, tmp_path / "c.db")

    def after_first_chunk(event: Event) -> None:
        if isinstance(event, MessagesChanged) and event.folder == "INBOX" and event.added == FIRST:
            account.mark_dirty("Projects")  # as if the server reported new mail there

    await account.sync_once(on_progress=after_first_chunk)

    inbox = {r.subject for r in store.rows(store.message_index("work", "INBOX"))}
    assert inbox == {subject_of(i) for i in range(COUNT)}
    projects = {r.subject for r in store.rows(store.message_index("work", "Projects"))}
    assert projects == {subject_of(i) for i in range(5000, 5005)}
    store.close()


async def test_small_folder_is_listed_once(dovecot, mail_user, tmp_path, searches):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(FIRST - 10)))
    account, store, events = make_account(dovecot, mail_user, tmp_path / "c.db")

    await account.sync_once()

    assert store.counts("work", "INBOX") == (FIRST - 10, FIRST - 10)
    assert "ALL" not in searches  # the first chunk held every message: no second listing
    progress = [e for e in events.of(SyncProgress) if e.folder == "INBOX"]
    assert [(e.done, e.total) for e in progress] == [(FIRST - 10, FIRST - 10)]
    store.close()
