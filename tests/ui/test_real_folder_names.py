"""Folder names in the new-folder and rename prompts on a server that keeps its folders under
``INBOX.`` (Courier, Cyrus; here the private Dovecot's compat listener): the prompts hold the
name as the tree shows it, without the prefix, and take it so; a full server name typed works too."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Label

from mailbag.domain.config import Config
from mailbag.ui.app import MailbagApp
from mailbag.ui.screens.prompt import PromptScreen
from tests.integration.test_imap_compat import compat_config, other_client
from tests.servers.dovecot import DovecotServer, MailUser
from tests.ui.helpers import cursor_on_folder, status_text
from tests.ui.real_services import running, simple_message, wait_until


def prompt(app: MailbagApp) -> tuple[str, str]:
    """The open prompt's question and what its field holds."""
    screen = app.screen
    assert isinstance(screen, PromptScreen)
    return str(screen.query_one(Label).render()), screen.query_one("#prompt-field", Input).value


def compat_with_work(dovecot: DovecotServer, mail_user: MailUser) -> Config:
    """The config of an account "work" on the compat listener, where another program has made
    the folder ``INBOX.Work``."""
    client = other_client(dovecot, mail_user)
    try:
        client.create("INBOX.Work")
    finally:
        client.logout()
    return Config(path=None, accounts={"work": compat_config(dovecot, mail_user)})


@pytest.mark.dovecot
async def test_the_prompts_hold_and_take_the_name_without_the_inbox_prefix(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path
) -> None:
    dovecot.deliver(mail_user.name, simple_message(1))
    config = compat_with_work(dovecot, mail_user)
    async with running(config, tmp_path / "cache.sqlite3", 1) as (app, pilot, store):
        tree = app.main_screen.folder_tree
        await wait_until(pilot, lambda: ("work", "INBOX.Work") in tree._folders, "the folders")
        await cursor_on_folder(pilot, "work", "INBOX.Work")
        await pilot.press("M")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptScreen), "the prompt")
        assert prompt(app)[1] == "Work."
        await pilot.press(*"Plans", "enter")
        await wait_until(pilot, lambda: ("work", "INBOX.Work.Plans") in tree._folders, "made below Work")

        await cursor_on_folder(pilot, "work", "INBOX.Work.Plans")
        await pilot.press("E")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptScreen), "the prompt")
        assert prompt(app) == ("Rename Work.Plans to:", "Work.Plans")
        await pilot.press("ctrl+u", *"Projects", "enter")
        await wait_until(pilot, lambda: ("work", "INBOX.Projects") in tree._folders, "renamed")
        assert ("work", "INBOX.Work.Plans") not in tree._folders

        await cursor_on_folder(pilot, "work", "INBOX.Projects")
        await pilot.press("M", "ctrl+u", *"INBOX.Later", "enter")  # the server's full name, as before
        await wait_until(pilot, lambda: ("work", "INBOX.Later") in tree._folders, "made at the top")
        assert not [name for (_a, name) in tree._folders if "INBOX.INBOX" in name]
        assert "error" not in status_text(app)
