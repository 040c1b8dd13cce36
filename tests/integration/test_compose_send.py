"""End to end: in the app over the real services, reply to a message with an attachment added and
the body written in the user's editor, send it, and find it in the recipient's INBOX on Dovecot
(through the private SMTP server) and in the sender's Sent folder."""

from __future__ import annotations

import os
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

from mailbag.services.mail import MailService
from mailbag.store.store import Store
from mailbag.ui.app import MailbagApp
from mailbag.ui.screens.compose import ComposeScreen
from tests.integration.outbox_fixtures import FAST, config_of, mailbox, parsed, sending_account, until
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import SmtpServer
from tests.ui.fields import put_text

pytestmark = pytest.mark.dovecot

EDITOR = """\
import sys
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
open(path, "w", encoding="utf-8").write("Thanks, the numbers are fine.\\n" + text)
"""


async def test_reply_with_editor_and_attachment_arrives_and_is_kept_in_sent(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, ann = dovecot.add_user(), dovecot.add_user()
    original = EmailMessage()
    original["From"] = f"Ann Example <{ann.email}>"
    original["To"] = me.email
    original["Subject"] = "Quarterly report"
    original["Message-ID"] = "<report-1@example.test>"
    original["Date"] = "Thu, 03 Dec 2026 09:30:00 +0000"
    original.set_content("Here are the numbers.\n")
    original.add_attachment(b"%PDF-1.4 q1", maintype="application", subtype="pdf", filename="q1.pdf")
    dovecot.deliver(me.name, original.as_bytes().replace(b"\n", b"\r\n"))
    blob = os.urandom(200_000) + b"\r\n.\r\n"
    (tmp_path / "figures.bin").write_bytes(blob)
    script = tmp_path / "editor.py"
    script.write_text(EDITOR)

    config = config_of(sending_account(dovecot, me, smtp_server))
    store = Store.open(tmp_path / "cache.sqlite3")
    app = MailbagApp(
        lambda sink: MailService(config, store, sink, outbox_timings=FAST),
        editor=f"{sys.executable} {script}",
    )
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.main_screen
        await until(pilot, lambda: screen.message_list.current_row is not None, "the message listed")
        await pilot.press("r")  # its body is not cached yet: fetched first
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen), "the compose screen")
        await pilot.pause()
        await pilot.press("ctrl+o")
        await pilot.press("ctrl+t")
        await put_text(pilot, str(tmp_path / "figures.bin"))
        await pilot.press("enter")
        compose = app.screen
        assert isinstance(compose, ComposeScreen)
        await until(pilot, lambda: len(compose.draft.attachments) == 1, "the file attached")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, ComposeScreen), "the message queued")
        await until(pilot, lambda: len(mailbox(dovecot, ann)) == 1, "delivery to the recipient")
        await until(pilot, lambda: len(mailbox(dovecot, me, "Sent")) == 1, "the copy in Sent")

    store.close()
    got = parsed(mailbox(dovecot, ann)[0])
    assert got["Subject"] == "Re: Quarterly report"
    assert got["To"] == f"Ann Example <{ann.email}>"
    assert got["In-Reply-To"] == "<report-1@example.test>"
    text = got.get_body(("plain",))
    assert text is not None
    content = text.get_content().replace("\r\n", "\n")
    assert content.startswith("Thanks, the numbers are fine.\nOn Thu, 3 Dec 2026 at 09:30, Ann Example wrote:\n")
    assert "> Here are the numbers." in content
    [part] = list(got.iter_attachments())
    assert part.get_filename() == "figures.bin" and part.get_payload(decode=True) == blob
    assert parsed(mailbox(dovecot, me, "Sent")[0])["Message-ID"] == got["Message-ID"]
    assert list((tmp_path / "drafts").glob("*.json")) == []  # nothing left as a draft
