"""The reader: a header block (From/To/Cc/Date/Subject, attachments) and a read-only body.

Every string shown here is untrusted: it reaches the screen as ``Text`` (header) or as plain text
in a read-only ``TextArea`` (body), after :mod:`mailbag.domain.sanitize`, so no markup or escape
sequence from a message takes effect. The body's quoted lines, attributions and signature
(:mod:`mailbag.domain.quotes`) are styled by line kind from the theme's variables, never by
anything in the text.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Offset
from textual.message import Message
from textual.widgets import Static, TextArea

from mailbag.domain.models import Address, MessageRow, RenderedMessage
from mailbag.domain.quotes import BodyLayout, LineKind, fold_quotes, layout_body, plain_layout
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


#: The component class that styles each kind of line.
_KIND_CLASSES = {
    LineKind.QUOTE_1: "reader-body--quote-1",
    LineKind.QUOTE_2: "reader-body--quote-2",
    LineKind.QUOTE_3: "reader-body--quote-3",
    LineKind.SIGNATURE: "reader-body--signature",
    LineKind.FOLDED: "reader-body--folded",
}


class ReaderBody(TextArea):
    """The message body: read-only, scrollable, no markup; keys scroll the text.

    Quoted lines are coloured by level, the signature is set apart, and quoted text can be
    folded away (``toggle_quotes``, which stays so for the next messages) or skipped
    (``skip_quoted``)."""

    BINDINGS = bindings("pane") + bindings("reader")
    COMPONENT_CLASSES = set(_KIND_CLASSES.values())

    DEFAULT_CSS = """
    ReaderBody {
        border: none;
        padding: 0 1;
        background: $surface;
        scrollbar-size-vertical: 1;
    }
    ReaderBody:focus { border: none; }
    ReaderBody > .reader-body--quote-1 { color: $mailbag-quote-1; }
    ReaderBody > .reader-body--quote-2 { color: $mailbag-quote-2; }
    ReaderBody > .reader-body--quote-3 { color: $mailbag-quote-3; }
    ReaderBody > .reader-body--signature { color: $mailbag-signature; }
    ReaderBody > .reader-body--folded { color: $mailbag-muted; text-style: italic; }
    """

    class Notice(Message):
        """Something to tell in the status bar (e.g. no quoted text to skip)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Reopen(Message):
        """Enter in the body: show the message again (retries a body that failed to load)."""

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
        self.quotes_hidden = False
        self._layout = plain_layout("")  # the whole body
        self._shown = self._layout  # what is on screen: the body, or the body with quotes folded
        self._skipped_to: int | None = None  # the line the last skip went to

    def show_layout(self, layout: BodyLayout) -> None:
        """Show a body from its top."""
        self._layout = layout
        self._skipped_to = None
        self._load(fold_quotes(layout) if self.quotes_hidden else layout)
        self.scroll_home(animate=False)

    def get_line(self, line_index: int) -> Text:
        """The line, styled by its kind (quote level, signature, folded quote)."""
        line = super().get_line(line_index)
        kinds = self._shown.kinds
        if line_index < len(kinds) and kinds[line_index]:
            line.stylize(self._kind_style(kinds[line_index]))
        return line

    def _kind_style(self, kind: int) -> Style:
        return self.get_component_rich_style(_KIND_CLASSES[LineKind(kind)], partial=True)

    def _load(self, layout: BodyLayout) -> None:
        """Put ``layout`` on screen. The TextArea repaints by itself only when the text's size
        changes: a body as long as the last one (say, both one line) would stay on screen under
        the new headers, so it is asked to repaint every time."""
        self._shown = layout
        self.load_text(layout.text)
        self.refresh()

    def _top_line(self) -> int:
        return self.wrapped_document.offset_to_location(Offset(0, round(self.scroll_y)))[0]

    def _scroll_to_line(self, line: int) -> None:
        self.scroll_to(y=self.wrapped_document.location_to_offset((line, 0)).y, animate=False, immediate=True)

    def action_skip_quoted(self) -> None:
        """Bring the text after the quoted block at or below the top line to the top."""
        start = self._top_line()
        if self._skipped_to is not None and start < self._skipped_to < start + self.scrollable_content_region.height:
            start = self._skipped_to  # the last skip's text is on screen, below the top: go on from it
        target = self._shown.next_unquoted(start)
        if target is None:
            self.app.bell()
            self.post_message(self.Notice("No more unquoted text after quoted text"))
            return
        self._skipped_to = target
        self._scroll_to_line(target)

    def action_toggle_quotes(self) -> None:
        """Fold every quote block into one line, or show them again; the top line stays."""
        top = self._shown.origin[self._top_line()] if self._shown.lines else 0
        self.quotes_hidden = not self.quotes_hidden
        self._skipped_to = None
        self._load(fold_quotes(self._layout) if self.quotes_hidden else self._layout)
        self._scroll_to_line(self._shown.line_of(top))

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

    def show_message(
        self, key: tuple[str, str, int], message: RenderedMessage, layout: BodyLayout | None = None
    ) -> None:
        """Show a rendered message; ``layout`` is its body's (:func:`body_layout`) when already
        made off the UI's thread."""
        self.shown = key
        self.header.update(header_text(message))
        self.body.show_layout(layout if layout is not None else body_layout(message))

    def show_loading(self, key: tuple[str, str, int], row: MessageRow) -> None:
        """Show the list's fields and "Loading…" while the body is fetched."""
        self.shown = key
        self.header.update(loading_header(row))
        self.body.show_layout(plain_layout("Loading…"))

    def show_failure(self, key: tuple[str, str, int], error: str) -> None:
        """The body could not be loaded: say why, and how to try again."""
        self.shown = key
        text = f"This message could not be loaded: {clean_line(error)}\n\nPress Enter to try again."
        self.body.show_layout(plain_layout(text))

    def clear(self) -> None:
        self.shown = None
        self.header.update(Text(""))
        self.body.show_layout(plain_layout(""))


def body_layout(message: RenderedMessage) -> BodyLayout:
    """The message's body, sanitised, with its quotes and signature found."""
    return layout_body(clean_text(message.body))
