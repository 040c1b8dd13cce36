"""The links of a message, numbered, each with its real target: choose one to open or copy.

An HTML link shows its target (the href a click would follow) with its text below; a link whose
text names another domain than its target is marked with a warning. A digit goes to that link
(two digits typed in a row to links 10 and up), ``j``/``k`` and the arrows move. The screen
dismisses with what was asked (``("open", link)`` or ``("copy", link)``), or None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from rich.cells import cell_len, chop_cells, set_cell_size
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from mailbag.domain.links import Link
from mailbag.domain.wording import plural
from mailbag.ui.keymap import bindings, key_label

LinkAction = Literal["open", "copy"]
#: A target is shown to this many characters (opening or copying takes it whole).
SHOWN_CHARS = 300
#: The number's column.
INDENT = 4
#: The list's widest row, and the cells the dialog's frame takes around it.
MAX_WIDTH = 110
FRAME = 6


def link_prompt(number: int, link: Link, width: int) -> Content:
    """One link as the list shows it, ``width`` cells wide: its number and target (folded to
    the width under an indent), its text, and the warnings. Literal text: it comes from the
    message, and is never read as markup."""
    target = link.target if len(link.target) <= SHOWN_CHARS else link.target[:SHOWN_CHARS] + "…"
    room = max(width - INDENT, 10)
    parts: list[str | tuple[str, str]] = [(f"{number:>{INDENT - 1}} ", "bold")]
    for index, piece in enumerate(chop_cells(target, room)):
        parts += ["\n" + " " * INDENT if index else "", (piece, "" if link.openable else "dim")]
    if not link.openable:
        parts += ["\n" + " " * INDENT, (f"not opened: {link.scheme or 'no scheme'}", "italic $text-warning")]
    if link.text:
        text = link.text if cell_len(link.text) <= room else set_cell_size(link.text, room - 1) + "…"
        parts += ["\n" + " " * INDENT, (text, "$text-muted")]
    if link.text_domain:
        warning = f"⚠ the text says {link.text_domain}: the link goes elsewhere"
        parts += ["\n" + " " * INDENT, (warning, "bold $text-warning")]
    return Content.assemble(*parts)


class LinkPicker(ModalScreen["tuple[LinkAction, Link] | None"]):
    """Lists ``links``; its keys (scope ``links``) open or copy the one chosen."""

    BINDINGS = bindings("links")

    DEFAULT_CSS = """
    LinkPicker { align: center middle; }
    LinkPicker > Vertical {
        width: 90%; max-width: 116; height: auto; max-height: 90%;
        border: round $primary; border-subtitle-color: $text-muted; background: $panel; padding: 0 1;
    }
    LinkPicker OptionList { height: auto; max-height: 100%; background: $panel; }
    """

    def __init__(self, links: Sequence[Link], keymap: Mapping[str, str]) -> None:
        super().__init__()
        self.links = list(links)
        self._keymap = dict(keymap)
        self._typed = ""  # the digits typed so far

    def compose(self) -> ComposeResult:
        with Vertical() as frame:
            count = len(self.links)
            frame.border_title = Content(f"{plural(count, 'link')} in this message")
            frame.border_subtitle = Content(
                f"{key_label('links_open', self._keymap)} open · {key_label('links_copy', self._keymap)} copy"
                f" · 1-9 go to · {key_label('links_close', self._keymap)} close"
            )
            yield OptionList(id="links-list", compact=True)

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        width = min(self.app.size.width * 9 // 10, MAX_WIDTH) - FRAME
        options.add_options(
            [Option(link_prompt(n, link, width), id=str(n)) for n, link in enumerate(self.links, 1)]
        )
        options.highlighted = 0
        options.focus()

    @property
    def highlighted(self) -> Link | None:
        """The link the cursor is on."""
        index = self.query_one(OptionList).highlighted
        return self.links[index] if index is not None and 0 <= index < len(self.links) else None

    def on_key(self, event: events.Key) -> None:
        """Digits go to a link by its number; ``j``/``k`` move."""
        options = self.query_one(OptionList)
        if event.character is not None and event.character.isdigit():
            event.stop()
            typed = self._typed + event.character
            if not 0 < int(typed) <= len(self.links):
                typed = event.character
            self._typed = typed
            if 0 < int(typed) <= len(self.links):
                options.highlighted = int(typed) - 1
            return
        self._typed = ""
        if event.key in ("j", "k"):
            event.stop()
            options.action_cursor_down() if event.key == "j" else options.action_cursor_up()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_open_link()

    def action_open_link(self) -> None:
        link = self.highlighted
        if link is not None:
            self.dismiss(("open", link))

    def action_copy_link(self) -> None:
        link = self.highlighted
        if link is not None:
            self.dismiss(("copy", link))

    def action_close_links(self) -> None:
        self.dismiss(None)
