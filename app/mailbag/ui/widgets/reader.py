"""The reader: a header block (From/To/Cc/Date/Subject, attachments) and a read-only body.

Every string shown here is untrusted: it reaches the screen as ``Text`` (header) or as plain text
in a read-only ``TextArea`` (body), after :mod:`mailbag.domain.sanitize`, so no markup or escape
sequence from a message takes effect.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static, TextArea

from mailbag.domain.models import Address, MessageRow, RenderedMessage
from mailbag.domain.sanitize import clean_line, clean_text
from mailbag.ui.keymap import bindings


def _human_size(size: int) -> str:
    for unit in ("B", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size} {unit}" if unit == "B" else f"{size:.0f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size} B"


def _addresses(addresses: Iterable[Address]) -> str:
    parts = []
    for address in addresses:
        name, email = clean_line(address.name), clean_line(address.email)
        parts.append(f"{name} <{email}>" if name and email else name or email)
    return ", ".join(parts)


def header_text(message: RenderedMessage, label_style: str = "bold") -> Text:
    """The header block as literal text."""
    text = Text(no_wrap=False)
    lines: list[tuple[str, str]] = [
        ("From", _addresses(message.from_)),
        ("To", _addresses(message.to)),
    ]
    if message.cc:
        lines.append(("Cc", _addresses(message.cc)))
    lines.append(("Date", message.date.strftime("%a, %d %b %Y %H:%M %z") if message.date else ""))
    lines.append(("Subject", clean_line(message.subject) or "(no subject)"))
    if message.attachments:
        files = ", ".join(
            f"{clean_line(a.filename) or '(unnamed)'} ({_human_size(a.size)})" for a in message.attachments
        )
        lines.append(("Attach", files))
    for index, (label, value) in enumerate(lines):
        if index:
            text.append("\n")
        text.append(f"{label + ':':<9}", style=label_style)
        text.append(value)
    return text


def loading_header(row: MessageRow) -> Text:
    """What the header shows while the body is being fetched: the list's own fields."""
    text = Text()
    text.append(f"{'From:':<9}", style="bold")
    text.append(clean_line(row.sender) + (f" <{clean_line(row.sender_email)}>" if row.sender_email else ""))
    text.append("\n")
    text.append(f"{'Subject:':<9}", style="bold")
    text.append(clean_line(row.subject) or "(no subject)")
    return text


class ReaderBody(TextArea):
    """The message body: read-only, scrollable, no markup; keys scroll the text."""

    BINDINGS = bindings("pane")

    DEFAULT_CSS = """
    ReaderBody {
        border: none;
        padding: 0 1;
        background: $surface;
        scrollbar-size-vertical: 1;
    }
    ReaderBody:focus { border: none; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            "",
            read_only=True,
            show_cursor=False,
            soft_wrap=True,
            show_line_numbers=False,
            highlight_cursor_line=False,
            tab_behavior="focus",
            id=id,
        )
        self.cursor_blink = False

    def action_cursor_down(self) -> None:  # type: ignore[override]
        self.scroll_relative(y=1, animate=False)

    def action_cursor_up(self) -> None:  # type: ignore[override]
        self.scroll_relative(y=-1, animate=False)

    def action_first(self) -> None:
        self.scroll_home(animate=False)

    def action_last(self) -> None:
        self.scroll_end(animate=False)

    def action_page_down(self) -> None:
        self.scroll_page_down(animate=False)

    def action_page_up(self) -> None:
        self.scroll_page_up(animate=False)

    class Reopen(Message):
        """Enter in the body: show the message again (retries a body that failed to load)."""

    def action_open(self) -> None:
        self.post_message(self.Reopen())


class Reader(Vertical):
    """Header block above the body."""

    DEFAULT_CSS = """
    Reader { background: $surface; }
    Reader > #reader-header {
        height: auto;
        max-height: 8;
        padding: 0 1;
        background: $panel;
        border-bottom: solid $primary 50%;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shown: tuple[str, str, int] | None = None  # (account, folder, uid) on screen

    def compose(self) -> ComposeResult:
        yield Static(Text(""), id="reader-header")
        yield ReaderBody(id="reader-body")

    @property
    def body(self) -> ReaderBody:
        return self.query_one(ReaderBody)

    @property
    def header(self) -> Static:
        return self.query_one("#reader-header", Static)

    def show_message(self, key: tuple[str, str, int], message: RenderedMessage) -> None:
        """Show a rendered message."""
        self.shown = key
        self.header.update(header_text(message))
        self._show_body(clean_text(message.body))

    def show_loading(self, key: tuple[str, str, int], row: MessageRow) -> None:
        """Show the list's fields and "Loading…" while the body is fetched."""
        self.shown = key
        self.header.update(loading_header(row))
        self._show_body("Loading…")

    def show_failure(self, key: tuple[str, str, int], error: str) -> None:
        """The body could not be loaded: say why, and how to try again."""
        self.shown = key
        self._show_body(f"This message could not be loaded: {clean_line(error)}\n\nPress Enter to try again.")

    def clear(self) -> None:
        self.shown = None
        self.header.update(Text(""))
        self._show_body("")

    def _show_body(self, text: str) -> None:
        """Put ``text`` in the body, from its top. The TextArea repaints by itself only when the
        text's size changes: a body as long as the last one (say, both one line) would stay on
        screen under the new headers, so it is asked to repaint every time."""
        self.body.load_text(text)
        self.body.scroll_home(animate=False)
        self.body.refresh()
