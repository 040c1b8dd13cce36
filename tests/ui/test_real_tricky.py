"""Big and tricky messages in the reader, over the real services on a Maildir: every attachment of
a message of 10,000 parts, the Outlook Express message split, the limits the reading hit, and
a message too slow to read whole."""

from __future__ import annotations

import pytest

from mailbag.domain import deadline
from mailbag.domain.deadline import Deadline
from mailbag.domain.models import RenderedMessage
from mailbag.services.mail import MailService
from tests.messages import deep_nesting, many_parts, path, slow_to_read
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


async def test_a_message_too_slow_to_read_shows_what_was_read_and_says_so(tmp_path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(deadline, "READING_SECONDS", 0.3)  # for the whole message: its parts, the attached one
    later = b"From: ann@example.org\r\nSubject: Later\r\nDate: Sun, 6 Dec 2026 10:00:00 +0000\r\n\r\nA quick one.\r\n"
    config = maildir_config(tmp_path / "Mail", [slow_to_read(), later])
    async with running(config, tmp_path / "cache.sqlite3", 2, size=(100, 40)) as (app, pilot, store):
        await pilot.press("G", "enter")  # the oldest: the slow one
        await wait_until(pilot, lambda: "Note:" in reader_text(app)[0], "the slow message, cut short")
        header, body = reader_text(app)
        assert "Note:    Reading this message took over 0.3 s: the rest is not shown." in header
        assert body.startswith("Start of the message.\n\nc0 | c1 | c2 | ")
        assert "Attached message" not in body and "c299999" not in body
        await pilot.press("h", "k", "enter")
        await wait_until(pilot, lambda: reader_text(app)[1].startswith("A quick one."), "the next message")
        assert "Note:" not in reader_text(app)[0]


async def test_a_slow_message_left_for_another_stops_being_read(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """Moving on from a message still being read stops its reading at once, so that it does not
    hold the interpreter (and the quit) for the rest of its five seconds."""
    readings: list[tuple[str, bool]] = []  # (subject, stopped because another message was wanted)
    rendered = MailService.rendered

    def watched(self: MailService, account: str, folder: str, uid: int, deadline: Deadline | None = None) -> RenderedMessage | None:
        message = rendered(self, account, folder, uid, deadline)
        if message is not None:
            readings.append((message.subject, deadline is not None and deadline.cancelled))
        return message

    monkeypatch.setattr(MailService, "rendered", watched)
    later = b"From: ann@example.org\r\nSubject: Later\r\nDate: Sun, 6 Dec 2026 10:00:00 +0000\r\n\r\nA quick one.\r\n"
    config = maildir_config(tmp_path / "Mail", [slow_to_read(cells=1_000_000), later])
    async with running(config, tmp_path / "cache.sqlite3", 2, size=(100, 40)) as (app, pilot, store):
        await pilot.press("G", "enter")  # the slow one, read for the reader...
        await wait_until(pilot, lambda: app.main_screen._reading is not None, "the slow message being read")
        await pilot.press("h", "k", "enter")  # ...left at once for the newer one
        await wait_until(pilot, lambda: reader_text(app)[1].startswith("A quick one."), "the next message")
        await wait_until(pilot, lambda: any(subject == "Slow" for subject, _ in readings), "the slow reading over")
        assert ("Slow", True) in readings and ("Slow", False) not in readings  # stopped, not read to its limit
        assert "Note:" not in reader_text(app)[0]
