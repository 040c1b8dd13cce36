"""The reader with replies: quote levels and the signature in the theme's colours, a key that
skips past quoted text and one that folds it away."""

from __future__ import annotations

import pytest
from rich.color import Color
from textual.pilot import Pilot

from mailbag.ui.app import MailbagApp
from tests.ui.conftest import settle
from tests.ui.helpers import status_text
from tests.ui.sample import reply_facade


def body_rows(app: MailbagApp) -> list[tuple[str, Color | None]]:
    """The reader's body as painted: each row's text and the colour of its first letter."""
    body = app.main_screen.reader.body
    rows = []
    for y in range(body.scrollable_content_region.height):
        segments = [s for s in body.render_line(y) if s.text.strip()]
        text = "".join(s.text for s in body.render_line(y)).strip()
        rows.append((text, segments[0].style.color if segments and segments[0].style else None))
    return rows


def body_text(app: MailbagApp) -> list[str]:
    return [text for text, _ in body_rows(app)]


def theme_colour(app: MailbagApp, variable: str) -> Color:
    return Color.parse(app.theme_variables[f"mailbag-{variable}"])


async def open_reply(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


@pytest.mark.parametrize(
    ("theme", "switch_to"), [("mailbag-dark", None), ("mailbag-light", None), ("mailbag-light", "mailbag-dark")]
)
async def test_quote_levels_attributions_and_the_signature_take_the_themes_colours(make_app, theme, switch_to):
    app = make_app(reply_facade, theme=theme)
    async with app.run_test(size=(100, 50)) as pilot:
        await open_reply(pilot)
        if switch_to:
            body_rows(app)  # painted in one theme, then in the other (as the palette switches)
            app.theme = switch_to
            await settle(pilot)
        colours = {text: colour for text, colour in body_rows(app) if text}
        quote_1, quote_2, quote_3 = (theme_colour(app, f"quote-{n}") for n in (1, 2, 3))
        assert colours["> Here is the plan for the release:"] == quote_1
        assert colours["On Mon, 3 Mar 2026 at 09:12, Ann Example <ann@example.org> wrote:"] == quote_1
        assert colours["> On Sun, 2 Mar 2026, Bob Builder <bob@example.org> wrote:"] == quote_2
        assert colours[">> Can we ship the exporter fix first?"] == quote_2
        assert colours[">>> It times out on big folders,"] == quote_3
        assert colours["Carol Danvers"] == colours["--"] == theme_colour(app, "signature")
        text_colour = colours["Monday is fine with me. The exporter fix can wait for 2.5."]
        assert text_colour not in (quote_1, quote_2, quote_3, theme_colour(app, "signature"))
        assert len({quote_1, quote_2, quote_3}) == 3


async def test_the_skip_key_brings_the_next_unquoted_text_to_the_top(make_app):
    app = make_app(reply_facade)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_reply(pilot)
        assert body_text(app)[0] == "Hi Ann,"
        await pilot.press("right_curly_bracket")
        assert body_text(app)[0].startswith("Monday is fine with me.")
        await pilot.press("S")  # mutt's key does the same; the end of the text is in view
        assert "I will." in body_text(app) and "Release manager" in body_text(app)
        shown = body_text(app)
        await pilot.press("right_curly_bracket")  # no quote below: the view stays, and says why
        assert body_text(app) == shown
        await pilot.pause()
        assert "No more unquoted text after quoted text" in status_text(app)
        await pilot.press("g", "j", "j", "j", "j", "j", "j")  # from inside a quote: to the text after it
        assert body_text(app)[0] == "> Here is the plan for the release:"
        await pilot.press("S")
        assert body_text(app)[0].startswith("Monday is fine")


FOLDED_TOP = [
    "Hi Ann,", "", "thanks, comments inline.", "",
    "On Mon, 3 Mar 2026 at 09:12, Ann Example", "<ann@example.org> wrote:",  # wrapped at 80 columns
    "[9 quoted lines]", "",
    "Monday is fine with me. The exporter fix can wait for",
]


async def test_the_fold_key_hides_and_shows_quoted_text_and_stays_for_the_next_message(make_app):
    app = make_app(reply_facade)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_reply(pilot)
        await pilot.press("z")
        assert body_text(app) == FOLDED_TOP
        await pilot.press("S")  # skipping works on the folded text too
        assert body_text(app)[0].startswith("Monday is fine")
        assert "[1 quoted line]" in body_text(app) and "> Who writes the release notes?" not in body_text(app)
        await pilot.press("z")  # quotes back, the same text on top
        assert body_text(app)[0].startswith("Monday is fine")
        assert "> Who writes the release notes?" in body_text(app)
        await pilot.press("g")
        assert "> Here is the plan for the release:" in body_text(app)
        await pilot.press("z", "h", "j")  # folded, then the next message in the list
        await settle(pilot)
        assert body_text(app)[:5] == ["Sounds good, Monday it is.", "Ann Example writes:", "[4 quoted lines]", "--", "Bob"]


async def test_the_quote_keys_can_be_rebound_and_are_in_help_and_palette(make_app):
    app = make_app(reply_facade, keymap={"skip_quoted": "n", "toggle_quotes": "x"})
    async with app.run_test(size=(80, 24)) as pilot:
        await open_reply(pilot)
        await pilot.press("n")
        assert body_text(app)[0].startswith("Monday is fine")
        await pilot.press("g", "x")
        assert body_text(app) == FOLDED_TOP
        await pilot.press("z", "S")  # the default keys are free again
        assert body_text(app) == FOLDED_TOP
        await pilot.press("question_mark", "i")  # i: the [keymap] ids
        await pilot.pause()
        help_text = str(app.screen.query_one("#help-text").render())
        assert "skip_quoted" in help_text and "toggle_quotes" in help_text
        await pilot.press("escape")
        await pilot.press("ctrl+p", *"hide / show quoted")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "> Here is the plan for the release:" in body_text(app)
