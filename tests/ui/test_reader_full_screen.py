"""The reader can take the whole screen: v (or Enter on the message shown) gives it the screen,
q, Esc or v give the panes back, and q there closes the reader, not mailbag."""

from __future__ import annotations

from textual.pilot import Pilot

from mailbag.ui.app import MailbagApp
from mailbag.ui.widgets.message_list import MessageList
from mailbag.ui.widgets.reader import ReaderBody
from tests.ui.conftest import settle
from tests.ui.helpers import screen_text
from tests.ui.sample import reply_facade



async def full_screen(pilot: Pilot, *keys: str) -> None:
    await settle(pilot)
    await pilot.press(*keys)
    await settle(pilot)


async def test_v_gives_the_reader_the_whole_screen_and_q_closes_it_not_the_app(make_app):
    app = make_app(reply_facade)
    async with app.run_test(size=(80, 24)) as pilot:
        await full_screen(pilot, "v")
        text = screen_text(app)
        assert text.lstrip().startswith("From:")
        assert "Subject: Re: Release plan" in text and "▼ work" not in text
        assert "Monday is fine with me." in text  # 14 more rows of the body than beside the panes
        assert isinstance(app.focused, ReaderBody)
        await pilot.press("q")
        await settle(pilot)
        assert app.is_running and "▼ work" in screen_text(app)
        assert isinstance(app.focused, MessageList)
        await pilot.press("enter", "enter")  # Enter on the message shown: the whole screen
        await settle(pilot)
        assert "▼ work" not in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert "▼ work" in screen_text(app) and isinstance(app.focused, MessageList)
        await pilot.press("q")  # beside the panes q quits, as always
        await pilot.pause()
        assert not app.is_running


async def test_the_full_screen_key_can_be_rebound_and_is_in_help(make_app):
    app = make_app(reply_facade, keymap={"full_screen": "x", "close_reader": "ctrl+w"})
    async with app.run_test(size=(80, 24)) as pilot:
        await full_screen(pilot, "x")
        assert "▼ work" not in screen_text(app)
        await pilot.press("q")  # q is free again: it quits
        await pilot.pause()
        assert not app.is_running
    app = make_app(reply_facade)
    async with app.run_test(size=(80, 24)) as pilot:
        await full_screen(pilot, "question_mark")
        await pilot.press("i")  # the [keymap] ids
        await pilot.pause()
        help_text = str(app.screen.query_one("#help-text").render())
        assert "full_screen" in help_text and "close_reader" in help_text
