"""The reader shows a bounce's report and the returned message, over a real Maildir account."""

from __future__ import annotations

from tests.ui.real_services import maildir_config, reader_text, running, wait_until
from tests.unit.test_parts_inline import BOUNCE, DIGEST


async def test_the_reader_shows_why_a_message_bounced_and_a_digest_s_messages(tmp_path):
    bounce = BOUNCE.replace(b"Subject: Undelivered", b"Date: Tue, 03 Mar 2026 10:16:00 +0100\r\nSubject: Undelivered")
    config = maildir_config(tmp_path / "Mail", [DIGEST, bounce])  # the bounce is the newer
    async with running(config, tmp_path / "cache.sqlite3", 2, size=(100, 40)) as (app, pilot, store):
        await pilot.press("enter")
        await wait_until(pilot, lambda: "mx.example.org." in reader_text(app)[1], "the bounce in the reader")
        header, body = reader_text(app)
        assert "bob@example.net: not delivered\n  Status: 5.1.1 (permanent failure: no such mailbox)" in body
        assert "Lunch on Friday?\n\nShall we meet at noon?" in body
        assert "Attach:  Lunch on Friday_.eml" in header and "attachment.bin" not in header
        await pilot.press("h", "j")  # back to the list, the next message
        await wait_until(pilot, lambda: "Second post (Bob)" in reader_text(app)[1], "the digest in the reader")
        assert "From: Bob <bob@example.org>\nSubject: Second post\n\nHi all" in reader_text(app)[1]
