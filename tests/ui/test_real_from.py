"""With several accounts, Ctrl+n in the compose screen cycles From through their addresses (and
signatures), and the message goes out through the SMTP server of the account chosen. Over the
real services: two Maildir accounts, one whose SMTP server is down, the other sending through
the private SMTP server into Dovecot."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import Input, TextArea

from mailbag.protocols.maildir import MaildirStore
from mailbag.ui.screens.compose import ComposeScreen
from tests.integration.outbox_fixtures import mailbox, parsed, smtp_config
from tests.servers.dovecot import DovecotServer
from tests.servers.ports import closed_port
from tests.servers.smtp import SmtpServer
from tests.ui.helpers import screen_text
from tests.ui.real_services import maildir_config, running, simple_message, wait_until

pytestmark = pytest.mark.dovecot


async def test_ctrl_n_chooses_the_from_account_and_its_server_sends(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    to = dovecot.add_user()
    config = maildir_config(tmp_path / "mail", [simple_message(1)], second=tmp_path / "other")
    closed = closed_port()  # home's server is down: a message from home would wait
    home = replace(config.accounts["home"], signature="Home sig", smtp=smtp_config(smtp_server, port=closed))
    other = replace(config.accounts["other"], display_name="Other Me", signature="Other sig",
                    smtp=smtp_config(smtp_server))
    config = replace(config, accounts={"home": home, "other": other})
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(80, 24)) as (app, pilot, _store):
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ComposeScreen), "the compose screen")
        screen = app.screen
        assert isinstance(screen, ComposeScreen)
        await pilot.pause()
        assert "^N from" in screen_text(app)
        sender = screen.query_one("#compose-from", Input)
        assert sender.value == "me@example.test"
        await pilot.press(*to.email, "tab", "tab", "tab", *"Chosen", "ctrl+n")
        assert sender.value == "Other Me <other@example.test>"
        assert screen.query_one(TextArea).text.endswith("\n-- \nOther sig\n")
        assert "From other@example.test: sent through other" in screen_text(app)
        await pilot.press("ctrl+n")  # round to the first again, and back
        assert sender.value == "me@example.test"
        assert screen.query_one(TextArea).text.endswith("\n-- \nHome sig\n")
        await pilot.press("ctrl+n", "ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, ComposeScreen), "the message queued")
        await wait_until(pilot, lambda: len(mailbox(dovecot, to)) == 1, "delivered")
        await wait_until(pilot, lambda: bool(MaildirStore(tmp_path / "other", "other").list_folders())
                         and len(MaildirStore(tmp_path / "other", "other").flags("Sent")) == 1, "the copy in other's Sent")
    (delivered,) = mailbox(dovecot, to)
    message = parsed(delivered)
    assert message["From"] == "Other Me <other@example.test>" and message["Subject"] == "Chosen"
    assert "Other sig" in message.get_content() and "Home sig" not in message.get_content()
    (received,) = smtp_server.received
    assert received.mail_from == "other@example.test"
