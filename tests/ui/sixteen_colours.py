"""The app as a 16-colour terminal shows it, for snapshot tests.

Textual's screenshots are always taken in true colour; this app's screenshot turns every colour
into the one of the 16 a terminal with ``TERM=xterm`` (or ``TEXTUAL_COLOR_SYSTEM=standard``) would
paint, so a snapshot shows what such a terminal shows.
"""

from __future__ import annotations

import io
from pathlib import Path

from rich.color import Color, ColorSystem
from rich.console import Console
from rich.segment import Segment, Segments
from rich.style import Style

from mailbag.ui import app as app_module
from mailbag.ui.app import MailbagApp


def _downgraded(style: Style | None) -> Style | None:
    if style is None:
        return None

    def colour(value: Color | None) -> Color | None:
        return value.downgrade(ColorSystem.STANDARD) if value is not None else None

    return style + Style.from_color(colour(style.color), colour(style.bgcolor))


class SixteenColourApp(MailbagApp):
    """MailbagApp whose screenshots are in the 16 colours of a basic terminal."""

    CSS_PATH = str(Path(app_module.__file__).with_name("main.tcss"))

    def export_screenshot(self, *, title: str | None = None, simplify: bool = False) -> str:
        width, height = self.size
        console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                          color_system="truecolor", record=True, legacy_windows=False, safe_box=False)
        update = self.screen._compositor.render_update(full=True, screen_stack=self._background_screens)
        assert update is not None  # a full update always has something to paint
        segments = [
            Segment(s.text, _downgraded(s.style), s.control) for s in console.render(update, console.options)
        ]
        console.print(Segments(segments))
        return console.export_svg(title=title or self.title)
