"""The folder keys over the real services on a Maildir account: what the dialogs say comes from
the cache, and what is answered reaches the tree on disk and on screen."""

from __future__ import annotations

from mailbag.ui.screens.dialogs import ConfirmDialog
from tests.ui.helpers import cursor_on_folder, status_text
from tests.ui.real_services import maildir_config, running, simple_message, wait_until


async def test_delete_on_a_maildir_says_how_many_messages_go_and_removes_the_folder(tmp_path):
    root = tmp_path / "Mail"
    config = maildir_config(root, [simple_message(1)], more={"Receipts": [simple_message(n) for n in range(2, 6)]})
    async with running(config, tmp_path / "cache.sqlite3", 1) as (app, pilot, store):
        tree = app.main_screen.folder_tree
        await cursor_on_folder(pilot, "home", "Receipts")
        await pilot.press("X")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question")
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert "Delete the folder Receipts and the 4 messages in it?" in dialog.question
        await pilot.press("n")
        await pilot.pause()
        assert (root / ".Receipts" / "cur").is_dir()
        await pilot.press("X", "y")
        await wait_until(pilot, lambda: "Folder Receipts deleted" in status_text(app), "deleted")
        assert not (root / ".Receipts").exists()
        assert ("home", "Receipts") not in tree._folders
        await pilot.press("M", "ctrl+u", *"Bills", "enter")  # at the top, whatever the cursor is on
        await wait_until(pilot, lambda: ("home", "Bills") in tree._folders, "made")
        assert (root / ".Bills" / "cur").is_dir()
