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


async def test_a_message_whose_date_no_zone_can_hold_is_listed_with_the_others(dovecot, mail_user, tmp_path):
    # Spam with "Date: ... +3000" (no zone is a day off): Dovecot's ENVELOPE gives it as written.
    # Reading it failed the fetch of the folder's summaries at that message, every time.
    dovecot.deliver_many(mail_user.name, [make_message(1), make_message(2)])
    dovecot.deliver(mail_user.name, b"From: spam@example.net\r\nSubject: odd zone\r\n"
                                    b"Date: Mon, 1 Jan 2024 10:00:00 +3000\r\nMessage-ID: <odd@example.net>\r\n\r\nhi\r\n")
    account, store, _events = make_account(dovecot, mail_user, tmp_path / "c.db")
    await account.sync_once()
    assert store.counts("work", "INBOX") == (3, 3)
    odd = [s for s in (store.summary("work", "INBOX", uid) for uid in store.uids("work", "INBOX")) if s and s.subject == "odd zone"]
    assert len(odd) == 1 and odd[0].date is not None  # dated by its arrival
    store.close()


async def test_an_answer_no_reading_can_make_sense_of_is_left_out_and_the_folder_is_read(
    dovecot, mail_user, tmp_path, monkeypatch, caplog
):
    # Whatever breaks a reading next (a rule broken in a way no test has shown yet) must cost that
    # one message, not the folder: here every reading of the date trips on one message's.
    from mailbag.protocols.imap import summary, summary_scan

    def tripping(value):
        if b"1999" in (value if isinstance(value, bytes) else str(value).encode()):
            raise RuntimeError("a reading tripped")
        return real(value)

    real = summary.envelope_date
    monkeypatch.setattr(summary, "envelope_date", tripping)
    monkeypatch.setattr(summary_scan, "envelope_date", tripping)
    dovecot.deliver_many(mail_user.name, [
        make_message(1), b"Subject: tripping\r\nDate: Fri, 1 Jan 1999 10:00:00 +0000\r\n\r\nx\r\n", make_message(2),
    ])
    account, store, _events = make_account(dovecot, mail_user, tmp_path / "c.db")
    await account.sync_once()
    assert store.counts("work", "INBOX")[0] == 2  # the two it could read
    assert "a FETCH answer that could not be read was left out" in caplog.text
    dovecot.deliver(mail_user.name, make_message(3))
    await account.sync_once()  # and the next sync goes on as well
    assert store.counts("work", "INBOX")[0] == 3
    store.close()
