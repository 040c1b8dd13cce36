"""The Maildir++ store: folders, header summaries, stable UIDs, flags and delivery, on real files."""

from __future__ import annotations

import logging
import mailbox
import os
import shutil
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest

from mailbag.domain.models import ANSWERED, DELETED, DRAFT, FLAGGED, SEEN, FolderRole
from mailbag.protocols.maildir import UIDLIST_NAME, MaildirStore


def _mail(subject: str = "Hello", body: str = "Hi there.\n", **headers: str) -> bytes:
    lines = [f"From: {headers.pop('from_', 'Alice <alice@example.org>')}", "To: you@example.org"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    lines.append(f"Subject: {subject}")
    return ("\n".join(lines) + "\n\n" + body).encode()


@pytest.fixture
def store(tmp_path: Path) -> MaildirStore:
    return MaildirStore(tmp_path / "Mail", "local", create=True)


def _filenames(directory: Path) -> list[str]:
    return sorted(os.listdir(directory / "cur")) + sorted(os.listdir(directory / "new"))


def test_missing_root_is_refused_unless_created(tmp_path: Path) -> None:
    with pytest.raises(mailbox.NoSuchMailboxError):
        MaildirStore(tmp_path / "nothing", "local")
    MaildirStore(tmp_path / "made", "local", create=True)
    assert {p.name for p in (tmp_path / "made").iterdir()} >= {"cur", "new", "tmp"}


def test_folders_have_roles_counts_and_order(store: MaildirStore) -> None:
    for name in ["Trash", "Projects", "Sent", "Drafts", "Junk", "Archive", "Lists/python-dev"]:
        store.create_folder(name)
    store.add("INBOX", _mail("one"), [SEEN])
    store.add("INBOX", _mail("two"))
    store.add("Lists/python-dev", _mail("list mail"))

    folders = store.list_folders()
    assert [f.name for f in folders] == [
        "INBOX", "Drafts", "Sent", "Archive", "Junk", "Trash", "Lists", "Lists/python-dev", "Projects",
    ]
    roles = {f.name: f.role for f in folders}
    assert roles["INBOX"] is FolderRole.INBOX
    assert roles["Sent"] is FolderRole.SENT and roles["Drafts"] is FolderRole.DRAFTS
    assert roles["Trash"] is FolderRole.TRASH and roles["Junk"] is FolderRole.JUNK
    assert roles["Archive"] is FolderRole.ARCHIVE and roles["Projects"] is FolderRole.NONE
    counts = {f.name: (f.total, f.unread) for f in folders}
    assert counts["INBOX"] == (2, 1)
    assert counts["Lists/python-dev"] == (1, 1)
    assert counts["Sent"] == (0, 0)
    python_dev = next(f for f in folders if f.name == "Lists/python-dev")
    assert python_dev.leaf == "python-dev" and python_dev.depth == 1
    assert (store.root / ".Lists.python-dev" / "maildirfolder").exists()


def test_parent_missing_on_disk_is_listed_as_noselect(store: MaildirStore) -> None:
    # Another program created only the leaf directory of a nested folder.
    mailbox.Maildir(store.root / ".Work.Reports", create=True)
    folders = {f.name: f for f in store.list_folders()}
    assert folders["Work"].selectable is False
    assert folders["Work/Reports"].selectable is True


def test_invalid_and_unknown_folder_names(store: MaildirStore) -> None:
    for bad in ["../etc", "a.b", "", "A//B", "x\x1b[2J"]:
        with pytest.raises(ValueError):
            store.create_folder(bad)
    with pytest.raises(KeyError):
        store.folder_state("Nowhere")
    with pytest.raises(KeyError):
        list(store.summaries("Nowhere"))


def test_summaries_decode_subject_addresses_dates_and_references(store: MaildirStore) -> None:
    raw = _mail(
        "=?utf-8?q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?=",
        from_="=?utf-8?b?5bGx55SwIOiKseWtkA==?= <hanako@example.com>",
        Cc="Bob <bob@example.com>, carol@example.org",
        Date="Tue, 03 Nov 2026 09:15:00 +0900",
        Message_ID="<m3@example.org>",
        In_Reply_To="<m2@example.org>",
        References="<m1@example.org>\n <m2@example.org>",
    )
    store.add("INBOX", raw, [SEEN, FLAGGED])
    store.add("INBOX", "Subject: 会議の議事録\n  🎉\nFrom: Zoë <zoe@example.org>\n\nhi\n".encode())

    first, second = store.summaries("INBOX")
    assert first.uid == 1 and second.uid == 2
    assert first.subject == "Grüße aus München"
    assert first.from_[0].name == "山田 花子" and first.from_[0].email == "hanako@example.com"
    assert [a.email for a in first.cc] == ["bob@example.com", "carol@example.org"]
    assert first.date == datetime(2026, 11, 3, 0, 15, tzinfo=timezone.utc)
    assert first.date.utcoffset() == timedelta(hours=9)
    assert first.message_id == "<m3@example.org>"
    assert first.in_reply_to == "<m2@example.org>"
    assert first.references == ("<m1@example.org>", "<m2@example.org>")
    assert first.flags == {SEEN, FLAGGED} and not first.unread
    assert first.size == len(raw)
    assert second.subject == "会議の議事録  🎉"  # unfolded: the line break goes, the blanks stay
    assert second.from_[0].name == "Zoë"
    assert second.unread


def test_date_falls_back_to_file_mtime(store: MaildirStore) -> None:
    uid = store.add("INBOX", b"Subject: undated\n\nno date header\n")
    stamp = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc).timestamp()
    for path in (store.root / "new").iterdir():
        os.utime(path, (stamp, stamp))
    (summary,) = store.summaries("INBOX")
    assert summary.uid == uid
    assert summary.date == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert summary.date.tzinfo is not None


