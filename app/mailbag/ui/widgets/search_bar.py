"""The one-line search field at the bottom (vim style ``/``)."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class SearchBar(Input):
    """Hidden until ``/``; Esc closes it (posting ``Closed``), Enter submits (``Input.Submitted``)."""

    BINDINGS = [Binding("escape", "close", "Close search", show=False)]

    DEFAULT_CSS = """
    SearchBar {
        dock: bottom;
        height: 1;
        border: none;
        padding: 0 1;
        background: $panel;
        display: none;
    }
    SearchBar.-open { display: block; }
    SearchBar:focus { border: none; }
    """

    class Closed(Message):
        """The user left the search field with Esc."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="search: words from: to: subject: body: is:unread is:flagged …", id=id)

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def open(self, text: str = "") -> None:
        """Show the field holding ``text`` and give it the focus at once, so that keys typed
        right after the one that opened it land here."""
        self.add_class("-open")
        self.value = text
        self.cursor_position = len(text)
        self.screen.set_focus(self)

    def close(self) -> None:
        self.remove_class("-open")

    def action_close(self) -> None:
        self.close()
        self.post_message(self.Closed())
