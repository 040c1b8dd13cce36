"""A modal fuzzy picker: type to filter folder names, arrows to choose, Enter picks, Esc cancels.
Where the account can make folders, a name typed that is no folder yet is offered last, as
"New folder: NAME"."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from mailbag.domain.sanitize import clean_line
from mailbag.ui.fuzzy import fuzzy_filter


class FolderPicker(ModalScreen[str | None]):
    """Dismisses with the chosen folder name, or None when cancelled.

    The filter field keeps the focus, so every letter filters; ``Down``/``Up`` (or ``Ctrl+N``/
    ``Ctrl+P``) move the choice; after ``Tab`` to the list, ``j``/``k`` move as well.
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("down,ctrl+n", "next", "Next", priority=True),
        Binding("up,ctrl+p", "previous", "Previous", priority=True),
    ]

    DEFAULT_CSS = """
    FolderPicker { align: center middle; }
    FolderPicker > Vertical {
        width: 50; max-width: 90%; height: auto; max-height: 80%;
        border: round $primary; background: $panel; padding: 0 1;
    }
    FolderPicker OptionList { height: auto; max-height: 14; border: none; background: $panel; }
    FolderPicker #picker-filter {
        border: none; height: 1; padding: 0 1; margin: 1 0 0 0; background: $boost;
    }
    FolderPicker #picker-filter:focus { border: none; }
    """

    def __init__(self, title: str, folders: Sequence[str], *, new_folder: bool = False) -> None:
        super().__init__()
        self._title = title
        self._folders = list(folders)
        self._new_folder = new_folder
        self.shown: list[str] = list(folders)
        self.new_name = ""  # the name typed, offered as a new folder after those shown

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self._title), id="picker-title")
            yield Input(placeholder="type to filter", id="picker-filter")
            yield OptionList(*self._options(), id="picker-options")

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = 0 if self._folders else None
        self.set_focus(self.query_one(Input))  # at once: letters typed right after m filter

    def _options(self) -> list[Option]:
        # Folder names come from the server: literal text, never markup.
        options = [Option(Text(clean_line(name)), id=str(n)) for n, name in enumerate(self.shown)]
        if self.new_name:
            options.append(Option(Text(f"New folder: {clean_line(self.new_name)}"), id="new"))
        return options

    def on_input_changed(self, event: Input.Changed) -> None:
        self.shown = fuzzy_filter(event.value, self._folders)
        typed = event.value.strip()
        known = {f.casefold() for f in self._folders}
        self.new_name = typed if self._new_folder and typed and typed.casefold() not in known else ""
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(self._options())
        options.highlighted = 0 if options.option_count else None

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._choose(self.query_one(OptionList).highlighted)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose(event.option_index)

    def on_key(self, event: events.Key) -> None:
        """``j``/``k`` move when the list itself has focus; other letters that reach the screen
        (typed before the filter had the focus) go to the filter."""
        if isinstance(self.focused, OptionList) and event.key in ("j", "k"):
            event.stop()
            self.action_next() if event.key == "j" else self.action_previous()
        elif event.is_printable and event.character is not None:
            event.stop()
            field = self.query_one(Input)
            field.insert_text_at_cursor(event.character)
            self.set_focus(field)

    def _choose(self, index: int | None) -> None:
        if index is not None and 0 <= index < len(self.shown):
            self.dismiss(self.shown[index])
        elif index == len(self.shown) and self.new_name:
            self.dismiss(self.new_name)

    def action_next(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_previous(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)
