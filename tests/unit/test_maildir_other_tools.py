"""Maildir trees as other programs leave them: mbsync's ``Inbox/`` and its Legacy and Maildir++
subfolders, folder names in modified UTF-7 (Dovecot, Courier, offlineimap) beside UTF-8 ones,
offlineimap's ``INBOX.Sent``, and what else sits at the top of a tree (``.notmuch``, mbsync's
state files, a directory that is no folder)."""

from __future__ import annotations

from pathlib import Path

from mailbag.domain.models import FolderRole
from mailbag.protocols.maildir import MaildirStore
from mailbag.protocols.maildir_folders import rename_folder
from mailbag.protocols.maildir_layout import make_maildir


def _deliver(folder: Path, subject: str) -> None:
    make_maildir(folder)
    (folder / "cur" / f"{abs(hash(subject))}.M1P1.host,U=7:2,S").write_bytes(
        f"From: ann@example.org\nSubject: {subject}\n\nbody\n".encode()
    )


def _clutter(root: Path) -> None:
    """What notmuch, mbsync and a user leave at the top of a tree."""
    (root / ".notmuch" / "xapian").mkdir(parents=True)
    (root / ".mbsyncstate").write_text("state\n")
    (root / ".uidvalidity").write_text("1\n")
    (root / "scripts").mkdir()
    (root / "scripts" / "filter.sh").write_text("#!/bin/sh\n")


def _subjects(store: MaildirStore, folder: str) -> list[str]:
    return [s.subject for s in store.summaries(folder)]


def _names(store: MaildirStore) -> list[str]:
    return [f.name for f in store.list_folders()]


