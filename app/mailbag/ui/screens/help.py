"""The help screen: every key binding, generated from the key table and the user's keymap.

The keys are grouped (moving, reading, triage, writing first: what a user needs at once) and laid
out in as many columns as the terminal's width allows, a screenful at a time, so that at 80x24 the
first screen holds the main keys and the rest is a scroll away (the border says how). ``i`` shows
each binding's ``[keymap]`` id in place of its description.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from mailbag.ui.keymap import BY_ID, KEYS, display_keys, effective_keys

#: The groups of the help, in the order shown; a binding in none of them goes under "More".
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Moving", ("cursor_down", "cursor_up", "first", "last", "page_down", "page_up", "open", "back",
                "focus_next", "focus_previous")),
    ("Triage", ("toggle_read", "toggle_flag", "delete", "delete_permanently", "archive", "junk", "move",
                "copy", "undo", "mark", "mark_range", "mark_all", "clear_marks")),
    ("Writing", ("compose", "reply", "reply_all", "reply_list", "forward", "forward_attached",
                 "edit_draft", "outbox")),
    ("Reading", ("full_screen", "layout", "skip_quoted", "toggle_quotes", "all_headers", "raw_source",
                 "close_reader", "links", "attachments", "save_message", "pipe")),
    ("Search and view", ("search", "threads", "toggle_thread", "toggle_all_threads", "sort",
                         "reverse_sort")),
    ("Accounts", ("retry", "sign_in")),
    ("Folder tree", ("new_folder", "rename_folder", "delete_folder", "subscribe_folder")),
    ("Compose screen", ("send", "send_later", "edit_body", "attach", "next_from", "detach",
                        "close_compose")),
    ("Outbox", ("outbox_send", "outbox_edit", "outbox_cancel", "outbox_close")),
    ("Links", ("links_open", "links_copy", "links_close")),
    ("Attachments list", ("attach_save", "attach_save_all", "attach_open", "attach_close")),
    ("mailbag", ("help", "quit")),
)
#: The narrowest a column may be (keys and description); a wider terminal gets more columns.
COLUMN_WIDTH = 36
#: What a description names the part of the screen by, said once by the group's heading instead.
_CONTEXTS = ("reader", "folder tree", "outbox", "attachments")
_GAP = 2
_MAX_KEYS_WIDTH = 14

Row = tuple[str, str, str]  # keys, description, binding id


def help_groups(keymap: Mapping[str, str]) -> list[tuple[str, list[Row]]]:
    """(heading, rows) of every binding, each once, in the groups' order."""
    listed = {binding_id for _, ids in GROUPS for binding_id in ids}

    def row(binding_id: str) -> Row:
        spec = BY_ID[binding_id]
        description = spec.description
        for context in _CONTEXTS:  # "Skip past quoted text (reader)" under "Reading"
            description = description.replace(f" ({context})", "").replace(f"({context}, ", "(")
        return display_keys(effective_keys(spec, keymap)), description, spec.id

    groups = [(title, [row(i) for i in ids if i in BY_ID]) for title, ids in GROUPS]
    groups[-1][1].append(("Ctrl+p", "Command palette", ""))
    more = [row(spec.id) for spec in KEYS if spec.id not in listed]
    if more:
        groups.append(("More", more))
    return [(title, rows) for title, rows in groups if rows]


