"""Themes: loading the TOML files, choosing one, and a clear error for an unknown name."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailbag.ui.themes import choose_theme, default_themes_dir, load_theme, load_themes
from tests.ui.conftest import settle


def test_dark_and_light_themes_load_with_semantic_variables():
    themes = load_themes()
    assert {"mailbag-dark", "mailbag-light"} <= set(themes)
    assert themes["mailbag-dark"].dark and not themes["mailbag-light"].dark
    for theme in themes.values():
        for name in ("unread", "flagged", "selected", "marked", "quote-1", "status-ok", "status-error"):
            assert f"mailbag-{name}" in theme.variables
    assert default_themes_dir().name == "themes"


def test_unknown_theme_names_the_available_ones(make_app):
    with pytest.raises(ValueError, match="mailbag-dark.*mailbag-light"):
        choose_theme("solarized-neon", load_themes())
    with pytest.raises(ValueError, match="unknown theme 'nope'"):
        make_app(theme="nope")


def test_malformed_theme_file_is_named(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = 'bad'\n[colors]\nprimry = '#fff'\n")
    with pytest.raises(ValueError, match="bad.toml"):
        load_theme(bad)


async def test_switching_themes_keeps_working(make_app):
    app = make_app(theme="mailbag-light")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.theme == "mailbag-light"
        app.theme = "mailbag-dark"  # as the palette's theme list does
        await settle(pilot)
        await pilot.press("j")
        assert app.main_screen.message_list.cursor == 1