def test_a_message_dated_years_ahead_is_listed_by_its_arrival(store: MaildirStore) -> None:
    # Spam dated years ahead (or a mistyped year) sat at the top of a list sorted by date.
    store.add("INBOX", _mail("Win", Date="Fri, 1 Jan 3609 10:00:00 +0000"))
    ahead = (datetime.now(timezone.utc) + timedelta(hours=3)).replace(microsecond=0)
    store.add("INBOX", _mail("A clock a little fast", Date=format_datetime(ahead)))
    stamp = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc).timestamp()
    for path in (store.root / "new").iterdir():
        os.utime(path, (stamp, stamp))
    far, near = store.summaries("INBOX")
    assert far.date == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert near.date == ahead


@pytest.mark.parametrize(
    "subject",
    ["Grüße " + "ü" * 500_000, "Grüße " + "\n ".join(["wörter" * 12] * 12_000)],
    ids=["1 MB on one line", "1 MB folded"],
)
def test_a_huge_subject_keeps_the_date_and_message_id_after_it(store: MaildirStore, subject: str) -> None:
    raw = (f"From: Alice <alice@example.org>\nSubject: {subject}\n"
           "Date: Tue, 03 Nov 2026 09:15:00 +0900\nMessage-ID: <huge@example.org>\n\nhi\n").encode()
    assert len(raw) > 1_000_000
    store.add("INBOX", raw)
    (summary,) = store.summaries("INBOX")
    assert summary.date == datetime(2026, 11, 3, 0, 15, tzinfo=timezone.utc)
    assert summary.message_id == "<huge@example.org>"
    assert summary.subject.startswith("Grüße ")  # cut, but still read as UTF-8
    assert summary.size == len(raw)


def test_summary_headers_are_sanitised(store: MaildirStore) -> None:
    store.add("INBOX", b"Subject: \x1b[31mred\x1b[0m alert\x07\nFrom: \"\x1b]0;t\x07Eve\" <eve@example.org>\n\nx\n")
    (summary,) = store.summaries("INBOX")
    assert summary.subject == "red alert"
    assert summary.from_[0].name == "Eve"


