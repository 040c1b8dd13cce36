"""The help screen: every key binding, generated from the key table and the user's keymap."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from mailbag.ui.keymap import KEYS, display_keys, effective_keys


def help_text(keymap: Mapping[str, str]) -> Text:
    """A table: keys, what they do, and the binding id to rebind them with in ``[keymap]``."""
    rows = [
        (display_keys(effective_keys(spec, keymap)), spec.description, spec.id) for spec in KEYS
    ]
    rows.append(("Ctrl+P", "Command palette", ""))
    keys_width = max(len(keys) for keys, _, _ in rows) + 2
    what_width = max(len(description) for _, description, _ in rows) + 1
    text = Text()
    text.append("mailbag keys", style="bold")
    text.append(f"{'':<{keys_width + what_width - 10}}[keymap] id\n\n", style="dim")
    for keys, description, binding_id in rows:
        text.append(f"  {keys:<{keys_width}}", style="bold")
        text.append(f"{description:<{what_width}}")
        text.append(binding_id + "\n", style="dim")
    text.append("\nEsc, q or ? closes this help.", style="italic")
    return text


class HelpScreen(ModalScreen[None]):
    """Lists every binding; any of Esc, q, ? closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close help"),
        Binding("j", "scroll('down')", "Scroll down", show=False),
        Binding("k", "scroll('up')", "Scroll up", show=False),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: auto;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $primary;
        background: $panel;
        padding: 0 1;
    }
    HelpScreen Static { width: auto; }
    """

    def __init__(self, keymap: Mapping[str, str]) -> None:
        super().__init__()
        self._keymap = dict(keymap)

    def action_scroll(self, direction: str) -> None:
        """Scroll the table a line, as Down and Up do."""
        scroll = self.query_one(VerticalScroll)
        if direction == "down":
            scroll.scroll_down()
        else:
            scroll.scroll_up()

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(help_text(self._keymap), id="help-text")
