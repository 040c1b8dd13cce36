"""The outbox on screen over the real services: the status bar counts what waits, W lists it with
the reason, s sends one now, e edits one and d takes one out."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import Input

from mailbag.domain.models import OutgoingState
from mailbag.domain.requests import SendMessage
from mailbag.protocols.maildir import MaildirStore
from mailbag.ui.app import MailbagApp
from mailbag.ui.screens.compose import ComposeScreen
from mailbag.ui.screens.outbox import OutboxScreen
from tests.integration.outbox_fixtures import mailbox, new_message, smtp_config
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import SmtpServer
from tests.ui.helpers import screen_text, status_text
from tests.ui.real_services import maildir_config, running, simple_message, wait_until

pytestmark = pytest.mark.dovecot


def listed(app: MailbagApp) -> list[str]:
    """The subjects the Outbox screen lists."""
    screen = app.screen
    assert isinstance(screen, OutboxScreen)
    return [m.subject for m in screen.messages]


def both_waiting(app: MailbagApp) -> bool:
    """Each of the Outbox screen's two messages has been tried and waits for its next try."""
    screen = app.screen
    assert isinstance(screen, OutboxScreen)
    return len(screen.messages) == 2 and all(
        m.state is OutgoingState.QUEUED and m.reason for m in screen.messages)


async def test_the_outbox_waits_for_the_server_and_sends_on_s(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    to = dovecot.add_user()
    config = maildir_config(tmp_path / "mail", [simple_message(1)])
    account = replace(config.accounts["home"], smtp=smtp_config(smtp_server))
    config = replace(config, accounts={"home": account})
    smtp_server.stop()
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(80, 24)) as (app, pilot, _store):
        for subject in ("Report attached", "Never mind"):
            app.facade.submit(SendMessage(
                account="home", message=new_message("me@example.test", [to.email], subject=subject).as_bytes(),
                recipients=(to.email,),
            ))
        await wait_until(pilot, lambda: "2 to send" in status_text(app), "2 to send")
        await pilot.press("W")
        await wait_until(pilot, lambda: isinstance(app.screen, OutboxScreen), "the outbox")
        await wait_until(pilot, lambda: "connection refused" in screen_text(app), "the reason")
        assert "Report attached" in screen_text(app) and "waiting" in screen_text(app)
        # "Never mind" goes. The two were handed in at once, so either may be listed first.
        await pilot.press(*["j"] * listed(app).index("Never mind"))
        for _ in range(5):  # while a retry is sending it, d is refused and says so
            await wait_until(pilot, lambda: both_waiting(app), "both tried and waiting")
            await pilot.press("d")
            await wait_until(pilot, lambda: listed(app) == ["Report attached"]
                             or "cannot be taken out now" in screen_text(app), "taken out or refused")
            if listed(app) == ["Report attached"]:
                break
        assert listed(app) == ["Report attached"]
        smtp_server.start()
        await pilot.press("s")
        await wait_until(pilot, lambda: "nothing waits" in screen_text(app), "sent")
        await pilot.press("escape")
        await wait_until(pilot, lambda: "to send" not in status_text(app), "the count gone")
    (delivered,) = mailbox(dovecot, to)
    assert b"Subject: Report attached" in delivered
    (copy,) = MaildirStore(tmp_path / "mail", "home").summaries("Sent")
    assert copy.subject == "Report attached"


async def test_e_edits_a_held_message_whose_fixed_recipient_then_gets_it_once(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    to, hidden = dovecot.add_user(), dovecot.add_user()
    wrong = "nobody@example.test"
    smtp_server.refuse_rcpt[wrong] = f"550 5.1.1 <{wrong}>: no such user"
    config = maildir_config(tmp_path / "mail", [simple_message(1)])
    account = replace(config.accounts["home"], smtp=smtp_config(smtp_server))
    config = replace(config, accounts={"home": account})
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(100, 30)) as (app, pilot, _store):
        app.facade.submit(SendMessage(  # Bcc: the envelope names `hidden`, the headers do not
            account="home", message=new_message("me@example.test", [wrong], subject="Minutes").as_bytes(),
            recipients=(wrong, hidden.email),
        ))
        await wait_until(pilot, lambda: "1 held" in status_text(app), "held")
        await pilot.press("W")
        await wait_until(pilot, lambda: "no such user" in screen_text(app), "the reason")
        assert "e edit" in screen_text(app)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, ComposeScreen), "the compose screen")
        compose = app.screen
        assert isinstance(compose, ComposeScreen)
        assert compose.query_one("#compose-to", Input).value == wrong
        assert compose.query_one("#compose-bcc", Input).value == hidden.email
        assert compose.query_one("#compose-subject", Input).value == "Minutes"
        await pilot.click("#compose-to")
        await pilot.press("end", *["backspace"] * len(wrong), *to.email)
        assert compose.query_one("#compose-to", Input).value == to.email
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, OutboxScreen), "back in the outbox")
        await wait_until(pilot, lambda: "nothing waits" in screen_text(app), "sent")
        assert "Minutes" not in screen_text(app)
    (delivered,) = mailbox(dovecot, to)
    assert b"Subject: Minutes" in delivered and to.email.encode() in delivered
    (copy,) = mailbox(dovecot, hidden)
    assert b"Subject: Minutes" in copy
    assert [r.rcpt_tos for r in smtp_server.received] == [[to.email, hidden.email]]
