"""Snapshot tests of the screens at 80x24 and 120x40 (frozen clock, no cursor blink).

Regenerate with ``pytest --snapshot-update tests/ui`` and look at the SVGs before committing.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from mailbag.ui.app import MailbagApp
from tests.ui.conftest import settle
from tests.ui.fake_facade import NOW
from tests.ui.sample import crowded_facade, reply_facade, sample_facade, threaded_facade
from tests.ui.sixteen_colours import SixteenColourApp


async def _message_in_reader(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("j")
    await settle(pilot)


async def _help_open(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("question_mark")
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_main_screen(snap_compare, make_app, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=_message_in_reader)


def test_main_screen_with_the_list_beside_the_reader(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(160, 40), run_before=_message_in_reader)


def test_main_screen_reading(snap_compare, make_app):
    async def read(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=read)


def test_main_screen_light_theme(snap_compare, make_app):
    assert snap_compare(make_app(theme="mailbag-light"), terminal_size=(80, 24), run_before=_message_in_reader)


def test_reader_quote_levels_and_signature(snap_compare, make_app):
    assert snap_compare(make_app(reply_facade), terminal_size=(80, 24), run_before=_message_in_reader)


def test_reader_quotes_folded(snap_compare, make_app):
    async def folded(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("enter", "z")
        await settle(pilot)

    assert snap_compare(make_app(reply_facade), terminal_size=(80, 24), run_before=folded)


def test_reader_full_screen_with_a_folded_header(snap_compare, make_app):
    async def full_screen(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)

    assert snap_compare(make_app(crowded_facade), terminal_size=(80, 24), run_before=full_screen)


def test_help_screen(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_help_open)


def test_help_screen_wide(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=_help_open)


def test_thread_view_with_marks(snap_compare, make_app):
    async def threads(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("T")
        await settle(pilot)
        await pilot.press("space", "space")
        await settle(pilot)

    assert snap_compare(make_app(threaded_facade), terminal_size=(80, 24), run_before=threads)


def test_folder_picker(snap_compare, make_app):
    async def picker(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("m")
        await pilot.pause()
        await pilot.press("a", "r")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=picker)


def test_search_open(snap_compare, make_app):
    async def search(pilot: Pilot) -> None:
        await settle(pilot)
        app = pilot.app
        assert isinstance(app, MailbagApp)
        await pilot.press("slash", *"is:unread")
        await settle(pilot)
        # On a busy machine the debounced search and the reader may still be on their way.
        for _ in range(100):
            header = str(app.main_screen.reader.header.render())
            if app.main_screen.message_list.row_count == 2 and "Quarterly report" in header:
                break
            await pilot.pause(0.05)
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=search)


def test_attachments_list(snap_compare, make_app):
    async def listed(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)

    assert snap_compare(make_app(crowded_facade), terminal_size=(80, 24), run_before=listed)


@pytest.mark.parametrize("theme", ["mailbag-dark", "mailbag-light"])
def test_the_list_in_16_colours(snap_compare, theme):
    """In 16 colours an unread row, a read one, a marked one and the cursor all look different."""

    async def marked(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("j", "j", "j", "j", "space")
        await settle(pilot)

    app = SixteenColourApp(sample_facade, now=lambda: NOW, theme=theme)
    assert snap_compare(app, terminal_size=(80, 24), run_before=marked)
