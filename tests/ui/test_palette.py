"""The command palette: every action once, and the themes the config accepts."""

from __future__ import annotations

from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import OptionList

from mailbag.ui.app import MailbagApp
from mailbag.ui.themes import load_themes
from tests.ui.conftest import settle


def palette_choices(app: MailbagApp) -> list[str]:
    """The palette's choices as painted, one per option (its first line)."""
    assert isinstance(app.screen, CommandPalette)
    options = app.screen.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt).split("\n")[0].strip() for i in range(options.option_count)]


async def open_palette(pilot: Pilot, app: MailbagApp, typed: str) -> list[str]:
    await pilot.press("ctrl+p", *typed)
    await settle(pilot)
    return palette_choices(app)


async def test_quit_is_in_the_palette_once(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        choices = await open_palette(pilot, app, "quit")
        assert [c for c in choices if c.lower().startswith("quit")] == ["Quit"]


async def test_the_palette_offers_the_themes_the_config_accepts(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_palette(pilot, app, "theme")
        await pilot.press("enter")
        await settle(pilot)
        assert sorted(palette_choices(app)) == sorted(load_themes())
        await pilot.press("escape")
