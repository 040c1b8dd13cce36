"""The demo mailbox: folders, realistic content, determinism, and every message renders."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mailbag.domain.mime import render_message
from mailbag.domain.models import DRAFT, FLAGGED, SEEN, FolderRole, MessageSummary
from mailbag.protocols.maildir import MaildirStore
from mailbag.services.demo import DEMO_ACCOUNT, DEMO_EMAIL, build_demo_mailbox

NOW = datetime(2026, 3, 14, 15, 9, 26, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> MaildirStore:
    root = build_demo_mailbox(tmp_path_factory.mktemp("demo") / "Mail", now=NOW)
    return MaildirStore(root, DEMO_ACCOUNT)


def _all(store: MaildirStore) -> dict[str, list[MessageSummary]]:
    return {f.name: list(store.summaries(f.name)) for f in store.list_folders() if f.selectable}


def _dates(summaries: list[MessageSummary]) -> list[datetime]:
    """The summaries' dates; every demo message has one."""
    dates = [s.date for s in summaries]
    assert None not in dates
    return [d for d in dates if d is not None]


def test_builds_only_inside_its_root(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    assert build_demo_mailbox(root, now=NOW) == root
    assert [p.name for p in tmp_path.iterdir()] == ["Mail"]
    assert not list((root / "tmp").iterdir())


def test_folders_roles_and_counts(demo: MaildirStore) -> None:
    folders = {f.name: f for f in demo.list_folders()}
    assert set(folders) == {"INBOX", "Sent", "Drafts", "Archive", "Junk", "Trash", "Lists", "Lists/python-dev"}
    assert folders["INBOX"].role is FolderRole.INBOX
    assert folders["Sent"].role is FolderRole.SENT
    assert folders["Drafts"].role is FolderRole.DRAFTS
    assert folders["Archive"].role is FolderRole.ARCHIVE
    assert folders["Junk"].role is FolderRole.JUNK
    assert folders["Trash"].role is FolderRole.TRASH
    assert 50 <= folders["INBOX"].total <= 70
    assert 0 < folders["INBOX"].unread < folders["INBOX"].total
    assert 3 <= folders["Sent"].total <= 10
    assert folders["Drafts"].total == 1
    assert 15 <= folders["Archive"].total <= 25 and folders["Archive"].unread == 0
    assert folders["Junk"].total == 2 and folders["Trash"].total == 2
    assert 8 <= folders["Lists/python-dev"].total <= 12


def test_flags_are_mixed(demo: MaildirStore) -> None:
    inbox = demo.flags("INBOX")
    seen = sum(SEEN in f for f in inbox.values())
    assert 0 < seen < len(inbox)
    assert any(FLAGGED in f for f in inbox.values())
    assert any("\\Answered" in f for f in inbox.values())
    assert all(DRAFT in f for f in demo.flags("Drafts").values())


def test_dates_are_recent_and_relative_to_now(demo: MaildirStore) -> None:
    inbox = _dates(list(demo.summaries("INBOX")))
    assert all(NOW - timedelta(days=28) < date <= NOW for date in inbox)
    assert max(inbox) > NOW - timedelta(days=1)
    archive = _dates(list(demo.summaries("Archive")))
    assert max(archive) < min(inbox)
    # UIDs follow delivery order, oldest first.
    assert inbox == sorted(inbox)


def test_threads_link_inbox_and_sent(demo: MaildirStore) -> None:
    everything = [s for folder in _all(demo).values() for s in folder]
    by_id = {s.message_id: s for s in everything}
    depths = []
    for summary in everything:
        chain = summary.references
        assert all(ref in by_id for ref in chain), summary.subject
        if summary.in_reply_to:
            assert summary.in_reply_to == chain[-1]
        depths.append(len(chain) + 1)
    assert max(depths) >= 5  # at least one thread of 5 or more messages
    assert sum(d >= 3 for d in depths) >= 6
    sent = list(demo.summaries("Sent"))
    assert sent and all(s.in_reply_to for s in sent)
    assert all(s.from_[0].email == DEMO_EMAIL for s in sent)


def test_unicode_senders_and_subjects(demo: MaildirStore) -> None:
    inbox = list(demo.summaries("INBOX"))
    subjects = " ".join(s.subject for s in inbox)
    senders = {a.name for s in inbox for a in s.from_}
    assert "Übergabe" in subjects and "議事録" in subjects and "🎉" in subjects
    assert {"Jürgen Müller", "山田 花子", "Zoë Martin 🌻"} <= senders


def test_only_example_domains(demo: MaildirStore) -> None:
    for folder in _all(demo).values():
        for s in folder:
            for address in (*s.from_, *s.to, *s.cc):
                domain = address.email.rsplit("@", 1)[1]
                assert domain.endswith((".example", "example.org", "example.com")), address


def test_html_only_alternative_and_attachments(demo: MaildirStore) -> None:
    kinds: dict[str, list[str]] = {}
    filenames: set[str] = set()
    for summary in demo.summaries("INBOX"):
        message = email.message_from_bytes(demo.read("INBOX", summary.uid), policy=email.policy.default)
        kinds.setdefault(message.get_content_type(), []).append(summary.subject)
        filenames |= {p.get_filename() or "" for p in message.iter_attachments()}
        if summary.has_attachment:
            assert message.get_content_type() == "multipart/mixed"
    assert len(kinds["text/html"]) == 1
    assert len(kinds["multipart/alternative"]) >= 1
    assert {"invoice-A-1042.pdf", "plant.png", "invite.ics", "chart.png"} <= filenames
    assert sum(s.has_attachment for s in demo.summaries("INBOX")) == 4


def test_the_demo_opens_on_a_conversation(demo: MaildirStore) -> None:
    """The newest message, under the cursor when the demo starts, is a reply in a thread of
    several people, with a quote and a signature; the hostile sample is not on the first screen."""
    inbox = sorted(demo.summaries("INBOX"), key=lambda s: s.date or NOW, reverse=True)
    newest = inbox[0]
    thread = [s for s in _all(demo)["INBOX"] + _all(demo)["Sent"]
              if s.subject.removeprefix("Re: ") == newest.subject.removeprefix("Re: ")]
    assert newest.in_reply_to and len(thread) >= 5
    assert len({s.from_[0].email for s in thread}) >= 4
    body = render_message(demo.read("INBOX", newest.uid)).body
    assert "\n> " in body and "\n-- \n" in body and "[" not in body
    assert not any("verify your account" in s.subject for s in inbox[:40])


def test_hostile_message_is_inert_in_summaries(demo: MaildirStore) -> None:
    hostile = [s for s in demo.summaries("INBOX") if "verify your account" in s.subject]
    assert len(hostile) == 1
    raw = demo.read("INBOX", hostile[0].uid)
    assert b"\x1b[" in raw and b"[link=" in raw  # the danger is really in the file
    assert "\x1b" not in hostile[0].subject and "\x07" not in hostile[0].subject
    assert "\x1b" not in hostile[0].from_[0].name


def test_every_message_renders(demo: MaildirStore) -> None:
    rendered = 0
    for name, summaries in _all(demo).items():
        for summary in summaries:
            message = render_message(demo.read(name, summary.uid))
            assert message.subject == summary.subject
            assert message.body.strip(), (name, summary.subject)
            assert "\x1b" not in message.body and "\x07" not in message.body
            assert bool(message.attachments) == summary.has_attachment
            rendered += 1
    assert rendered >= 90
    newsletter = next(s for s in demo.summaries("INBOX") if s.subject.startswith("Weekly Bytes"))
    html = render_message(demo.read("INBOX", newsletter.uid))
    assert html.body_was_html and "<" not in html.body and "terminal tricks" in html.body


def test_deterministic_given_now(tmp_path: Path) -> None:
    first = MaildirStore(build_demo_mailbox(tmp_path / "a", now=NOW), DEMO_ACCOUNT)
    second = MaildirStore(build_demo_mailbox(tmp_path / "b", now=NOW), DEMO_ACCOUNT)
    assert _all(first) == _all(second)
    inbox = list(first.summaries("INBOX"))
    assert [first.read("INBOX", s.uid) for s in inbox] == [second.read("INBOX", s.uid) for s in inbox]


def test_later_now_shifts_dates(tmp_path: Path) -> None:
    later = NOW + timedelta(days=30)
    first = _all(MaildirStore(build_demo_mailbox(tmp_path / "a", now=NOW), DEMO_ACCOUNT))
    second = _all(MaildirStore(build_demo_mailbox(tmp_path / "b", now=later), DEMO_ACCOUNT))
    for name in first:
        assert [(s.uid, s.from_, s.flags) for s in first[name]] == [(s.uid, s.from_, s.flags) for s in second[name]]
        assert all(b - a == timedelta(days=30) for a, b in zip(_dates(first[name]), _dates(second[name])))