def test_has_attachment(store: MaildirStore) -> None:
    mixed = (
        b"Subject: report\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n"
        b"--XX\nContent-Type: text/plain\n\nSee attached.\n"
        b"--XX\nContent-Type: application/pdf; name=r.pdf\nContent-Transfer-Encoding: base64\n\n"
        b"JVBERi0xLjQK\n--XX--\n"
    )
    text_only_mixed = (
        b"Subject: footer\nContent-Type: multipart/mixed; boundary=YY\n\n"
        b"--YY\nContent-Type: text/plain\n\nbody\n--YY\nContent-Type: text/plain\n\nlist footer\n--YY--\n"
    )
    alternative = (
        b"Subject: html\nContent-Type: multipart/alternative; boundary=ZZ\n\n"
        b"--ZZ\nContent-Type: text/plain\n\nplain\n--ZZ\nContent-Type: text/html\n\n<p>html</p>\n--ZZ--\n"
    )
    single_pdf = b"Subject: scan\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0K\n"
    for raw in (mixed, text_only_mixed, alternative, single_pdf):
        store.add("INBOX", raw)
    by_subject = {s.subject: s.has_attachment for s in store.summaries("INBOX")}
    assert by_subject == {"report": True, "footer": False, "html": False, "scan": True}


def test_a_message_attached_as_a_file_counts_as_an_attachment(store: MaildirStore) -> None:
    """A forwarded message attached as an .eml file (message/rfc822, Content-Disposition
    attachment) shows the attachment mark; a multipart/mixed of text parts only does not."""
    forwarded = (
        b"Subject: fwd\nContent-Type: multipart/mixed; boundary=AA\n\n"
        b"--AA\nContent-Type: text/plain\n\nsee below\n"
        b"--AA\nContent-Type: message/rfc822\nContent-Disposition: attachment; filename=\"old.eml\"\n\n"
        b"Subject: old\nContent-Type: text/plain\n\nold text\n--AA--\n"
    )
    nested = (
        b"Subject: nested\nContent-Type: multipart/mixed; boundary=B1\n\n"
        b"--B1\nContent-Type: multipart/alternative; boundary=B2\n\n"
        b"--B2\nContent-Type: text/plain\n\nplain\n--B2\nContent-Type: text/html\n\n<p>x</p>\n--B2--\n"
        b"--B1\nContent-Type: text/plain; charset=utf-8\n\nfooter\n--B1--\n"
    )
    for raw in (forwarded, nested):
        store.add("INBOX", raw)
    assert {s.subject: s.has_attachment for s in store.summaries("INBOX")} == {"fwd": True, "nested": False}


def test_a_folded_boundary_and_folded_part_fields_are_read_unfolded(store: MaildirStore) -> None:
    """A boundary parameter folded onto a second line means the unfolded boundary (RFC 5322
    2.2.3), as does a part's folded Content-Disposition: text parts only are no attachment, a
    part whose name comes on a folded line is."""
    folded_boundary = (
        b'Subject: folded\nContent-Type: multipart/mixed; boundary="foo\n bar"\n\n'
        b"--foo bar\nContent-Type: text/plain\n\nhello\n"
        b"--foo bar\nContent-Type: text/x-myown\n\nmore text\n--foo bar--\n"
    )
    folded_name = (
        b"Subject: named\nContent-Type: multipart/mixed; boundary=C1\n\n"
        b"--C1\nContent-Type: text/plain\n\nsee it\n"
        b"--C1\nContent-Type: text/plain\nContent-Disposition: inline;\n\tfilename=notes.txt\n\nnotes\n--C1--\n"
    )
    for raw in (folded_boundary, folded_name):
        store.add("INBOX", raw)
    assert {s.subject: s.has_attachment for s in store.summaries("INBOX")} == {"folded": False, "named": True}


