"""The list above the reader ("stacked") or beside it ("columns"): chosen by ``ui.layout``, by
the terminal's width when it is "auto", and switched at run time with w."""

from __future__ import annotations

from textual.geometry import Region

from mailbag.ui.app import MailbagApp
from mailbag.ui.widgets.message_list import MessageList
from mailbag.ui.widgets.reader import ReaderBody
from tests.ui.conftest import settle
from tests.ui.helpers import screen_text, status_text


def regions(app: MailbagApp) -> tuple[Region, Region]:
    screen = app.main_screen
    return screen.message_list.region, screen.reader.region


def stacked(app: MailbagApp) -> bool:
    """The list above the reader, both the same width."""
    listed, reader = regions(app)
    return listed.bottom <= reader.y and listed.x == reader.x and listed.width == reader.width


def side_by_side(app: MailbagApp) -> bool:
    """The list beside the reader, both the full height of the panes."""
    listed, reader = regions(app)
    return listed.right <= reader.x and listed.y == reader.y and listed.height == reader.height


def lines_of(app: MailbagApp, *texts: str) -> list[int]:
    """The screen row each text is on."""
    rows = screen_text(app).splitlines()
    return [next(n for n, row in enumerate(rows) if text in row) for text in texts]


async def test_stacked_at_80x24_shows_the_list_above_the_reader(make_app):
    app = make_app(layout="stacked")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert stacked(app)
        listed, subject, body = lines_of(app, "Welcome to the team", "Subject: Quarterly report", "Numbers look good")
        assert listed < subject < body  # every row of the list, then the header and the text
        assert lines_of(app, "Your account is ready")[0] < subject


async def test_auto_follows_the_terminal_width(make_app):
    app = make_app()  # layout = "auto"
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert stacked(app)
        await pilot.resize_terminal(170, 40)
        await settle(pilot)
        assert side_by_side(app)
        subject, body = lines_of(app, "Subject: Quarterly report", "Numbers look good")
        assert lines_of(app, "Quarterly report")[0] == 0 and subject < body
        await pilot.resize_terminal(100, 30)
        await settle(pilot)
        assert stacked(app)


async def test_w_switches_the_layout_for_the_session_and_keeps_the_focus(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        assert side_by_side(app) and "Layout: the list beside the reader" in status_text(app)
        assert isinstance(app.focused, MessageList)
        await pilot.resize_terminal(82, 24)  # no longer "auto": a resize keeps the choice
        await settle(pilot)
        assert side_by_side(app)
        await pilot.press("w")
        await settle(pilot)
        assert stacked(app) and "Layout: the list above the reader" in status_text(app)
    app = make_app(layout="stacked")
    async with app.run_test(size=(200, 50)) as pilot:  # wide, but stacked as configured
        await settle(pilot)
        assert stacked(app)
        await pilot.press("w")
        await settle(pilot)
        assert side_by_side(app)


async def test_q_in_the_full_screen_reader_closes_it_in_either_layout(make_app):
    for layout in ("stacked", "columns"):
        app = make_app(layout=layout)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("v")
            await settle(pilot)
            assert "▼ work" not in screen_text(app) and isinstance(app.focused, ReaderBody)
            assert app.main_screen.reader.region.width == 80
            await pilot.press("q")
            await settle(pilot)
            assert app.is_running, layout
            assert "▼ work" in screen_text(app) and isinstance(app.focused, MessageList)
            assert stacked(app) if layout == "stacked" else side_by_side(app)


async def test_the_reader_with_the_keys_tints_its_header(make_app):
    """At 80x24 the list's cursor only dims when the reader has the keys: its header shows it."""
    app = make_app(layout="stacked")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        header = app.main_screen.reader.header

        def colour_at_header() -> str:
            return str(list(header.render_line(0))[0].style.bgcolor)

        await pilot.press("enter")  # the message, in the reader
        await settle(pilot)
        assert isinstance(app.focused, ReaderBody)
        tinted = colour_at_header()
        await pilot.press("escape")  # back to the list
        await settle(pilot)
        assert isinstance(app.focused, MessageList)
        assert colour_at_header() != tinted
        await pilot.press("tab")  # the reader again, by Tab
        await settle(pilot)
        assert isinstance(app.focused, ReaderBody) and colour_at_header() == tinted
