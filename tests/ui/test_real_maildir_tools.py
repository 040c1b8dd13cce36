"""A Maildir account at 80x24 over the real services, on trees other programs make and change: an
mbsync tree (``Inbox/``, Legacy subfolders, names in modified UTF-7) reads as its folders are
named, and a folder another program makes while mailbag runs leaves no count in the status bar."""

from __future__ import annotations

from pathlib import Path

from mailbag.domain.config import AccountConfig, Config
from mailbag.protocols.maildir_layout import make_maildir
from tests.ui.conftest import settle
from tests.ui.helpers import screen_text, status_text
from tests.ui.real_services import maildir_config, reader_text, running, simple_message, wait_until


def deliver(folder: Path, n: int, subject: str) -> None:
    make_maildir(folder)
    (folder / "cur" / f"{1700000000 + n}.M{n}P1.host,U={n}:2,S").write_bytes(simple_message(n, subject))


async def test_an_mbsync_tree_shows_its_inbox_its_legacy_folders_and_decoded_names(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    deliver(root / "Inbox", 1, "Hello there")  # mbsync: Inbox ~/Mail/Inbox
    deliver(root / "Work", 2, "Work itself")
    deliver(root / "Work" / ".Projects", 3, "A project")  # SubFolders Legacy
    deliver(root / "Entw&APw-rfe", 4, "A draft in German")  # offlineimap: modified UTF-7 on disk
    (root / ".notmuch" / "xapian").mkdir(parents=True)
    (root / ".mbsyncstate").write_text("")
    accounts = {"home": AccountConfig(name="home", email="me@example.test", default=True, maildir=root)}
    config = Config(path=None, accounts=accounts, searches={})
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(80, 24)) as (app, pilot, _store):
        await wait_until(pilot, lambda: "home online" in status_text(app), "online")
        names = {folder.name for folder in app.facade.folders("home")}
        assert names == {"INBOX", "Entwürfe", "Work", "Work/Projects"}  # no second Inbox, no .notmuch
        screen = screen_text(app)
        assert "Entwürfe" in screen and "Projects" in screen and "&APw-" not in screen
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Hello there" in reader_text(app)[0], "the Inbox's message opens")


async def test_a_folder_made_by_another_program_shows_and_leaves_no_count_behind(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    config = maildir_config(root, [simple_message(n) for n in range(3)])
    async with running(config, tmp_path / "cache.sqlite3", 3, size=(80, 24)) as (app, pilot, store):
        await wait_until(pilot, lambda: "home online" in status_text(app), "online")
        make_maildir(root / ".Extern")  # as mbsync makes a folder new on the server
        await wait_until(pilot, lambda: "Extern" in screen_text(app), "the new folder in the tree")
        await wait_until(pilot, lambda: store.folder_state("home", "Extern") is not None, "the folder synced")
        await settle(pilot)
        assert "0/0" not in status_text(app)
        assert "home online" in status_text(app)
