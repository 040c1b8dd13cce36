"""The folder tree's cursor starts on the open folder, so the folder keys act on it at once."""

from __future__ import annotations

from mailbag.domain.config import AccountConfig, Config
from mailbag.services.demo import build_demo_mailbox
from mailbag.ui.screens.prompt import PromptScreen
from tests.ui.helpers import status_text
from tests.ui.real_services import running, wait_until


async def test_m_right_after_focusing_the_tree_makes_a_folder_in_the_open_account(tmp_path):
    root = build_demo_mailbox(tmp_path / "Mail")
    config = Config(path=None, accounts={"demo": AccountConfig(
        name="demo", email="you@mailbag.example", default=True, maildir=root)})
    inbox = len([p for sub in ("cur", "new") for p in (root / sub).iterdir()])
    async with running(config, tmp_path / "cache.sqlite3", inbox, size=(80, 24)) as (app, pilot, _store):
        app.main_screen.folder_tree.focus()
        await pilot.pause()
        assert app.main_screen.folder_tree.selected_folder() == ("demo", "INBOX")
        await pilot.press("M")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptScreen), "the new-folder question")
        assert "Choose an account" not in status_text(app)
        await pilot.press("escape")
