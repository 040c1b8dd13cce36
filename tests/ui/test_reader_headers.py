"""The reader's header block folds to fit: 22 recipients or 300 attachments take one row each
with "+N more", so Subject and Date stay in view; H shows them all, and folds them again."""

from __future__ import annotations

from mailbag.ui.app import MailbagApp
from tests.ui.conftest import open_message, settle
from tests.ui.helpers import screen_text
from tests.ui.sample import CROWDED_SUBJECT as SUBJECT
from tests.ui.sample import crowded_facade


def header(app: MailbagApp) -> list[str]:
    return str(app.main_screen.reader.header.render()).split("\n")


async def test_many_recipients_and_attachments_keep_subject_and_date_in_view(make_app):
    app = make_app(crowded_facade)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_message(pilot)
        screen = screen_text(app)
        assert f"Subject: {SUBJECT}" in screen and "Date:    Sun, 15 Mar 2026" in screen
        assert "See the scans." in screen
        rows = header(app)
        to = next(row for row in rows if row.startswith("To:"))
        assert to.startswith("To:      Member 0 <member0@example.org>, ") and to.endswith(" more")
        shown = to.count("@")
        assert to.endswith(f", +{22 - shown} more") and len(to) <= 78
        attach = next(row for row in rows if row.startswith("Attach:"))
        # 20,000 bytes: 19 KB, as the attachments list (A) gives it
        assert attach.startswith("Attach:  scan-000.pdf (19 KB), ") and attach.endswith(f", +{300 - attach.count('.pdf')} more")
        assert next(row for row in rows if row.startswith("Cc:")).endswith(" more")
        await pilot.press("H")  # every header in full, above the body, where the keys scroll them
        await settle(pilot)
        assert header(app) == rows
        full = app.main_screen.reader.body
        assert [strip.text.strip() for strip in (full.render_line(0), full.render_line(1))] == [
            "From:    Ann Example <ann@example.org>", "To:      Member 0 <member0@example.org>, Member 1"]
        await pilot.press("end")
        screen = screen_text(app)
        assert "scan-299.pdf (19 KB)" in screen and "See the scans." in screen
        await pilot.press("H")
        await settle(pilot)
        assert "member21@example.org" not in screen_text(app) and "See the scans." in screen_text(app)


RAW = (b"Received: from mx.example.org\r\nFrom: Ann Example <ann@example.org>\r\n"
       b"Subject: =?utf-8?q?Minutes?=\r\nX-Title: \x1b]0;owned\x07\xe9t\xe9 \xe2\x80\xae evil\r\n"
       b"Content-Type: text/plain\r\n\r\nSee the scans.\r\n")


async def test_u_shows_the_source_read_only_and_sanitised_and_again_the_body(make_app):
    app = make_app(crowded_facade)
    app.facade.raw[("work", "INBOX", 1)] = RAW
    async with app.run_test(size=(80, 24)) as pilot:
        await open_message(pilot)
        await pilot.press("v", "U")
        await settle(pilot)
        body = app.main_screen.reader.body
        screen = screen_text(app)
        assert "Received: from mx.example.org" in screen and "Subject: =?utf-8?q?Minutes?=" in screen
        assert "X-Title: \ufffdt\ufffd" in body.text  # bytes that are not UTF-8 are shown as such
        assert "\x1b" not in body.text and "\x07" not in body.text and "\u202e" not in body.text
        assert header(app)[0].startswith("From:")  # the folded header stays above
        await pilot.press("U")
        await settle(pilot)
        assert body.text == "See the scans.\n" and "Received:" not in screen_text(app)