def test_mbsync_inbox_directory_of_another_case_is_the_inbox(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    _deliver(root / "Inbox", "in the inbox")  # mbsync: Inbox ~/Mail/Inbox
    _deliver(root / "Inbox" / "Receipts", "a receipt")
    _deliver(root / "Sent", "sent")
    _clutter(root)
    store = MaildirStore(root, "home")
    assert _names(store) == ["INBOX", "Sent", "INBOX/Receipts"]
    assert _subjects(store, "INBOX") == ["in the inbox"]
    assert _subjects(store, "INBOX/Receipts") == ["a receipt"]
    (inbox,) = [f for f in store.list_folders() if f.name == "INBOX"]
    assert inbox.total == 1


def test_mbsync_legacy_subfolders_are_shown_and_new_ones_follow_them(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    _deliver(root / "Inbox", "in the inbox")
    _deliver(root / "Work", "work")
    _deliver(root / "Work" / ".Projects", "a project")  # SubFolders Legacy: Work/.Projects
    _deliver(root / "Work" / ".Projects" / ".Plans", "a plan")
    store = MaildirStore(root, "home")
    assert _names(store) == ["INBOX", "Work", "Work/Projects", "Work/Projects/Plans"]
    assert _subjects(store, "Work/Projects/Plans") == ["a plan"]
    store.create_folder("Work/Later")
    assert (root / "Work" / ".Later" / "cur").is_dir()
    (uid,) = store.flags("Work/Projects")
    store.move("Work/Projects", [uid], "Work/Later")
    assert _subjects(store, "Work/Later") == ["a project"]


def test_maildir_plus_plus_names_in_modified_utf7_are_shown_decoded(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    _deliver(root, "in the inbox")
    _deliver(root / ".Entw&APw-rfe", "a draft")  # Dovecot's and Courier's Entwürfe
    _deliver(root / ".R&D", "research")  # written as it is: not modified UTF-7
    _deliver(root / "..Receipts", "a receipt")  # mbsync's Maildir++ folder below the Inbox
    _clutter(root)
    store = MaildirStore(root, "home")
    assert _names(store) == ["INBOX", "Entwürfe", "INBOX/Receipts", "R&D"]
    assert _subjects(store, "Entwürfe") == ["a draft"]
    assert _subjects(store, "R&D") == ["research"]
    assert _subjects(store, "INBOX/Receipts") == ["a receipt"]
    store.create_folder("Privé")  # made as the tree writes its names
    assert (root / ".Priv&AOk-" / "cur").is_dir()
    rename_folder(store.layout, "Entwürfe", "Brouillons/Été")
    store.forget_folders()
    assert (root / ".Brouillons.&AMk-t&AOk-" / "cur").is_dir()
    assert _subjects(store, "Brouillons/Été") == ["a draft"]


def test_nested_names_in_modified_utf7_and_in_utf8_side_by_side(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    _deliver(root / "INBOX", "in the inbox")
    _deliver(root / "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-", "sent in Russian")  # offlineimap
    _deliver(root / "Entwürfe", "a draft")  # UTF-8, as written by mbsync
    store = MaildirStore(root, "home")
    assert set(_names(store)) == {"INBOX", "Entwürfe", "Отправленные"}
    assert _subjects(store, "Отправленные") == ["sent in Russian"]
    store.create_folder("Archiv/Älter")
    assert (root / "Archiv" / "Älter" / "cur").is_dir()


def test_offlineimap_courier_names_below_the_inbox_keep_their_roles(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    _deliver(root / "INBOX", "in the inbox")
    _deliver(root / "INBOX.Sent", "sent")  # offlineimap's copy of Courier's INBOX.Sent
    _deliver(root / "INBOX.Trash", "deleted")
    store = MaildirStore(root, "home")
    roles = {f.name: f.role for f in store.list_folders()}
    assert roles == {"INBOX": FolderRole.INBOX, "INBOX.Sent": FolderRole.SENT, "INBOX.Trash": FolderRole.TRASH}


def test_info_suffixes_other_tools_write_are_read_and_kept(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    make_maildir(root)
    message = b"From: ann@example.org\nSubject: s\n\nbody\n"
    names = {
        "1.a.host:2,FPRST": "cur",  # P (passed) and T, all known letters, in ASCII order
        "2.b.host:2,Sa": "cur",  # a lower-case (keyword) letter, as Dovecot writes one
        "3.c.host,S=40,W=42:2,S": "cur",  # Dovecot's size fields in the key
        "4.d.host": "cur",  # no info at all
        "5.e.host:2,S": "new",  # flags already in new/ (against the spec, but some tools do it)
    }
    for name, sub in names.items():
        (root / sub / name).write_bytes(message)
    store = MaildirStore(root, "home")
    flags = {uid: sorted(letters) for uid, letters in store.flags("INBOX").items()}
    assert [len(flags[uid]) for uid in sorted(flags)] == [4, 1, 1, 0, 1]
    store.set_flags("INBOX", sorted(flags), add={"\\Flagged"})
    assert sorted(p.name for p in (root / "cur").iterdir()) == [
        "1.a.host:2,FPRST", "2.b.host:2,FSa", "3.c.host,S=40,W=42:2,FS", "4.d.host:2,F", "5.e.host:2,FS",
    ]


def test_a_symlinked_folder_is_read_and_a_link_back_up_the_tree_is_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    _deliver(root / "INBOX", "in the inbox")
    _deliver(root / "Work", "work")
    _deliver(tmp_path / "archive-disk" / "2019", "an old one")
    (root / "Old").symlink_to(tmp_path / "archive-disk" / "2019")  # a folder kept on another disk
    (root / "Work" / "up").symlink_to(root)  # a loop, as a careless ln -s leaves one
    store = MaildirStore(root, "home")
    assert _names(store) == ["INBOX", "Old", "Work"]
    assert _subjects(store, "Old") == ["an old one"]


def test_a_tree_without_an_inbox_lists_an_empty_one_and_writes_nothing_there(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    _deliver(root / "Archive", "kept")  # offlineimap with the INBOX filtered out
    _deliver(root / "Sent", "sent")
    store = MaildirStore(root, "home")
    folders = {f.name: f.total for f in store.list_folders()}
    assert folders == {"INBOX": 0, "Archive": 1, "Sent": 1}
    assert list(store.summaries("INBOX")) == [] and store.flags("INBOX") == {}
    assert _subjects(store, "Archive") == ["kept"]
    assert sorted(p.name for p in root.iterdir()) == ["Archive", "Sent", "mailbag-uidvalidity"]
