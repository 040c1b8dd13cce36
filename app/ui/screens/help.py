"""The help screen: every key binding, generated from the key table and the user's keymap."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from app.ui.keymap import KEYS, display_keys, effective_keys


def help_text(keymap: Mapping[str, str]) -> Text:
    """A two-column table: keys, then what they do."""
    rows = [(display_keys(effective_keys(spec, keymap)), spec.description) for spec in KEYS]
    rows.append(("Ctrl+P", "Command palette"))
    width = max(len(keys) for keys, _ in rows) + 2
    text = Text()
    text.append("mailbag keys\n\n", style="bold")
    for keys, description in rows:
        text.append(f"  {keys:<{width}}", style="bold")
        text.append(description + "\n")
    text.append("\nEsc, q or ? closes this help.", style="italic")
    return text


class HelpScreen(ModalScreen[None]):
    """Lists every binding; any of Esc, q, ? closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close help"),
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
        padding: 0 2;
    }
    HelpScreen Static { width: auto; }
    """

    def __init__(self, keymap: Mapping[str, str]) -> None:
        super().__init__()
        self._keymap = dict(keymap)

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(help_text(self._keymap), id="help-text")
