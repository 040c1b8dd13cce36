"""Nested Maildir trees, as mbsync writes them with ``SubFolders Verbatim``: ``INBOX/``, and a
folder ``Work/Projects`` in ``Work/Projects/``; told apart from Maildir++ by what is on disk, or
by the account's ``maildir_layout``."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from mailbag.domain.config import ConfigError, load_config
from mailbag.domain.models import SEEN
from mailbag.protocols.maildir import MaildirStore
from mailbag.protocols.maildir_layout import make_maildir


def _mail(subject: str) -> bytes:
    return f"From: Ann <ann@example.org>\nTo: you@example.org\nSubject: {subject}\n\nbody\n".encode()


def _deliver(folder: Path, name: str, subject: str) -> None:
    make_maildir(folder)
    (folder / "new" / name).write_bytes(_mail(subject))


@pytest.fixture
def mbsync_tree(tmp_path: Path) -> Path:
    """~/Mail/NAME as mbsync SubFolders Verbatim leaves it."""
    root = tmp_path / "Mail"
    _deliver(root / "INBOX", "1.a.host", "in the inbox")
    _deliver(root / "Work" / "Projects", "2.b.host", "a project")
    _deliver(root / "Lists.python", "3.c.host", "a list with a dot")
    make_maildir(root / "Sent")
    return root


def test_folders_of_a_nested_tree_with_parents_and_roles(mbsync_tree: Path) -> None:
    store = MaildirStore(mbsync_tree, "home")
    folders = {f.name: f for f in store.list_folders()}
    assert set(folders) == {"INBOX", "Sent", "Work", "Work/Projects", "Lists.python"}
    assert "\\Noselect" in folders["Work"].attributes  # Work/ holds a folder but no mail
    assert folders["Sent"].role == "sent"
    assert (folders["INBOX"].total, folders["Work/Projects"].total, folders["Lists.python"].total) == (1, 1, 1)
    assert [s.subject for s in store.summaries("INBOX")] == ["in the inbox"]
    assert [s.subject for s in store.summaries("Work/Projects")] == ["a project"]


def test_moves_flags_and_new_folders_stay_nested(mbsync_tree: Path) -> None:
    store = MaildirStore(mbsync_tree, "home")
    (uid,) = store.flags("INBOX")
    store.set_flags("INBOX", [uid], add={SEEN})
    store.create_folder("Archive/2026")
    mapping = store.move("INBOX", [uid], "Archive/2026")
    assert os.listdir(mbsync_tree / "INBOX" / "cur") == [] and os.listdir(mbsync_tree / "INBOX" / "new") == []
    (moved,) = os.listdir(mbsync_tree / "Archive" / "2026" / "cur")
    assert moved.endswith(":2,S")
    assert store.flags("Archive/2026") == {mapping[uid]: frozenset({SEEN})}
    assert not list(mbsync_tree.glob(".*"))  # no Maildir++ folder made beside
    assert not (mbsync_tree / "Archive" / "cur").exists()  # a parent only
    with pytest.raises(ValueError):
        store.create_folder("Work/cur")


def test_a_new_tree_and_a_maildir_plus_plus_tree_are_maildir_plus_plus(tmp_path: Path) -> None:
    fresh = MaildirStore(tmp_path / "new", "home", create=True)
    fresh.create_folder("Sent")
    assert (tmp_path / "new" / ".Sent" / "cur").is_dir()
    assert fresh.layout.name == "maildir++"


def test_a_tree_holding_both_is_read_as_its_key_says(mbsync_tree: Path, caplog: pytest.LogCaptureFixture) -> None:
    _deliver(mbsync_tree / ".Old", "4.d.host", "maildir++ folder")
    with caplog.at_level(logging.WARNING):
        guessed = MaildirStore(mbsync_tree, "home")
    assert guessed.layout.name == "maildir++" and "maildir_layout" in caplog.text
    told = MaildirStore(mbsync_tree, "home", layout="nested")
    assert "Work/Projects" in {f.name for f in told.list_folders()}
    assert [s.subject for s in told.summaries("INBOX")] == ["in the inbox"]


def test_the_layout_key_in_the_config(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[accounts.home]\nemail = "me@example.org"\nmaildir = "~/Mail/home"\nmaildir_layout = "nested"\n')
    assert load_config(path).accounts["home"].maildir_layout == "nested"
    path.write_text('[accounts.home]\nemail = "me@example.org"\nmaildir = "~/Mail/home"\nmaildir_layout = "mh"\n')
    with pytest.raises(ConfigError, match="maildir_layout"):
        load_config(path)
