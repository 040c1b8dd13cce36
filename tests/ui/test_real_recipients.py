"""Rows of the user's own mail show whom it went to, as mutt's %F does: in Sent and Drafts, and
for a message from one of the user's addresses in any folder."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path

from mailbag.ui.app import MailbagApp
from tests.ui.helpers import list_line
from tests.ui.real_services import maildir_config, running, simple_message, wait_until


def _mine(n: int, to: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Me <ME@example.test>"
    msg["To"] = to
    msg["Subject"] = f"Mine {n}"
    msg["Message-ID"] = f"<mine{n}@example.test>"
    msg.set_content("text\n")
    return msg.as_bytes()


def _lines(app: MailbagApp, count: int) -> list[str]:
    return [list_line(app, i)[0] for i in range(count)]


async def test_sent_and_drafts_show_the_recipients_and_so_does_own_mail_elsewhere(tmp_path: Path) -> None:
    inbox = [simple_message(1, subject="From Alice"), _mine(2, "Dave <dave@example.test>")]
    more: dict[str, Sequence[bytes]] = {
        "Sent": [_mine(3, "Bob <bob@example.test>, Carol <carol@example.test>")],
        "Drafts": [_mine(4, "erin@example.test")],
        "Archive": [simple_message(5, subject="Filed", sender="Fay <fay@example.test>")],
    }
    config = maildir_config(tmp_path / "Mail", inbox, more=more)
    async with running(config, tmp_path / "cache.sqlite3", 2) as (app, pilot, _store):
        screen = app.main_screen
        lines = _lines(app, 2)
        assert any("Alice" in line and "From Alice" in line for line in lines)
        assert any("To: Dave" in line and "Mine 2" in line for line in lines)  # From me, in the Inbox
        for folder, shown in (("Sent", "To: Bob, Carol"), ("Drafts", "To: erin@"), ("Archive", "Fay")):
            screen.open_folder("home", folder)
            await wait_until(pilot, lambda: screen.message_list.row_count == 1, f"{folder} shown")
            await pilot.pause()
            line = list_line(app, 0)[0]
            assert shown in line, (folder, line)
            assert "Me" not in line.split("Mine")[0], (folder, line)