def help_table(keymap: Mapping[str, str], width: int, height: int, *, ids: bool = False) -> Text:
    """Every binding in columns of the groups, a band of ``height`` lines at a time (the first
    band is the first screen), as many columns side by side as ``width`` holds."""
    columns = max(1, (width + _GAP) // (COLUMN_WIDTH + _GAP))
    column_width = width if columns == 1 else (width + _GAP) // columns - _GAP
    groups = help_groups(keymap)
    keys_width = min(max(len(keys) for _, rows in groups for keys, _, _ in rows), _MAX_KEYS_WIDTH)
    blocks = [_block(title, rows, keys_width, column_width, ids) for title, rows in groups]
    if columns == 1:
        height = sum(len(line) for block in blocks for line in block) + len(blocks)  # it flows
    bands = _bands(blocks, max(height, 4), columns)
    text = Text(no_wrap=True, overflow="crop")
    for number, band in enumerate(bands):
        depth = height if number < len(bands) - 1 else max(len(column) for column in band)
        for line in range(depth):
            for index, column in enumerate(band):
                cell = column[line] if line < len(column) else Text()
                if index < len(band) - 1:
                    cell = cell + " " * (column_width - cell.cell_len + _GAP)
                text.append_text(cell)
            text.append("\n")
    text.rstrip()
    return text


Unit = list[Text]  # the lines of a heading, or of one binding (a long description wraps)


def _block(title: str, rows: Sequence[Row], keys_width: int, width: int, ids: bool) -> list[Unit]:
    """A group: its heading, then each binding, a unit each (a column never splits one)."""
    units: list[Unit] = [[Text(title, style="bold underline")]]
    what_width = max(width - keys_width - 1, 8)
    for keys, description, binding_id in rows:
        shown = keys if len(keys) <= keys_width else keys[: keys_width - 1] + "…"
        what = (binding_id or "(not rebindable)") if ids else description
        unit = []
        for number, part in enumerate(textwrap.wrap(what, what_width) or [""]):
            line = Text(f"{shown if number == 0 else '':<{keys_width}} ", style="bold")
            line.append(part, style="dim" if ids else "")
            unit.append(line)
        units.append(unit)
    return units


def _bands(blocks: Sequence[list[Unit]], height: int, columns: int) -> list[list[list[Text]]]:
    """The groups packed into columns of ``height`` lines, ``columns`` side by side per band. A
    group that does not fit where its column ends goes on in the next column under its heading
    again, rather than leave a hole of more than a few lines."""
    bands: list[list[list[Text]]] = [[[]]]

    def next_column() -> list[Text]:
        if len(bands[-1]) < columns:
            bands[-1].append([])
        else:
            bands.append([[]])
        return bands[-1][-1]

    for block in blocks:
        heading, rows = block[0], list(block[1:])
        column = bands[-1][-1]
        needed = len(heading) + sum(len(unit) for unit in rows) + (1 if column else 0)
        if column and needed > height - len(column) and height - len(column) < 5:
            column = next_column()  # too little room left: start the group in the next column
        if column:
            column.append(Text())
        column.extend(heading)
        while rows:
            unit = rows.pop(0)
            if len(column) + len(unit) > height:
                column = next_column()
                column.append(Text(f"{heading[0].plain} (more)", style="bold underline"))
            column.extend(unit)
    return bands


class HelpScreen(ModalScreen[None]):
    """Lists every binding; any of Esc, q, ? closes it, ``i`` shows the ``[keymap]`` ids."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close help"),
        Binding("j", "scroll('down')", "Scroll down", show=False),
        Binding("k", "scroll('up')", "Scroll up", show=False),
        Binding("i", "toggle_ids", "[keymap] ids", show=False),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: auto;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $primary;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        background: $panel;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    HelpScreen Static { width: auto; }
    """

    def __init__(self, keymap: Mapping[str, str]) -> None:
        super().__init__()
        self._keymap = dict(keymap)
        self._ids = False

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = "mailbag keys"
            yield Static(id="help-text")

    def on_mount(self) -> None:
        self._lay_out()

    def on_resize(self, event: events.Resize) -> None:
        self._lay_out()

    def _lay_out(self) -> None:
        """The table for the terminal's size: its width less the border, padding and scroll bar;
        a band per screenful of lines inside the border."""
        width, height = self.app.size
        table = help_table(self._keymap, max(width - 5, 20), max(height - 2, 3), ids=self._ids)
        self.query_one("#help-text", Static).update(table)
        box = self.query_one(VerticalScroll)
        more = "j k PgDn: more below · " if len(table.plain.splitlines()) > height - 2 else ""
        what = "descriptions" if self._ids else "\\[keymap] ids"  # the subtitle is markup
        box.border_subtitle = f"{more}i: {what} · Esc: close"

    def action_toggle_ids(self) -> None:
        """Show the ``[keymap]`` ids in place of the descriptions, or the descriptions again."""
        self._ids = not self._ids
        self._lay_out()

    def action_scroll(self, direction: str) -> None:
        """Scroll the table a line, as Down and Up do."""
        scroll = self.query_one(VerticalScroll)
        if direction == "down":
            scroll.scroll_down()
        else:
            scroll.scroll_up()
