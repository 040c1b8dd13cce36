"""A one-line question at the bottom of the screen, as mutt asks: a folder, a file, a command."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Label

from mailbag.ui.completion import FieldInput


class PromptScreen(ModalScreen["str | None"]):
    """Asks for one line: Enter answers what was typed (stripped), Esc answers None. ``suggester``
    completes it (Tab takes the completion)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]
    DEFAULT_CSS = """
    PromptScreen { align: left bottom; background: $background 30%; }
    PromptScreen > Horizontal { height: 1; background: $panel; }
    PromptScreen Label { width: auto; padding: 0 1; color: $text-muted; }
    PromptScreen FieldInput {
        width: 1fr; height: 1; border: none; padding: 0; background: $panel;
    }
    PromptScreen FieldInput:focus { border: none; background: $primary 15%; }
    """

    def __init__(
        self, label: str, value: str = "", *, placeholder: str = "", suggester: Suggester | None = None
    ) -> None:
        super().__init__()
        self.label = label
        self.value = value
        self.placeholder = placeholder
        self.suggester = suggester

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(Text(self.label))
            yield FieldInput(
                self.value, placeholder=self.placeholder, suggester=self.suggester, id="prompt-field"
            )

    def on_mount(self) -> None:
        field = self.query_one(FieldInput)
        field.cursor_position = len(field.value)
        self.set_focus(field)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
