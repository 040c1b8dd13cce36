"""Themes: loading the TOML files, choosing one, and a clear error for an unknown name."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.color import Color, ColorSystem
from rich.style import Style

from mailbag.ui.themes import choose_theme, default_themes_dir, load_theme, load_themes
from tests.ui.conftest import settle
from tests.ui.helpers import list_line


def test_dark_and_light_themes_load_with_semantic_variables():
    themes = load_themes()
    assert {"mailbag-dark", "mailbag-light"} <= set(themes)
    assert themes["mailbag-dark"].dark and not themes["mailbag-light"].dark
    for theme in themes.values():
        for name in ("unread", "flagged", "selected", "marked", "quote-1", "quote-2", "quote-3", "signature",
                     "status-ok", "status-error"):
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


def _contrast(a: Color, b: Color) -> float:
    """WCAG contrast ratio of two colours as the terminal paints them."""

    def luminance(colour: Color) -> float:
        def channel(value: int) -> float:
            c = value / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        red, green, blue = colour.get_truecolor()
        return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)

    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("name", sorted(load_themes()))
def test_quote_levels_and_signature_are_dimmer_than_the_text_distinct_and_readable(name: str):
    theme = load_themes()[name]
    background = Color.parse(theme.surface or "")
    text = Color.parse(theme.foreground or "")
    quotes = [Color.parse(theme.variables[f"mailbag-quote-{level}"]) for level in (1, 2, 3)]
    signature = Color.parse(theme.variables["mailbag-signature"])
    for colour in (*quotes, signature):
        assert 4.5 <= _contrast(colour, background) < _contrast(text, background)
    for system in (ColorSystem.EIGHT_BIT, ColorSystem.STANDARD):  # 256 and 16 colours
        shown = [colour.downgrade(system) for colour in quotes]
        ground = background.downgrade(system)
        assert len({colour.number for colour in shown}) == 3, system
        assert ground.number not in {colour.number for colour in shown}
        for colour in shown:
            assert _contrast(colour, ground) >= 3, (system, colour)


def _in_16_colours(style: Style) -> tuple[int | None, int | None]:
    """(text, background) of a row's style as a 16-colour terminal shows them."""
    shown = [c.downgrade(ColorSystem.STANDARD).number if c else None for c in (style.color, style.bgcolor)]
    return shown[0], shown[1]


@pytest.mark.parametrize("name", ["mailbag-dark", "mailbag-light"])
async def test_in_16_colours_the_cursor_marked_unread_and_read_rows_all_differ(make_app, name: str):
    app = make_app(theme=name)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j", "j", "j", "j", "space")  # marks row 4; the cursor goes on to row 5
        await pilot.pause()
        rows = {"unread": 0, "read": 2, "marked": 4, "cursor": 5}
        assert [list_line(app, 0)[0][1], list_line(app, 2)[0][1]] == ["N", " "]  # row 0 unread, row 2 read
        looks = {what: _in_16_colours(list_line(app, index)[1]) for what, index in rows.items()}
        assert len(set(looks.values())) == 4, looks
        assert looks["unread"][0] != looks["read"][0], looks  # unread text differs by colour, not only bold
        assert len({looks["read"][1], looks["marked"][1], looks["cursor"][1]}) == 3, looks
