"""A local Maildir that has only an Inbox (as a POP3 account's starts): archive, delete and junk
make their standard folder the first time and file the message there."""

from __future__ import annotations

import os
from pathlib import Path

from mailbag.domain.config import AccountConfig, Config
from mailbag.protocols.maildir import MaildirStore
from tests.ui.helpers import status_text
from tests.ui.real_services import running, simple_message, wait_until


async def test_triage_keys_on_an_inbox_only_maildir_make_archive_trash_and_junk(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    MaildirStore(root, "home", create=True).add_many("INBOX", [(simple_message(n), ()) for n in range(3)])
    config = Config(
        path=None,
        accounts={"home": AccountConfig(name="home", email="me@example.test", default=True, maildir=root)},
    )
    async with running(config, tmp_path / "cache.sqlite3", 3) as (app, pilot, _store):
        screen = app.main_screen
        for key, folder, left in (("a", "Archive", 2), ("d", "Trash", 1), ("exclamation_mark", "Junk", 0)):
            await pilot.press(key)
            await wait_until(pilot, lambda: screen.message_list.row_count == left, f"{key} took the row")
            await wait_until(
                pilot,
                lambda: len(list(MaildirStore(root, "home").summaries(folder))) == 1,
                f"the message filed in {folder}",
            )
            assert "folder" not in status_text(app)  # never "home has no archive folder"
            names = {f.name for f in app.facade.folders("home")}
            assert folder in names  # the new folder is in the tree
        assert list(MaildirStore(root, "home").summaries("INBOX")) == []


async def test_a_nested_maildir_shows_its_folders_and_files_into_nested_ones(tmp_path: Path) -> None:
    """A tree as mbsync SubFolders Verbatim writes it: INBOX/ and Work/Projects/; archiving makes
    Archive/ beside them, not a Maildir++ .Archive."""
    root = tmp_path / "Mail"
    nested = MaildirStore(root, "home", layout="nested", create=True)
    nested.create_folder("Work/Projects")
    nested.add_many("INBOX", [(simple_message(n), ()) for n in range(2)])
    config = Config(
        path=None,
        accounts={"home": AccountConfig(name="home", email="me@example.test", default=True, maildir=root)},
    )
    async with running(config, tmp_path / "cache.sqlite3", 2) as (app, pilot, _store):
        assert {"INBOX", "Work", "Work/Projects"} <= {f.name for f in app.facade.folders("home")}
        await pilot.press("a")
        await wait_until(pilot, lambda: app.main_screen.message_list.row_count == 1, "a took the row")
        await wait_until(pilot, lambda: len(os.listdir(root / "Archive" / "cur")) + len(
            os.listdir(root / "Archive" / "new")) == 1 if (root / "Archive" / "cur").is_dir() else False,
                         "the message filed in Archive/")
        assert not list(root.glob(".*"))
