"""Big and tricky messages in the reader, over the real services on a Maildir: every attachment of
a message of 10,000 parts, the Outlook Express message split, and the limits the reading hit."""

from __future__ import annotations

from tests.messages import deep_nesting, many_parts, path
from tests.ui.helpers import screen_text
from tests.ui.real_services import maildir_config, reader_text, running, wait_until


async def test_ten_thousand_attachments_are_all_listed_and_a_limit_is_said(tmp_path):
    inbox = [deep_nesting(100), path("outlook-express.eml").read_bytes(), many_parts(10_000)]
    config = maildir_config(tmp_path / "Mail", inbox)
    async with running(config, tmp_path / "cache.sqlite3", 3, size=(100, 40)) as (app, pilot, store):
        await pilot.press("g", "enter")
        await wait_until(pilot, lambda: "Attach:" in reader_text(app)[0], "the message of 10,000 parts")
        header, body = reader_text(app)
        assert "Attach:  scan-00000.pdf (12 B)," in header and "+9" in header and "more" in header
        assert body.startswith("The scans are attached.")
        await pilot.press("H", "end")  # every header in full above the body: the last attachment
        await wait_until(pilot, lambda: "scan-09999.pdf (12 B)" in screen_text(app), "the last attachment")
        assert "The scans are attached." in screen_text(app)
        await pilot.press("H", "h", "j", "enter")
        await wait_until(pilot, lambda: "Note:" in reader_text(app)[0], "the deeply nested message")
        assert "Note:    Parts nested deeper than 64 levels are not read." in reader_text(app)[0]
        await pilot.press("h", "j", "enter")
        await wait_until(pilot, lambda: "Attach:  report" in reader_text(app)[0], "the Outlook Express message")
        header, body = reader_text(app)
        assert "Attach:  report Q1.pdf (520 B)" in header
        assert body.startswith("Hello Bob,\n\nthe report is attached. Café at ten?") and "NextPart" not in body
