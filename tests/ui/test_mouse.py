"""The mouse in the message list: a click puts the cursor on a row, a double click opens it, and a
click takes its turn after the keys typed before it."""

from __future__ import annotations

from textual import events

from mailbag.ui.app import MailbagApp
from mailbag.ui.widgets.message_list import MessageList
from tests.ui.conftest import settle
from tests.ui.helpers import cursor_subject, list_line
from tests.ui.real_services import reader_text


def _button(app: MailbagApp, kind: type[events.MouseDown] | type[events.MouseUp], row: int) -> None:
    """A mouse button pressed or released over ``row`` of the list, as the terminal reports it."""
    region = app.main_screen.message_list.region
    x, y = region.x + 20, region.y + row
    event = kind(None, x, y, 0, 0, 1, False, False, False, screen_x=x, screen_y=y)
    event.set_sender(app)
    app.post_message(event)


async def test_a_click_selects_a_row_and_a_double_click_opens_it(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        listing = app.main_screen.message_list
        await pilot.press("h")  # the focus in the folder tree: the click brings it back
        await pilot.click(MessageList, offset=(20, 2))
        await settle(pilot)
        assert listing.cursor == 2 and listing.has_focus
        assert cursor_subject(app) == "Re: Build is green again"
        assert "Re: Build is green again" in reader_text(app)[0]
        assert list_line(app, 3)[0][1] == "N"  # unread
        await pilot.double_click(MessageList, offset=(20, 3))
        await settle(pilot)
        assert cursor_subject(app).startswith("Größenänderung")
        assert app.main_screen.reader.body.has_focus  # opened, as Enter opens it
        assert list_line(app, 3)[0][1] == " "  # and so marked read


async def test_a_click_after_a_burst_of_keys_acts_after_them(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        listing = app.main_screen.message_list
        for key in ("j", "j", "j", "j"):
            event = events.Key(key, key)
            event.set_sender(app)
            app.post_message(event)
        _button(app, events.MouseDown, 1)
        _button(app, events.MouseUp, 1)
        await settle(pilot)
        assert listing.cursor == 1  # the keys moved first, then the click chose row 1
        assert cursor_subject(app) == "Lunch on Thursday?"
