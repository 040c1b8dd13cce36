"""One suite, three facades: the UI tests' fake, and the real MailService over a Maildir account
and over Dovecot. What the UI reads and is told must be the same from each, so the fake the UI
tests use cannot drift from the services."""

from __future__ import annotations

import asyncio
import imaplib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from mailbag.domain.config import Config
from mailbag.domain.events import ActionRolledBack, Event, RequestDone, RequestFailed
from mailbag.domain.events import ActionApplied, FolderCountsChanged
from mailbag.domain.models import FLAGGED, SEEN, Folder, FolderRole, MessageRow
from mailbag.domain.requests import DeleteMessages, MoveMessages, SetFlags
from mailbag.services.api import ListOrder, MailFacade
from mailbag.services.mail import MailService
from mailbag.store.store import Store
from tests.integration.accounts import imap_account_config, other_client
from tests.ui.fake_facade import FakeFacade
from tests.ui.real_services import maildir_config

DAY0 = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Sample:
    subject: str
    name: str
    email: str
    day: int
    body_size: int
    flags: frozenset[str] = frozenset()
    parent: int | None = None

    def raw(self, n: int) -> bytes:
        msg = EmailMessage()
        msg["From"] = f"{self.name} <{self.email}>"
        msg["To"] = "Me <me@example.test>"
        msg["Subject"] = self.subject
        msg["Date"] = format_datetime(DAY0 + timedelta(days=self.day))
        msg["Message-ID"] = f"<s{n}@example.test>"
        if self.parent is not None:
            msg["In-Reply-To"] = f"<s{self.parent}@example.test>"
            msg["References"] = f"<s{self.parent}@example.test>"
        msg.set_content(("lorem ipsum " * (self.body_size // 12 + 1))[: self.body_size] + "\n")
        return msg.as_bytes()


SAMPLES = (
    Sample("Quarterly report", "Alice Martin", "alice@example.test", 1, 3000, frozenset({SEEN})),
    Sample("Lunch on Friday", "Bob Okafor", "bob@example.test", 2, 100),
    Sample("Re: Quarterly report", "Carol Diaz", "carol@example.test", 3, 500, frozenset({SEEN, FLAGGED}), 0),
    Sample("Build failure", "Dave Jones", "dave@example.test", 4, 8000, frozenset({FLAGGED})),
    Sample("Re: Re: Quarterly report", "Alice Martin", "alice@example.test", 5, 50, frozenset(), 2),
    Sample("Weekly notes", "Eve Stone", "eve@example.test", 6, 1500, frozenset({SEEN})),
)


#: The folders each facade has besides the Inbox (Dovecot's special-use ones, the test Maildir's).
ROLES = {"Archive": FolderRole.ARCHIVE, "Junk": FolderRole.JUNK, "Trash": FolderRole.TRASH, "Sent": FolderRole.SENT}


def fake_facade(sink: list[Event]) -> FakeFacade:
    fake = FakeFacade(sink.append, accounts=("home",))
    unread = sum(1 for s in SAMPLES if SEEN not in s.flags)
    fake.add_folder(Folder("home", "INBOX", "/", FolderRole.INBOX, total=len(SAMPLES), unread=unread))
    for name, role in ROLES.items():
        fake.add_folder(Folder("home", name, "/", role))
    for n, sample in enumerate(SAMPLES):
        fake.add_message(
            "home", "INBOX", row_id=n + 1, subject=sample.subject, sender=sample.name, sender_email=sample.email,
            date=DAY0 + timedelta(days=sample.day), flags=sample.flags, size=len(sample.raw(n)),
        )
        if sample.parent is not None:
            fake.set_parent(n + 1, sample.parent + 1)
    return fake


#: The counts every facade starts with.
START = {
    "INBOX": (len(SAMPLES), sum(1 for s in SAMPLES if SEEN not in s.flags)),
    **{name: (0, 0) for name in ROLES},
}


def _imap_flags(flags: frozenset[str]) -> str:
    return "(" + " ".join(sorted(flags)) + ")"


@dataclass
class Subject:
    """A facade under test, with the events it reported."""

    facade: MailFacade
    events: list[Event]

    def subjects(self, ids: Sequence[int]) -> list[str]:
        return [row.subject for row in self.facade.rows(ids)]

    def inbox(self, order: ListOrder = ListOrder()) -> list[str]:
        return self.subjects(self.facade.message_index("home", "INBOX", order))

    def counts(self) -> dict[str, tuple[int, int]]:
        """(total, unread) of the Inbox and the special folders, as the folder tree shows them."""
        return {f.name: (f.total, f.unread) for f in self.facade.folders("home") if f.name in ("INBOX", *ROLES)}

    def row(self, subject: str) -> MessageRow:
        ids = self.facade.message_index("home", "INBOX")
        return next(r for r in self.facade.rows(ids) if r.subject == subject)

    @property
    def is_fake(self) -> bool:
        return isinstance(self.facade, FakeFacade)

    async def wait_for(self, what: Callable[[Event], bool]) -> None:
        for _ in range(600):
            if any(what(e) for e in self.events):
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the event never came")


@pytest.fixture(params=["fake", "maildir", "dovecot"])
async def subject(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Subject]:
    events: list[Event] = []
    if request.param == "fake":
        yield Subject(fake_facade(events), events)
        return
    if request.param == "maildir":
        config = maildir_config(tmp_path / "Mail", [])
        from mailbag.protocols.maildir import MaildirStore

        MaildirStore(tmp_path / "Mail", "home").add_many(
            "INBOX", [(sample.raw(n), sample.flags) for n, sample in enumerate(SAMPLES)]
        )
    else:
        dovecot, user = request.getfixturevalue("dovecot"), request.getfixturevalue("mail_user")
        client: imaplib.IMAP4_SSL = other_client(dovecot, user)
        for n, sample in enumerate(SAMPLES):
            client.append("INBOX", _imap_flags(sample.flags), None, sample.raw(n))
        client.logout()
        config = Config(path=None, accounts={"home": imap_account_config(dovecot, user, name="home")})
    store = Store.open(tmp_path / "cache.sqlite3")
    service = MailService(config, store, events.append)
    await service.start()
    try:
        subject = Subject(service, events)
        for _ in range(600):
            if len(service.message_index("home", "INBOX")) == len(SAMPLES) and subject.counts() == START:
                break
            await asyncio.sleep(0.05)
        yield subject
    finally:
        await service.stop()
        store.close()


async def test_the_inbox_in_every_order(subject: Subject) -> None:
    newest_first = [s.subject for s in sorted(SAMPLES, key=lambda s: -s.day)]
    assert subject.inbox() == newest_first
    assert subject.inbox(ListOrder("date", reverse=True)) == newest_first[::-1]
    largest_first = [s.subject for n, s in sorted(enumerate(SAMPLES), key=lambda item: -len(item[1].raw(item[0])))]
    assert subject.inbox(ListOrder("size")) == largest_first
    # A to Z, Z to A reversed; Alice's two messages newest first either way
    alice = ["Re: Re: Quarterly report", "Quarterly report"]
    others = ["Lunch on Friday", "Re: Quarterly report", "Build failure", "Weekly notes"]
    assert subject.inbox(ListOrder("sender")) == alice + others
    assert subject.inbox(ListOrder("sender", reverse=True)) == others[::-1] + alice
    a_to_z = ["Build failure", "Lunch on Friday", "Quarterly report", "Re: Quarterly report",
              "Re: Re: Quarterly report", "Weekly notes"]
    assert subject.inbox(ListOrder("subject")) == a_to_z
    assert subject.inbox(ListOrder("subject", reverse=True)) == a_to_z[::-1]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("from:bob", {"Lunch on Friday"}),
        ("subject:report", {"Quarterly report", "Re: Quarterly report", "Re: Re: Quarterly report"}),
        ("is:unread", {"Lunch on Friday", "Build failure", "Re: Re: Quarterly report"}),
        ("is:flagged", {"Re: Quarterly report", "Build failure"}),
        ("from:alice is:unread", {"Re: Re: Quarterly report"}),
        ("weekly", {"Weekly notes"}),
    ],
)
async def test_local_search(subject: Subject, query: str, found: set[str]) -> None:
    outcome = subject.facade.local_search(query, account="home", folder="INBOX")
    assert outcome.error == ""
    assert set(subject.subjects(outcome.row_ids)) == found
    everywhere = subject.facade.local_search(query)
    assert set(subject.subjects(everywhere.row_ids)) == found


async def test_a_search_the_parser_cannot_use_says_why(subject: Subject) -> None:
    outcome = subject.facade.local_search("before:someday is:whatever")
    assert outcome.error.startswith("before:someday: before: takes a date like")
    assert "is:whatever: is: takes" in outcome.error


async def test_threads(subject: Subject) -> None:
    index = subject.facade.thread_index("home", "INBOX")
    shown = list(zip(subject.subjects(index.row_ids), index.depths, strict=True))
    start = shown.index(("Quarterly report", 0))
    thread = [("Quarterly report", 0), ("Re: Quarterly report", 1), ("Re: Re: Quarterly report", 2)]
    assert shown[start : start + 3] == thread
    # threads come newest first, by their newest message
    assert [s for s, depth in shown if depth == 0] == ["Weekly notes", "Quarterly report", "Build failure",
                                                        "Lunch on Friday"]


async def test_rows_keep_the_order_asked_and_drop_unknown_ids(subject: Subject) -> None:
    ids = list(subject.facade.message_index("home", "INBOX"))
    asked = [ids[3], ids[0], 987654321, ids[5]]
    assert [row.row_id for row in subject.facade.rows(asked)] == [ids[3], ids[0], ids[5]]


async def test_a_move_the_server_refuses_is_rolled_back_not_failed(subject: Subject) -> None:
    ids = list(subject.facade.message_index("home", "INBOX"))
    (row,) = subject.facade.rows(ids[:1])
    request = MoveMessages(account="home", folder="INBOX", uids=(row.uid,), target="Nowhere")
    subject.facade.submit(request)
    if isinstance(subject.facade, FakeFacade):  # the UI tests answer for the server this way
        subject.facade.refuse(request, "[TRYCREATE] Mailbox doesn't exist: Nowhere")
    for _ in range(600):
        if any(isinstance(e, ActionRolledBack) for e in subject.events):
            break
        await asyncio.sleep(0.05)
    (rolled_back,) = [e for e in subject.events if isinstance(e, ActionRolledBack)]
    assert "Nowhere" in rolled_back.description and "Nowhere" in rolled_back.reason
    assert RequestDone(request.request_id) in subject.events
    assert not [e for e in subject.events if isinstance(e, RequestFailed)]


async def test_a_submitted_move_hides_the_row_at_once_and_a_refusal_brings_it_back(
    subject: Subject,
) -> None:
    ids = list(subject.facade.message_index("home", "INBOX"))
    (row,) = subject.facade.rows(ids[:1])
    request = MoveMessages(account="home", folder="INBOX", uids=(row.uid,), target="Nowhere")
    subject.facade.submit(request)
    # Before any reply: the list and the rows read right after the key no longer hold it.
    assert row.row_id not in subject.facade.message_index("home", "INBOX")
    assert subject.facade.rows([row.row_id]) == []
    if isinstance(subject.facade, FakeFacade):
        subject.facade.refuse(request, "[TRYCREATE] Mailbox doesn't exist: Nowhere")
    for _ in range(600):
        if any(isinstance(e, ActionRolledBack) for e in subject.events):
            break
        await asyncio.sleep(0.05)
    assert any(isinstance(e, ActionRolledBack) for e in subject.events)
    assert row.row_id in subject.facade.message_index("home", "INBOX")
    assert [r.uid for r in subject.facade.rows([row.row_id])] == [row.uid]


async def test_a_submitted_flag_change_shows_at_once(subject: Subject) -> None:
    flag = "\\Flagged"
    ids = subject.facade.message_index("home", "INBOX")
    row = next(r for r in subject.facade.rows(ids) if flag not in r.flags)
    request = SetFlags(account="home", folder="INBOX", uids=(row.uid,), add=frozenset({flag}))
    subject.facade.submit(request)
    (now,) = subject.facade.rows([row.row_id])
    assert flag in now.flags


async def test_a_pending_move_shows_in_search_all_inboxes_and_threads_at_once(subject: Subject) -> None:
    row = subject.row("Re: Quarterly report")  # the middle of a three-message thread
    before = subject.facade.local_search("report").row_ids
    assert row.row_id in before
    subject.facade.submit(MoveMessages(account="home", folder="INBOX", uids=(row.uid,), target_role=FolderRole.ARCHIVE))
    assert set(subject.subjects(subject.facade.local_search("report").row_ids)) == {
        "Quarterly report", "Re: Re: Quarterly report",
    }
    assert row.row_id not in subject.facade.local_search("report", account="home", folder="INBOX").row_ids
    threads = subject.facade.thread_index("home", "INBOX")
    assert row.row_id not in threads.row_ids
    assert len(threads.row_ids) == len(SAMPLES) - 1
    shown = list(zip(subject.subjects(threads.row_ids), threads.depths, strict=True))
    assert ("Quarterly report", 0) in shown and ("Re: Re: Quarterly report", 0) in shown


async def test_a_pending_flag_change_shows_in_a_search_on_flags_at_once(subject: Subject) -> None:
    lunch = subject.row("Lunch on Friday")  # unread, not flagged
    weekly = subject.row("Weekly notes")  # read, not flagged
    subject.facade.submit(SetFlags(account="home", folder="INBOX", uids=(lunch.uid,), add=frozenset({SEEN})))
    subject.facade.submit(SetFlags(account="home", folder="INBOX", uids=(weekly.uid,), add=frozenset({FLAGGED})))
    assert set(subject.subjects(subject.facade.local_search("is:unread").row_ids)) == {
        "Build failure", "Re: Re: Quarterly report",
    }
    # Newest first, as every search: Weekly notes (day 6) joins ahead of the others.
    assert subject.subjects(subject.facade.local_search("is:flagged", account="home", folder="INBOX").row_ids) == [
        "Weekly notes", "Build failure", "Re: Quarterly report",
    ]
    assert subject.subjects(subject.facade.local_search("is:flagged lunch").row_ids) == []


async def test_counts_change_at_once_with_a_move_and_stay_right(subject: Subject) -> None:
    lunch = subject.row("Lunch on Friday")  # unread
    subject.facade.submit(MoveMessages(account="home", folder="INBOX", uids=(lunch.uid,), target_role=FolderRole.ARCHIVE))
    moved = dict(START, INBOX=(5, 2), Archive=(1, 1))
    assert subject.counts() == moved
    if subject.is_fake:
        return
    await subject.wait_for(lambda e: isinstance(e, ActionApplied) and e.on_server)
    await subject.wait_for(lambda e: isinstance(e, FolderCountsChanged) and e.folder == "Archive")
    assert subject.counts() == moved


async def test_counts_change_at_once_with_flags_and_a_delete(subject: Subject) -> None:
    lunch, weekly = subject.row("Lunch on Friday"), subject.row("Weekly notes")
    subject.facade.submit(SetFlags(account="home", folder="INBOX", uids=(lunch.uid,), add=frozenset({SEEN})))
    assert subject.counts() == dict(START, INBOX=(6, 2))
    subject.facade.submit(SetFlags(account="home", folder="INBOX", uids=(weekly.uid,), remove=frozenset({SEEN})))
    subject.facade.submit(DeleteMessages(account="home", folder="INBOX", uids=(weekly.uid,)))
    assert subject.counts() == dict(START, INBOX=(5, 2), Trash=(1, 1))


async def test_a_refused_move_puts_the_counts_back(subject: Subject) -> None:
    lunch = subject.row("Lunch on Friday")
    request = MoveMessages(account="home", folder="INBOX", uids=(lunch.uid,), target="Nowhere")
    subject.facade.submit(request)
    assert subject.counts() == dict(START, INBOX=(5, 2))
    if isinstance(subject.facade, FakeFacade):
        subject.facade.refuse(request, "[TRYCREATE] Mailbox doesn't exist: Nowhere")
    await subject.wait_for(lambda e: isinstance(e, ActionRolledBack))
    await subject.wait_for(lambda e: isinstance(e, FolderCountsChanged) and e.folder == "INBOX" or subject.is_fake)
    for _ in range(600):
        if subject.counts() == START:
            break
        await asyncio.sleep(0.05)
    assert subject.counts() == START
    assert "Nowhere" not in {f.name for f in subject.facade.folders("home")}