def test_uids_are_stable_across_instances(store: MaildirStore) -> None:
    uids = [store.add("INBOX", _mail(f"m{n}")) for n in range(3)]
    assert uids == [1, 2, 3]
    state = store.folder_state("INBOX")
    assert state.uidnext == 4

    again = MaildirStore(store.root, "local")
    assert again.folder_state("INBOX") == state
    assert [(s.uid, s.subject) for s in again.summaries("INBOX")] == [(1, "m0"), (2, "m1"), (3, "m2")]


def test_new_files_get_higher_uids_and_removed_ones_vanish(store: MaildirStore) -> None:
    for n in range(3):
        store.add("INBOX", _mail(f"m{n}"))
    validity = store.folder_state("INBOX").uidvalidity
    # Another program removes message 2 and delivers one message.
    other = mailbox.Maildir(store.root, factory=None, create=False)
    doomed = next(key for key in other.keys() if b"Subject: m1" in other.get_bytes(key))
    other.remove(doomed)
    other.add(_mail("fresh"))

    reopened = MaildirStore(store.root, "local")
    assert sorted(reopened.flags("INBOX")) == [1, 3, 4]
    assert [(s.uid, s.subject) for s in reopened.summaries("INBOX", since_uid=3)] == [(4, "fresh")]
    assert reopened.folder_state("INBOX").uidvalidity == validity
    assert reopened.folder_state("INBOX").uidnext == 5
    with pytest.raises(KeyError):
        reopened.read("INBOX", 2)
    # A UID is never handed out twice, even after the highest one was removed.
    other.remove(next(k for k in other.keys() if b"fresh" in other.get_bytes(k)))
    assert store.add("INBOX", _mail("later")) == 5


def test_uidlist_file_is_written_atomically_and_readable(store: MaildirStore) -> None:
    store.create_folder("Sent")
    store.add("Sent", _mail("sent"))
    text = (store.root / ".Sent" / UIDLIST_NAME).read_text()
    first, entry = text.splitlines()
    assert first.startswith("mailbag-uidlist 1 V") and first.endswith(" N2")
    uid, key = entry.split(" ", 1)
    assert uid == "1" and key in mailbox.Maildir(store.root / ".Sent", create=False).keys()
    assert not [p for p in (store.root / ".Sent").iterdir() if p.name.endswith(".tmp")]


def test_uids_given_to_delivered_messages_are_added_to_the_file_and_read_back_after_a_restart(
    store: MaildirStore,
) -> None:
    """A download gives UIDs a batch at a time: each batch adds its lines to the UID file (the
    lines before it are not written again), and a restart reads every UID and the next one."""
    from mailbag.protocols.maildir_delivery import deliver, new_key

    batches = [[(new_key(), _mail(f"b{b}m{n}")) for n in range(3)] for b in range(2)]
    path = store.root / UIDLIST_NAME
    given = []
    for batch in batches:
        deliver(store.root, batch)
        before = path.read_text() if path.exists() else ""
        given += store.adopt("INBOX", [key for key, _raw in batch])
        assert path.read_text().startswith(before)
    assert given == [1, 2, 3, 4, 5, 6]

    again = MaildirStore(store.root, "local")
    assert again.folder_state("INBOX").uidnext == 7
    assert [(s.uid, s.subject) for s in again.summaries("INBOX")] == [
        (uid, f"b{b}m{n}") for uid, (b, n) in zip(given, [(b, n) for b in range(2) for n in range(3)])]
    assert again.add("INBOX", _mail("next")) == 7


