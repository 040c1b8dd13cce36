"""A reply that the server took marks the message replied to \\Answered (a forward: $Forwarded),
on the server and in the list, also when it was resumed from a draft (its file, or the Drafts
folder); a reply the server refused marks nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from textual.pilot import Pilot

from mailbag.domain.compose import Draft
from mailbag.domain.models import ANSWERED, FORWARDED, MarkWhenSent
from mailbag.domain.outgoing import build_message
from mailbag.services.mail import DRAFTS_DIR
from mailbag.store.drafts import DraftFiles
from mailbag.store.local import HELD
from mailbag.ui.app import MailbagApp
from mailbag.ui.screens.compose import ComposeScreen
from tests.integration.outbox_fixtures import flags_in, mailbox, parsed, sending_app, until
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.smtp import SmtpServer
from tests.ui.helpers import screen_text, status_text

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


def _reply_draft(me: MailUser, ann: MailUser, mark: MarkWhenSent | None) -> Draft:
    """The reply to Ann's message as the compose screen saves it while it is written."""
    return Draft(
        account="work", from_=me.email, to=ann.email, subject="Re: Lunch?", body="Noon is fine.\n",
        in_reply_to="<lunch-1@example.test>", references=("<lunch-1@example.test>",),
        message_id="<reply-1@example.test>", mark=mark,
    )


async def _send_resumed(app: MailbagApp, pilot: Pilot, dovecot: DovecotServer, me: MailUser, ann: MailUser) -> None:
    """Send the draft open in the compose screen; wait for Ann to get it and the Inbox's flag."""
    await until(pilot, lambda: isinstance(app.screen, ComposeScreen), "the draft open")
    await pilot.pause()
    await pilot.press("ctrl+s")
    await until(pilot, lambda: not isinstance(app.screen, ComposeScreen), "the reply queued")
    await until(pilot, lambda: len(mailbox(dovecot, ann)) == 1, "delivery to Ann")
    await until(pilot, lambda: ANSWERED.encode() in b"".join(flags_in(dovecot, me, "INBOX")), "the original answered")
    (sent,) = mailbox(dovecot, ann)
    assert parsed(sent)["In-Reply-To"] == "<lunch-1@example.test>"


async def test_a_reply_reopened_from_disk_still_marks_the_original_answered(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, ann = dovecot.add_user(), dovecot.add_user()
    _deliver(dovecot, me, ann)
    # mailbag was killed while the reply was written: its file is all that is left of it
    DraftFiles(tmp_path / DRAFTS_DIR).save(_reply_draft(me, ann, MarkWhenSent("work", "INBOX", 1, ANSWERED)))
    async with sending_app(dovecot, me, smtp_server, tmp_path) as (app, pilot, store, account):
        await until(pilot, lambda: "Open it now?" in screen_text(app), "the draft offered")
        await pilot.press("o")
        await _send_resumed(app, pilot, dovecot, me, ann)


async def test_a_reply_resumed_from_the_drafts_folder_marks_the_original_answered(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, ann = dovecot.add_user(), dovecot.add_user()
    _deliver(dovecot, me, ann)
    kept = build_message(_reply_draft(me, ann, None), now=datetime.now(UTC), for_sending=False).message
    dovecot.deliver(me.name, kept, folder="Drafts")  # kept with Esc k by an earlier run
    async with sending_app(dovecot, me, smtp_server, tmp_path) as (app, pilot, store, account):
        screen = app.main_screen
        screen.open_folder(account, "Drafts")
        await until(pilot, lambda: screen.message_list.row_count == 1, "the Drafts folder")
        await pilot.pause()
        await pilot.press("e")
        await _send_resumed(app, pilot, dovecot, me, ann)
