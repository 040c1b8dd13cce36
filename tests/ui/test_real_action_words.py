"""What the status bar says of triage over the real services: an action under way, done and
undone in plain words, its folder named as the tree shows it on a server that keeps every folder
under ``INBOX.`` (the private Dovecot's compat listener; the move picker too), and by its new
name after a rename."""

from __future__ import annotations

import pytest

from mailbag.domain.events import ActionApplied, ActionRolledBack, ErrorReported
from mailbag.ui.app import MailbagApp
from mailbag.ui.screens.folder_picker import FolderPicker
from tests.integration.test_imap_compat import other_client
from tests.servers.dovecot import DovecotServer, MailUser
from tests.ui.helpers import cursor_on_folder, screen_text, status_text
from tests.ui.real_services import running, service, simple_message, wait_until
from tests.ui.test_real_folder_names import compat_with_work


def told(app: MailbagApp) -> list[str]:
    """Every notice and error the services gave the status bar, in order."""
    texts: list[str] = []
    for event in service(app).events:
        if isinstance(event, ActionApplied):
            texts.append(event.description)
        elif isinstance(event, ActionRolledBack):
            texts.append(f"{event.description}: {event.reason}")
        elif isinstance(event, ErrorReported):
            texts.append(event.message)
    return texts


@pytest.mark.dovecot
async def test_triage_is_told_in_plain_words_with_folders_named_as_the_tree_shows_them(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path
) -> None:
    dovecot.deliver_many(mail_user.name, [simple_message(n) for n in range(3)])
    config = compat_with_work(dovecot, mail_user)
    async with running(config, tmp_path / "cache.sqlite3", 3, size=(80, 24)) as (app, pilot, _store):
        tree = app.main_screen.folder_tree
        await wait_until(pilot, lambda: ("work", "INBOX.Work") in tree._folders, "the folders")
        await pilot.press("a")
        # What the status bar was told, in order: on a loaded machine a later notice may replace
        # this one on the line before the test looks.
        await wait_until(pilot, lambda: "Moved 1 message to Archive" in told(app), "archived")
        assert told(app).index("Moving 1 message to Archive…") < told(app).index("Moved 1 message to Archive")

        await pilot.press("m")
        await wait_until(pilot, lambda: isinstance(app.screen, FolderPicker), "the folder picker")
        assert "INBOX.Work" not in screen_text(app) and "Work" in screen_text(app)
        await pilot.press(*"work", "enter")
        await wait_until(pilot, lambda: "Moved 1 message to Work" in status_text(app), "moved")

        await cursor_on_folder(pilot, "work", "INBOX.Work")
        await pilot.press("E", "ctrl+u", *"Projects", "enter")
        await wait_until(pilot, lambda: "Folder Work renamed to Projects" in status_text(app), "renamed")
        await pilot.press("u")  # the move to Work, which is Projects now
        await wait_until(pilot, lambda: "Undone: Moved 1 message to Projects" in status_text(app), "undone")
        await wait_until(pilot, lambda: ("work", "INBOX", 2) == counted(app), "back in the Inbox")
        assert not [text for text in told(app) if "INBOX." in text]


def counted(app: MailbagApp) -> tuple[str, str, int]:
    """The Inbox's message count, as the services give it."""
    inbox = next(f for f in app.facade.folders("work") if f.name == "INBOX")
    return ("work", "INBOX", inbox.total)


@pytest.mark.dovecot
async def test_a_folder_another_program_deleted_is_named_as_the_tree_showed_it(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path
) -> None:
    dovecot.deliver(mail_user.name, simple_message(1))
    config = compat_with_work(dovecot, mail_user)
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(120, 30)) as (app, pilot, _store):
        tree = app.main_screen.folder_tree
        await wait_until(pilot, lambda: ("work", "INBOX.Work") in tree._folders, "the folders")
        client = other_client(dovecot, mail_user)
        try:
            client.delete("INBOX.Work")
        finally:
            client.logout()
        await wait_until(pilot, lambda: "deleted or renamed by another program" in status_text(app), "told")
        assert "work: Work was deleted or renamed by another program" in status_text(app)
        assert "error" not in status_text(app)
