"""A message with 10,000 attachments or 50,000 recipients: the attachments list makes only the
rows it shows, and H lays every header out in a thread worker, so the keys are not held up."""

from __future__ import annotations

import threading

import pytest

from mailbag.domain.models import Attachment, RenderedMessage
from mailbag.ui.screens import attachments
from mailbag.ui.screens.attachments import AttachmentsScreen
from mailbag.ui.widgets import reader
from rich.text import Text
from tests.ui.conftest import settle
from tests.ui.helpers import screen_text
from tests.ui.sample import huge_facade


async def test_ten_thousand_attachments_are_listed_a_screenful_at_a_time(
    make_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []
    line = attachments.attachment_line

    def counted(attachment: Attachment) -> Text:
        made.append(attachment.filename)
        return line(attachment)

    monkeypatch.setattr(attachments, "attachment_line", counted)
    app = make_app(huge_facade)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j", "A")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AttachmentsScreen)
        text = screen_text(app)
        assert "10000 attachments" in text and "file-00000.bin  application/octet-stream  100 B" in text
        assert len(made) <= 24  # the rows on screen, not 10,000
        await pilot.press("G")
        await settle(pilot)
        assert "file-09999.bin" in screen_text(app) and "file-00000.bin" not in screen_text(app)
        assert screen.current is not None and screen.current.filename == "file-09999.bin"
        await pilot.press("k", "pageup")
        assert screen.current is not None and screen.current.filename < "file-09998.bin"
        assert len(made) <= 48


async def test_every_header_of_fifty_thousand_recipients_is_laid_out_off_the_ui_thread(
    make_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_ui_thread: list[bool] = []
    text_of = reader.header_text

    def watched(message: RenderedMessage, width: int | None = None, label_style: str = "bold") -> Text:
        if width is None:  # every header in full, not the folded block
            on_ui_thread.append(threading.current_thread() is threading.main_thread())
        return text_of(message, width, label_style)

    monkeypatch.setattr(reader, "header_text", watched)
    app = make_app(huge_facade)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        body = app.main_screen.reader.body
        assert "Hello all." in body.text
        await pilot.press("enter", "H")
        await settle(pilot)
        assert body.render_line(0).text.startswith("From:")
        assert body.render_line(1).text.startswith("To:      Person 0 <p0@example.org>, Person 1")
        await pilot.press("end")  # the last of the recipients, above the body
        await settle(pilot)
        assert "Person 49999 <p49999@example.org>" in screen_text(app)
        await pilot.press("h", "j")  # to the message with 10,000 attachments: its headers in full too
        await pilot.press("enter", "end")
        await settle(pilot)
        assert "file-09999.bin (100 B)" in screen_text(app)
        await pilot.press("H")
        await settle(pilot)
        assert body.text.startswith("All of them.")
    assert on_ui_thread and not any(on_ui_thread)
