"""Sending a draft resumed from the Drafts folder removes it from there without telling the user
of a "permanent delete" they never asked for; a real D still says it."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from mailbag.ui.screens.compose import ComposeScreen
from tests.integration.outbox_fixtures import mailbox, sending_app, until
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import SmtpServer
from tests.ui.helpers import status_text
from tests.ui.test_real_search import open_in_tree

pytestmark = pytest.mark.dovecot


def _message(sender: str, to: str, subject: str, message_id: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message.set_content("See you there.\n")
    return message.as_bytes().replace(b"\n", b"\r\n")


async def test_sending_a_resumed_draft_says_nothing_of_a_delete(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, ann = dovecot.add_user(), dovecot.add_user()
    dovecot.deliver(me.name, _message(ann.email, me.email, "Old news", "<old-1@example.test>"))
    dovecot.ensure_folder(me.name, "Drafts")
    dovecot.deliver(me.name, _message(me.email, ann.email, "Plans", "<draft-1@example.test>"), folder="Drafts")
    async with sending_app(dovecot, me, smtp_server, tmp_path) as (app, pilot, store, account):
        screen = app.main_screen
        await open_in_tree(pilot, app, "Drafts")
        await until(
            pilot,
            lambda: (row := screen.message_list.current_row) is not None and row.folder == "Drafts",
            "the draft listed",
        )
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen), "the compose screen")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, ComposeScreen), "the message queued")
        await until(pilot, lambda: len(mailbox(dovecot, ann)) == 1, "delivery to the recipient")
        await until(pilot, lambda: not mailbox(dovecot, me, "Drafts"), "the draft gone from Drafts")
        await until(pilot, lambda: not store.local.actions(account), "the journal settled")
        await until(pilot, lambda: not screen.message_list.row_count, "the draft gone from the list")
        assert "Permanent delete" not in status_text(app)
        assert f'Sent "Plans" to {ann.email}' in status_text(app)  # the last word said: not a delete

        await open_in_tree(pilot, app, "INBOX")
        await until(pilot, lambda: screen.message_list.current_row is not None, "the Inbox listed")
        await pilot.press("D")
        await until(pilot, lambda: app.screen is not screen, "D asks first")
        await pilot.press("y")
        await until(pilot, lambda: "Deleted 1 message permanently" in status_text(app), "D told")
