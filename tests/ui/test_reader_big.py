"""The reader with a body far larger than the screen: a single 5 MB line is read to its end
with PageDown and End, the pages meet without a gap, and selected text copies as it was sent."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from textual.geometry import Offset
from textual.selection import Selection

from mailbag.domain.events import EventSink
from mailbag.domain.models import Folder, FolderRole
from mailbag.ui.app import MailbagApp
from tests.ui.conftest import open_message, settle
from tests.ui.fake_facade import NOW, FakeFacade

WORDS = " ".join(f"w{i:06d}" for i in range(700_000))  # one line of 5.6 MB
END = "and that is the very end."
LINE = WORDS + " " + END


def one_line_facade(sink: EventSink) -> FakeFacade:
    facade = FakeFacade(sink)
    facade.add_folder(Folder("work", "INBOX", "/", FolderRole.INBOX, total=1, unread=0))
    facade.add_message("work", "INBOX", row_id=1, subject="Huge", date=NOW, body=LINE + "\n")
    return facade


def page(app: MailbagApp) -> list[str]:
    body = app.main_screen.reader.body
    return [strip.text.strip() for strip in (body.render_line(y) for y in range(body.scrollable_content_region.height))]


async def test_a_5_mb_line_reads_to_its_end_page_by_page(make_app):
    app = make_app(one_line_facade)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_message(pilot)
        first = page(app)
        assert first[0].startswith("w000000 w000001")
        await pilot.press("pagedown")
        second = page(app)
        assert " ".join(first + second) in LINE  # the second page goes on where the first ended
        await pilot.press("end")
        last = page(app)
        assert last[-1].endswith(END) or END in " ".join(last)
        await pilot.press("pageup")
        before = page(app)
        assert " ".join(before + last).rstrip() in LINE  # up from the end: the page just before it
        await pilot.press("home")
        assert page(app) == first


async def test_selected_text_of_a_wrapped_line_copies_as_one_line(make_app):
    app = make_app(one_line_facade)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_message(pilot)
        body = app.main_screen.reader.body
        rows = page(app)
        app.screen.selections = {body: Selection(Offset(0, 0), Offset(len(rows[2]), 2))}
        await pilot.pause()
        assert app.screen.get_selected_text() == " ".join(rows[:3])


async def test_a_body_of_many_lines_and_its_source_are_made_ready_off_the_ui_thread(make_app, monkeypatch):
    """Grouping a long body into blocks takes a good part of a second: it is done in the thread
    worker that reads the message, never on the UI's thread, which only paints."""
    from mailbag.ui import wrapped_text

    grouped_on_ui: list[int] = []
    make_blocks = wrapped_text.make_blocks

    def watched(lines: Sequence[str]) -> list[wrapped_text.Block]:
        if threading.current_thread() is threading.main_thread():
            grouped_on_ui.append(len(lines))
        return make_blocks(lines)

    monkeypatch.setattr(wrapped_text, "make_blocks", watched)
    text = "".join(f"line {i}\n" for i in range(100_000)) + END

    def many_lines(sink: EventSink) -> FakeFacade:
        facade = FakeFacade(sink)
        facade.add_folder(Folder("work", "INBOX", "/", FolderRole.INBOX, total=1, unread=0))
        facade.add_message("work", "INBOX", row_id=1, subject="Long", date=NOW, body=text)
        return facade

    app = make_app(many_lines)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_message(pilot)
        assert page(app)[0] == "line 0"
        await pilot.press("end")
        assert page(app)[-1] == END
        await pilot.press("U")  # the source in the body's place
        await settle(pilot)
        assert app.main_screen.reader.source_shown and "line 99999" in app.main_screen.reader.body.text
        assert not [count for count in grouped_on_ui if count > 1_000]
