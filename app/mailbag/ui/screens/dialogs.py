"""Small modal dialogs: a yes/no confirmation and the sort menu."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from mailbag.services.api import SortKey

_DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: auto; max-width: 90%; height: auto;
    border: round $primary; background: $panel; padding: 0 2;
}}
{name} Static {{ width: auto; }}
{name} OptionList {{ width: 24; height: auto; border: none; background: $panel; }}
"""


class ConfirmDialog(ModalScreen[bool]):
    """Asks a yes/no question: ``y`` answers True; ``n`` or Esc answer False."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]
    DEFAULT_CSS = _DIALOG_CSS.format(name="ConfirmDialog")

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"{self.question} y/n"), id="confirm-question")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


SORT_KEYS: tuple[tuple[SortKey, str, str], ...] = (
    ("date", "d", "Date"),
    ("sender", "s", "Sender"),
    ("subject", "u", "Subject"),
    ("size", "z", "Size"),
)


class SortMenu(ModalScreen["SortKey | None"]):
    """Choose the sort key: a letter, or the arrows and Enter; Esc keeps the current order."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        *(Binding(letter, f"choose('{key}')", label, show=False) for key, letter, label in SORT_KEYS),
    ]
    DEFAULT_CSS = _DIALOG_CSS.format(name="SortMenu")

    def __init__(self, current: SortKey) -> None:
        super().__init__()
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Sort by", id="sort-title")
            yield OptionList(
                *[Option(f"{letter}  {label}", id=key) for key, letter, label in SORT_KEYS], id="sort-options"
            )

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = [key for key, _, _ in SORT_KEYS].index(self._current)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)  # type: ignore[arg-type]

    def action_choose(self, key: str) -> None:
        self.dismiss(key)  # type: ignore[arg-type]

    def action_cancel(self) -> None:
        self.dismiss(None)