def test_the_uidvalidity_is_read_from_the_uid_file_without_listing_the_folder(
    store: MaildirStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening a message asks for it: in a big folder, listing its files each time would cost
    as much as the folder is big."""
    from mailbag.protocols import maildir

    store.add("INBOX", _mail("a"))
    validity = store.folder_state("INBOX").uidvalidity
    listed: list[Path] = []
    scan = maildir._scan

    def listing(directory: Path) -> dict[str, maildir._Entry]:
        listed.append(directory)
        return scan(directory)

    monkeypatch.setattr(maildir, "_scan", listing)
    assert MaildirStore(store.root, "local").uidvalidity("INBOX") == validity
    assert listed == []
    (store.root / UIDLIST_NAME).unlink()  # no file: the folder is looked at (and gets a new one)
    assert MaildirStore(store.root, "local").uidvalidity("INBOX") != validity
    assert listed


def test_corrupt_uidlist_starts_a_new_uid_epoch(store: MaildirStore, caplog) -> None:
    store.add("INBOX", _mail("a"))
    (store.root / UIDLIST_NAME).write_text("garbage\n")
    with caplog.at_level(logging.WARNING, logger="mailbag.protocols.maildir"):
        assert sorted(MaildirStore(store.root, "local").flags("INBOX")) == [1]
    assert "malformed" in caplog.text


def test_set_flags_renames_files_visible_to_stdlib_mailbox(store: MaildirStore) -> None:
    uid = store.add("INBOX", _mail("flag me"))
    assert os.listdir(store.root / "new") and not os.listdir(store.root / "cur")

    store.set_flags("INBOX", [uid], add=[SEEN, FLAGGED, "$Forwarded"])
    (name,) = os.listdir(store.root / "cur")
    assert name.endswith(":2,FS") and not os.listdir(store.root / "new")
    stdlib = mailbox.Maildir(store.root, factory=None, create=False)
    (key,) = stdlib.keys()
    message = stdlib.get_message(key)
    assert message.get_subdir() == "cur" and message.get_flags() == "FS"

    store.set_flags("INBOX", [uid, 999], add=[ANSWERED, DRAFT, DELETED], remove=[SEEN])
    assert mailbox.Maildir(store.root, factory=None, create=False).get_message(key).get_flags() == "DFRT"
    assert store.flags("INBOX") == {uid: frozenset({FLAGGED, ANSWERED, DRAFT, DELETED})}
    assert MaildirStore(store.root, "local").flags("INBOX") == {uid: frozenset({FLAGGED, ANSWERED, DRAFT, DELETED})}
    assert [s.uid for s in store.summaries("INBOX")] == [uid]


def test_set_flags_keeps_unknown_info_letters(store: MaildirStore) -> None:
    uid = store.add("INBOX", _mail("passed on"), [SEEN])
    (name,) = os.listdir(store.root / "cur")
    os.rename(store.root / "cur" / name, store.root / "cur" / (name + "P"))
    store.set_flags("INBOX", [uid], add=[FLAGGED])
    assert os.listdir(store.root / "cur")[0].endswith(":2,FPS")


def test_what_is_no_flag_letter_in_a_files_info_is_not_written_back_among_its_flags(store: MaildirStore) -> None:
    # "S:2,T" (two infos) or ",U=12" after the info, as some tool left them: the change of a flag
    # wrote ":2,,2:FT", a name whose flags no program reads right.
    uid = store.add("INBOX", _mail("odd info"), [SEEN])
    (name,) = os.listdir(store.root / "cur")
    key = name.split(":", 1)[0]
    os.rename(store.root / "cur" / name, store.root / "cur" / f"{key}:2,S:2,T")
    assert store.flags("INBOX") == {uid: frozenset({SEEN, DELETED})}
    store.set_flags("INBOX", [uid], add=[FLAGGED])
    assert os.listdir(store.root / "cur") == [f"{key}:2,FST"]


def test_read_returns_exact_bytes(store: MaildirStore) -> None:
    raw = b"Subject: =?iso-8859-1?q?caf=E9?=\r\nFrom: a@example.org\r\n\r\nLatin-1 body: caf\xe9\r\n\x00\xff no final newline"
    store.create_folder("Archive")
    uid = store.add("Archive", raw, [SEEN])
    assert store.read("Archive", uid) == raw
    # Flags changed by another instance: the file moved, read still finds it.
    MaildirStore(store.root, "local").set_flags("Archive", [uid], add=[FLAGGED])
    assert store.read("Archive", uid) == raw
    with pytest.raises(KeyError):
        store.read("Archive", uid + 1)


def test_files_without_a_header_are_listed_and_a_directory_is_skipped_with_a_warning(
    store: MaildirStore, caplog
) -> None:
    store.add("INBOX", _mail("good one"))
    cur = store.root / "cur"
    (cur / "1000.garbage.host:2,S").write_bytes(b"\x00\x01\x02\xff\xfe binary junk \x00" * 50)
    (cur / "1001.empty.host:2,").write_bytes(b"")
    (cur / "1002.blank.host:2,").write_bytes(b"\n\nbody without any header\n")
    (cur / "1003.dir.host:2,").mkdir()
    store.add("INBOX", _mail("good two"))

    with caplog.at_level(logging.WARNING, logger="mailbag.protocols.maildir"):
        subjects = [s.subject for s in store.summaries("INBOX")]
    # As mutt lists them: a message no program shows could never be read or deleted.
    assert subjects == ["good one", "", "", "", "good two"]
    assert caplog.text.count("skipping message") == 1


def test_message_in_new_is_listed_as_unread(store: MaildirStore) -> None:
    mailbox.Maildir(store.root, factory=None, create=False).add(_mail("just arrived"))
    assert os.listdir(store.root / "new")
    (summary,) = store.summaries("INBOX")
    assert summary.subject == "just arrived" and summary.unread
    inbox = store.list_folders()[0]
    assert (inbox.name, inbox.total, inbox.unread) == ("INBOX", 1, 1)
    assert store.read("INBOX", summary.uid) == _mail("just arrived")


def test_add_into_subfolder_with_flags(store: MaildirStore) -> None:
    store.create_folder("Lists/python-dev")
    uid = store.add("Lists/python-dev", _mail("PEP"), [SEEN, ANSWERED])
    assert uid == 1
    (name,) = os.listdir(store.root / ".Lists.python-dev" / "cur")
    assert name.endswith(":2,RS")
    assert store.flags("Lists/python-dev") == {1: frozenset({SEEN, ANSWERED})}
    assert store.flags("INBOX") == {}


def test_a_folder_deleted_and_made_again_at_once_gets_another_uidvalidity(store: MaildirStore, tmp_path: Path) -> None:
    store.create_folder("Work")
    store.add("Work", _mail("Old"))
    old = store.folder_state("Work").uidvalidity
    for _ in range(3):  # within the same second, as a script or another client does it
        shutil.rmtree(store.root / ".Work")
        again = MaildirStore(store.root, "work")
        again.create_folder("Work")
        again.add("Work", _mail("New"))
        new = again.folder_state("Work").uidvalidity
        assert new > old
        old = new


def test_messages_just_delivered_are_summarised_from_their_files_big_or_small(tmp_path: Path) -> None:
    """What ``mailbag sync`` reads of a batch its download process wrote: one summary per file
    still in ``new/`` (one taken meanwhile by another program is left out), a big message's
    attachment seen too."""
    from mailbag.protocols.maildir import delivered_summaries

    (tmp_path / "new").mkdir()
    small = b"Subject: small\nMessage-ID: <s@x>\n\nhello\n"
    big = (
        b"Subject: big\nMessage-ID: <b@x>\nContent-Type: multipart/mixed; boundary=BB\n\n"
        b"--BB\nContent-Type: text/plain\n\nsee the scan\n"
        b"--BB\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\n"
        + b"iVBORw0KGgo=\n" * 200_000 + b"--BB--\n"
    )
    (tmp_path / "new" / "k1").write_bytes(small)
    (tmp_path / "new" / "k2").write_bytes(big)
    made = delivered_summaries(tmp_path, ["k1", "gone", "k2"], 1_700_000_000.0)
    assert [(key, s.subject, s.message_id, s.size, s.has_attachment) for key, s in made if s] == [
        ("k1", "small", "<s@x>", len(small), False),
        ("k2", "big", "<b@x>", len(big), True),
    ]


def test_two_writers_of_a_folder_uid_list_at_once_both_succeed(tmp_path: Path) -> None:
    """Two stores of one tree in one process (a second look at the folder, another thread)
    write the UID list at the same moment: neither fails, and the list read afterwards is whole."""
    import threading

    from mailbag.protocols.maildir import UIDLIST_NAME, _UidList

    path = tmp_path / UIDLIST_NAME
    lists = [_UidList(uidvalidity=7, uidnext=3, uids={"a": 1, "b": 2}) for _ in range(2)]
    failures: list[BaseException] = []
    start = threading.Barrier(2)

    def write(uids: _UidList) -> None:
        start.wait()
        try:
            for _ in range(300):
                uids.save(path)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(uids,)) for uids in lists]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    loaded = _UidList.load(path)
    assert loaded is not None and loaded.uids == {"a": 1, "b": 2}
    assert [p.name for p in tmp_path.iterdir()] == [UIDLIST_NAME]  # no temporary file left


def test_a_uid_file_whose_last_line_was_cut_short_keeps_every_other_uid(store: MaildirStore, caplog) -> None:
    """A mailbag killed while it added a batch's lines leaves the last one cut short: that one
    is left out (its message gets a UID again), not the whole file with the folder's UIDVALIDITY."""
    uids = [store.add("INBOX", _mail(subject)) for subject in ("a", "b")]
    validity = store.folder_state("INBOX").uidvalidity
    with open(store.root / UIDLIST_NAME, "a", encoding="utf-8") as file:
        file.write("3")
    again = MaildirStore(store.root, "local")
    with caplog.at_level(logging.WARNING, logger="mailbag.protocols.maildir"):
        assert again.folder_state("INBOX").uidvalidity == validity
    assert [(s.uid, s.subject) for s in again.summaries("INBOX")] == list(zip(uids, ["a", "b"]))
    assert "malformed" not in caplog.text


@pytest.mark.parametrize("copy", [False, True], ids=["moved", "copied"])
def test_a_message_moved_keeps_its_file_time_which_dates_it_without_a_date_header(
    store: MaildirStore, copy: bool
) -> None:
    """A message without a Date header is dated by its file (as Dovecot dates one it delivered):
    moved or copied to another folder (or back, by undo) it keeps that date, instead of taking
    the moment of the move and jumping to the top of a list by date."""
    store.create_folder("Archive")
    uid = store.add("INBOX", _mail("no date"))
    (path,) = [p for sub in ("new", "cur") for p in (store.root / sub).iterdir()]
    received = datetime(2021, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
    os.utime(path, (received.timestamp(), received.timestamp()))
    moved = store.move("INBOX", [uid], "Archive", copy=copy)
    (summary,) = store.summaries("Archive", uids=[moved[uid]])
    assert summary.subject == "no date"
    assert summary.date == received


def test_a_message_whose_parts_are_nested_too_deep_for_the_email_package_is_listed(store: MaildirStore) -> None:
    # Its summary raised RecursionError: the message was left out of the list, said unreadable.
    parts = b"".join(b"Content-Type: multipart/mixed; boundary=B%d\r\n\r\n--B%d\r\n" % (i, i) for i in range(2000))
    uid = store.add("INBOX", b"From: m@example.org\r\nSubject: nested\r\nMIME-Version: 1.0\r\n" + parts + b"hi\r\n")
    unreadable: dict[int, str] = {}
    listed = {s.uid: s for s in store.summaries("INBOX", unreadable=unreadable)}
    assert listed[uid].subject == "nested" and unreadable == {}
