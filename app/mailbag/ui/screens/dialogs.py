"""Small modal dialogs: a yes/no confirmation, the sort menu and a text to read whole."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
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
{name} Static {{ width: auto; max-width: 100%; }}
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


class ChoiceDialog(ModalScreen["str | None"]):
    """A question answered by one letter: each choice is (letter, answer, label); Esc answers
    None (go back)."""

    DEFAULT_CSS = _DIALOG_CSS.format(name="ChoiceDialog")

    def __init__(self, question: str, choices: tuple[tuple[str, str, str], ...]) -> None:
        super().__init__()
        self.question = question
        self.choices = choices

    def compose(self) -> ComposeResult:
        labels = "  ".join(f"{letter} {label}" for letter, _, label in self.choices)
        with Vertical():
            yield Static(Text(self.question), id="choice-question")
            yield Static(Text(f"{labels}  Esc back", style="dim"), id="choice-keys")

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        if event.key == "escape":
            self.dismiss(None)
        for letter, answer, _ in self.choices:
            if event.key == letter:
                self.dismiss(answer)


def close_draft_dialog(empty: bool) -> ChoiceDialog:
    """Asked when the compose screen closes with something written (or with everything
    written since deleted: then keeping means keeping the text saved before)."""
    question = (
        "The message is empty now. Keep the text saved before, or discard the draft?"
        if empty
        else "Keep the draft for later (here and in Drafts), or discard it?"
    )
    return ChoiceDialog(question, (("k", "keep", "keep"), ("d", "discard", "discard")))


def resume_drafts_dialog(count: int) -> ChoiceDialog:
    """Asked at start when drafts are on disk: left by a mailbag that was killed, or kept while
    the Drafts folder could not take them."""
    what = "A draft was" if count == 1 else f"{count} drafts were"
    return ChoiceDialog(
        f"{what} not sent, nor stored in Drafts. Open {'it' if count == 1 else 'the newest'} now?",
        (("o", "open", "open"), ("l", "later", "later"), ("d", "discard", "discard")),
    )


class TextDialog(ModalScreen[None]):
    """Shows a text whole, wrapped (what a one-line status bar had to cut), scrolled with the
    arrows, j/k and the page keys when it is longer than the screen; any of Esc, Enter and q
    closes it."""

    BINDINGS = [
        Binding("escape,enter,q", "close", "Close"),
        Binding("j", "scroll(1)", "Down", show=False),
        Binding("k", "scroll(-1)", "Up", show=False),
    ]
    DEFAULT_CSS = _DIALOG_CSS.format(name="TextDialog") + """
    TextDialog VerticalScroll { width: auto; max-width: 100%; height: auto; max-height: 18; }
    """

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text, style="bold"), id="text-dialog-title")
            with VerticalScroll(id="text-dialog-scroll"):
                yield Static(Text(self.text), id="text-dialog-text")  # server words: never markup
            yield Static(Text("Esc to close", style="dim"))

    def action_scroll(self, lines: int) -> None:
        self.query_one("#text-dialog-scroll", VerticalScroll).scroll_relative(y=lines, animate=False)

    def action_close(self) -> None:
        self.dismiss(None)
