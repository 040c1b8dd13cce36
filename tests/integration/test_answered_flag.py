"""A reply that the server took marks the message replied to \\Answered (a forward: $Forwarded),
on the server and in the list; a reply the server refused marks nothing."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from mailbag.domain.models import ANSWERED, FORWARDED
from mailbag.store.local import HELD
from mailbag.ui.screens.compose import ComposeScreen
from tests.integration.outbox_fixtures import flags_in, mailbox, sending_app, until
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.smtp import SmtpServer
from tests.ui.helpers import status_text

pytestmark = pytest.mark.dovecot


def _deliver(dovecot: DovecotServer, me: MailUser, ann: MailUser) -> None:
    original = EmailMessage()
    original["From"] = f"Ann Example <{ann.email}>"
    original["To"] = me.email
    original["Subject"] = "Lunch?"
    original["Message-ID"] = "<lunch-1@example.test>"
    original.set_content("Tomorrow at noon?\n")
    dovecot.deliver(me.name, original.as_bytes().replace(b"\n", b"\r\n"))


async def _send(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path, key: str, *, refused: bool = False
) -> tuple[MailUser, frozenset[str], str]:
    """Answer the one message in the Inbox with ``key`` and send it; returns the user, the
    flags the list shows on the original once the outbox is done with the message, and the
    status bar then."""
    me, ann = dovecot.add_user(), dovecot.add_user()
    _deliver(dovecot, me, ann)
    if refused:
        smtp_server.refuse_rcpt[ann.email] = "550 5.1.1 no such user"
    async with sending_app(dovecot, me, smtp_server, tmp_path) as (app, pilot, store, account):
        screen = app.main_screen
        await pilot.press(key)
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen), "the compose screen")
        await pilot.pause()
        if key == "f":
            await pilot.press(*ann.email)  # the cursor is in To
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, ComposeScreen), "the message queued")
        if refused:
            await until(
                pilot,
                lambda: [i.state for i in store.local.outbox(with_raw=False)] == [HELD],
                "the message held",
            )
        else:
            await until(pilot, lambda: len(mailbox(dovecot, ann)) == 1, "delivery to the recipient")
            flag = ANSWERED if key == "r" else FORWARDED
            await until(
                pilot, lambda: flag.encode() in b"".join(flags_in(dovecot, me, "INBOX")), "the flag"
            )
        await until(pilot, lambda: not store.local.actions(account), "the journal settled")
        row = screen.message_list.current_row
        assert row is not None
        return me, frozenset(row.flags), status_text(app)


async def test_a_sent_reply_marks_the_original_answered(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, shown, status = await _send(dovecot, smtp_server, tmp_path, "r")
    assert ANSWERED in shown
    assert "Marked 1 message answered" in status
    assert b"\\Answered" in b"".join(flags_in(dovecot, me, "INBOX"))


async def test_a_sent_forward_marks_the_original_forwarded(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, shown, status = await _send(dovecot, smtp_server, tmp_path, "f")
    assert FORWARDED in shown and ANSWERED not in shown
    assert "Marked 1 message forwarded" in status
    assert b"\\Answered" not in b"".join(flags_in(dovecot, me, "INBOX"))


async def test_a_held_reply_marks_nothing(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, shown, _status = await _send(dovecot, smtp_server, tmp_path, "r", refused=True)
    assert ANSWERED not in shown
    assert b"\\Answered" not in b"".join(flags_in(dovecot, me, "INBOX"))
