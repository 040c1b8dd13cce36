"""The reader: a header block (From/To/Cc/Date/Subject, attachments) and a read-only body.

Every string shown here is untrusted: it reaches the screen as ``Text`` (header) or as literal
segments painted a row at a time (body), after :mod:`mailbag.domain.sanitize`, so no markup or escape
sequence from a message takes effect. The http, https and mailto URLs written out in the body are
painted as terminal hyperlinks (OSC 8), which a terminal that knows them opens on a click (often
with Ctrl or Shift held, as mailbag takes the mouse) and any other ignores. The body's quoted lines, attributions and signature
(:mod:`mailbag.domain.quotes`) are styled by line kind from the theme's variables, never by
anything in the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Offset, Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip
from textual.widgets import Static

from mailbag.domain.deadline import Deadline
from mailbag.domain.models import Address, MessageRow, RenderedMessage
from mailbag.domain.quotes import BodyLayout, LineKind, fold_quotes, layout_body, plain_layout
from mailbag.domain.sanitize import clean_line, clean_text, visible_format_characters
from mailbag.domain.wording import human_size
from mailbag.ui.keymap import bindings
from mailbag.ui.wrapped_text import Row, WrappedText


def osc8_target(url: str) -> str:
    """``url`` as a terminal hyperlink's target: printable ASCII only (other characters
    percent-encoded), as terminals expect; the body it comes from has no control characters."""
    if url.isascii() and url.isprintable():
        return url
    return "".join(c if c.isascii() and c.isprintable() else quote(c, safe="") for c in url)


def _address(address: Address) -> str:
    name, email = clean_line(address.name), visible_format_characters(clean_line(address.email))
    return f"{name} <{email}>" if name and email else name or email


#: Header labels are this wide ("Subject: ").
LABEL_WIDTH = 9
#: A folded header's subject takes at most this many rows.
SUBJECT_ROWS = 2


def header_text(message: RenderedMessage, width: int | None = None, label_style: str = "bold") -> Text:
    """The header block as literal text. With a ``width`` it is folded to fit: one row for the
    recipients and one for the attachments, with "+N more" for those left out, and at most two
    for the subject, so Subject and Date stay in view; without one, everything is shown. A message
    without a date has no Date row."""
    room = None if width is None else max(width - LABEL_WIDTH, 10)
    most = None if room is None else room // 2 + 1  # items that could fit in a row (50,000 recipients do not)
    recipients = [("To", message.to)] + ([("Cc", message.cc)] if message.cc else [])
    files = [f"{clean_line(a.filename) or '(unnamed)'} ({human_size(a.size)})" for a in message.attachments[:most]]
    date = message.date.strftime("%a, %d %b %Y %H:%M %z") if message.date else ""
    subject = message.subject if room is None else message.subject[: 4 * room * SUBJECT_ROWS + 1]  # more cannot show
    subject = clean_line(subject) or "(no subject)"
    rows: list[tuple[str, str]] = [("From", ", ".join(_address(a) for a in message.from_[:most]))]
    for label, addresses in recipients:
        items = [_address(a) for a in addresses[:most]]
        rows.append((label, ", ".join(items) if room is None else _fitted(items, room, len(addresses))))
    if date:  # none without a Date header, as mutt has it: an empty line tells nothing
        rows.append(("Date", date))
    rows.append(("Subject", subject if room is None else _shortened(subject, room * SUBJECT_ROWS)))
    if files:
        rows.append(("Attach", ", ".join(files) if room is None else _fitted(files, room, len(message.attachments))))
    rows.extend(("Note", clean_line(notice)) for notice in message.notices)  # a limit the reading hit
    text = Text(no_wrap=False)
    for index, (label, value) in enumerate(rows):
        if index:
            text.append("\n")
        text.append(f"{label + ':':<{LABEL_WIDTH}}", style=label_style)
        if room is not None and label != "Subject":
            value = _shortened(value, room)
        text.append(value)
    return text


def _fitted(items: list[str], room: int, total: int) -> str:
    """As many of ``items`` (the first of ``total``) as fit in ``room`` cells, then "+N more"
    for the others."""
    if not items:
        return ""
    shown = 1
    while shown < len(items):
        more = f", +{total - shown - 1} more" if shown + 1 < total else ""
        if cell_len(", ".join(items[: shown + 1]) + more) > room:
            break
        shown += 1
    if shown == total:
        return ", ".join(items)
    more = f" +{total - shown} more"
    return _shortened(", ".join(items[:shown]), room - len(more)) + "," + more


def _shortened(value: str, room: int) -> str:
    """``value`` cut to ``room`` cells, with "…" where it was cut (a value of a megabyte is
    measured by its start only)."""
    if len(value) > 4 * room:
        value = value[: 4 * room] + "…"  # cut in any case; a character takes at most two cells
    if cell_len(value) <= room:
        return value
    return set_cell_size(value, max(room - 1, 0)) + "…"


def loading_header(row: MessageRow) -> Text:
    """What the header shows while the body is being fetched: the list's own fields."""
    text = Text()
    text.append(f"{'From:':<9}", style="bold")
    text.append(clean_line(row.sender) + (f" <{clean_line(row.sender_email)}>" if row.sender_email else ""))
    text.append("\n")
    text.append(f"{'Subject:':<9}", style="bold")
    text.append(clean_line(row.subject) or "(no subject)")
    return text


#: The main screen's class while the reader has the whole screen.
FULL_SCREEN = "-reader-full"

#: The component class that styles each kind of line.
_KIND_CLASSES = {
    LineKind.QUOTE_1: "reader-body--quote-1",
    LineKind.QUOTE_2: "reader-body--quote-2",
    LineKind.QUOTE_3: "reader-body--quote-3",
    LineKind.SIGNATURE: "reader-body--signature",
    LineKind.FOLDED: "reader-body--folded",
}


class ReaderBody(ScrollView, can_focus=True):
    """The message body: read-only, scrollable, no markup; keys scroll the text.

    A virtual view: only the rows on screen are wrapped and painted (:mod:`mailbag.ui.wrapped_text`),
    so a long body opens and pages at key speed. Quoted lines are coloured by level, the signature
    is set apart, and quoted text can be folded away (``toggle_quotes``, which stays so for the
    next messages) or skipped (``skip_quoted``). The mouse selects text; Ctrl+c copies it."""

    BINDINGS = bindings("pane") + bindings("reader")
    COMPONENT_CLASSES = {*_KIND_CLASSES.values(), "reader-body--link"}

    DEFAULT_CSS = """
    ReaderBody {
        padding: 0 1;
        background: $surface;
        color: $foreground;
        scrollbar-size-vertical: 1;
        scrollbar-gutter: stable;
        overflow-x: hidden;
    }
    ReaderBody > .reader-body--quote-1 { color: $mailbag-quote-1; }
    ReaderBody > .reader-body--quote-2 { color: $mailbag-quote-2; }
    ReaderBody > .reader-body--quote-3 { color: $mailbag-quote-3; }
    ReaderBody > .reader-body--signature { color: $mailbag-signature; }
    ReaderBody > .reader-body--folded { color: $mailbag-muted; text-style: italic; }
    ReaderBody > .reader-body--link { text-style: underline; }
    """

    class Notice(Message):
        """Something to tell in the status bar (e.g. no quoted text to skip)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Reopen(Message):
        """Enter in the body: show the message again (retries a body that failed to load), or,
        when it is shown, give the reader the whole screen."""

    class Close(Message):
        """Close the full-screen reader (back to the list)."""

    class ToggleHeaders(Message):
        """Show every header in full above the body, or take them away."""

    class ToggleSource(Message):
        """Show the message's source instead of its body, or the body again."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.quotes_hidden = False
        self._layout = plain_layout("")  # the whole body
        self._shown = self._layout  # what is on screen: the body, or the body with quotes folded
        self._preface: list[str] = []  # lines above the body (every header, when asked for)
        self._view = WrappedText(self._shown.lines, 80)
        self._skipped_to: int | None = None  # the line the last skip went to
        self._link_styles: dict[str, Style] = {}  # link target -> its style

    @property
    def text(self) -> str:
        """The text shown (with the quotes folded when they are)."""
        return self._shown.text

    def show_layout(self, layout: BodyLayout, preface: Sequence[str] = (), view: WrappedText | None = None) -> None:
        """Show a body from its top, under the lines of ``preface``; ``view`` is its lines' rows
        when made beforehand off the UI's thread (:meth:`prepared_view`), which a long body needs:
        grouping a million lines into blocks takes a good part of a second."""
        self._layout = layout
        self._preface = list(preface)
        self._skipped_to = None
        self._load(fold_quotes(layout) if self.quotes_hidden else layout, view)
        self.scroll_to(y=0, animate=False, immediate=True)

    @property
    def shown(self) -> BodyLayout:
        """The body as on screen (with its quotes folded, when they are)."""
        return self._shown

    def show_preface(self, preface: Sequence[str], view: WrappedText | None = None) -> None:
        """Show ``preface`` above the body shown, from the top; ``view`` is their rows
        (:meth:`view_of` the body shown and ``preface``) when made off the UI's thread."""
        self._preface = list(preface)
        self._load(self._shown, view)
        self.scroll_to(y=0, animate=False, immediate=True)

    def prepared_view(self, layout: BodyLayout, preface: Sequence[str] = ()) -> WrappedText | None:
        """The rows of ``layout`` under ``preface`` as :meth:`show_layout` will show them, made
        in a thread worker (None when the body is shown with its quotes folded: that is done as
        it is shown)."""
        return None if self.quotes_hidden else self.view_of(layout, preface)

    def view_of(self, layout: BodyLayout, preface: Sequence[str] = ()) -> WrappedText:
        """The rows of ``layout`` under ``preface`` (grouping a million lines takes a good part of
        a second: call it in a thread worker)."""
        return WrappedText([*preface, *layout.lines] if preface else layout.lines, self._wrap_width())

    def _load(self, layout: BodyLayout, view: WrappedText | None = None) -> None:
        """Put ``layout`` on screen (its rows are wrapped as they are painted); ``view`` is its
        rows under the preface, when made beforehand (:meth:`view_of`)."""
        self._shown = layout
        made = view is not None and (
            len(view.lines) == len(self._preface) + len(layout.lines) if self._preface else view.lines is layout.lines
        )
        if view is not None and made:
            view.set_width(self._wrap_width())  # nothing to do unless the reader was resized meanwhile
            self._view = view
        else:
            lines = [*self._preface, *layout.lines] if self._preface else layout.lines
            self._view = WrappedText(lines, self._wrap_width())
        self._link_styles.clear()
        self._resize_virtual()
        self.refresh()

    def _wrap_width(self) -> int:
        width = self.scrollable_content_region.width
        return width if width > 1 else 80

    def _resize_virtual(self) -> None:
        self.virtual_size = Size(self._view.width, self._view.height)

    def on_resize(self) -> None:
        width = self._wrap_width()
        if width != self._view.width:
            top = self._shown.origin[self._top_line()] if self._shown.lines else 0
            self._view.set_width(width)
            self._resize_virtual()
            self._scroll_to_line(self._shown.line_of(top))

    # --- painting -------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        """Wrap the rows about to be painted first, so that they are exact and stay in place."""
        top = round(self.scroll_y)
        if self._view.settle(top + crop.y, top + crop.bottom):
            self._resize_virtual()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """Row ``y`` of the view, styled by its line's kind, with the selection shown."""
        width = self.scrollable_content_region.width
        base = self.rich_style
        row_y = y + round(self.scroll_y)
        row = self._view.row(row_y)
        if row is None:
            return Strip.blank(width, base)
        kinds, line = self._shown.kinds, row.line - len(self._preface)
        kind = kinds[line] if 0 <= line < len(kinds) else 0
        style = base + self._kind_style(kind) if kind else base
        selection = self.text_selection
        span = selection.get_span(row_y) if selection is not None else None
        if span is None and not row.links:
            segments = [Segment(row.text, style)]
        else:
            segments = self._styled_pieces(row, style, span)
        strip = Strip([s for s in segments if s.text]).crop_extend(0, width, base)
        return strip.apply_offsets(0, row_y)

    def _styled_pieces(self, row: Row, style: Style, span: tuple[int, int] | None) -> list[Segment]:
        """``row`` cut where its links and the selection start and end, each piece styled."""
        text = row.text
        if span is not None:
            span = (span[0], len(text) if span[1] == -1 else span[1])
        cuts = {0, len(text)}
        for start, end, _ in row.links:
            cuts.update((start, end))
        if span is not None:
            cuts.update(span)
        selected = self.screen.get_component_rich_style("screen--selection") if span is not None else None
        edges = sorted(cut for cut in cuts if 0 <= cut <= len(text))
        segments = []
        for start, end in zip(edges, edges[1:]):
            piece = style
            for link_start, link_end, url in row.links:
                if link_start <= start < link_end:
                    piece = piece + self._link_style(url)
                    break
            if span is not None and selected is not None and span[0] <= start < span[1]:
                piece = piece + selected
            segments.append(Segment(text[start:end], piece))
        return segments

    def _link_style(self, url: str) -> Style:
        """A link's style: a terminal hyperlink (OSC 8) to ``url``, one per target, so that the
        rows of a wrapped link are one link to the terminal."""
        style = self._link_styles.get(url)
        if style is None:
            underline = self.get_component_rich_style("reader-body--link", partial=True)
            style = self._link_styles[url] = underline + Style(link=osc8_target(url))
        return style

    def _kind_style(self, kind: int) -> Style:
        return self.get_component_rich_style(_KIND_CLASSES[LineKind(kind)], partial=True)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The text the mouse selected, as it is in the message (a wrapped line stays one line)."""
        start = selection.start or Offset(0, 0)
        if selection.end is None:
            return self._view.text_of_rows(start.y, start.x, self._view.height, None), "\n"
        end = selection.end
        return self._view.text_of_rows(start.y, start.x, end.y, end.x), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

    # --- moving -------------------------------------------------------------------------

    def _top_line(self) -> int:
        """The line of the body at the top (0 while the preface is there)."""
        return max(self._view.line_at(round(self.scroll_y)) - len(self._preface), 0)

    def _scroll_to_line(self, line: int) -> None:
        line += len(self._preface)
        y = self._view.row_of_line(line)
        self._view.settle(y, y + self.scrollable_content_region.height)
        self._resize_virtual()
        self.scroll_to(y=self._view.row_of_line(line), animate=False, immediate=True)

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

    def action_cursor_down(self) -> None:
        self.scroll_relative(y=1, animate=False, immediate=True)

    def action_cursor_up(self) -> None:
        self._scroll_up_by(1)

    def action_first(self) -> None:
        self.scroll_to(y=0, animate=False, immediate=True)

    def action_last(self) -> None:
        """The end of the text: the last screen's rows are wrapped first, so it is the end."""
        self._view.settle_end(self.scrollable_content_region.height)
        self._resize_virtual()
        self.scroll_to(y=self._view.height, animate=False, immediate=True)

    def action_page_down(self) -> None:
        self.scroll_relative(y=self.scrollable_content_region.height, animate=False, immediate=True)

    def action_page_up(self) -> None:
        self._scroll_up_by(self.scrollable_content_region.height)

    def _scroll_up_by(self, rows: int) -> None:
        """Up by ``rows`` exact rows: those above are wrapped first, and the top row kept."""
        top = round(self.scroll_y)
        anchor = self._view.anchor(top)
        while self._view.settle(top - rows, top):
            top = self._view.row_of_anchor(anchor)
        self._resize_virtual()
        self.scroll_to(y=max(self._view.row_of_anchor(anchor) - rows, 0), animate=False, immediate=True)

    def action_open(self) -> None:
        self.post_message(self.Reopen())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The close key is the reader's only while it has the whole screen (else ``q`` quits)."""
        if action == "close_reader":
            return self.screen.has_class(FULL_SCREEN)
        return True

    def action_close_reader(self) -> None:
        self.post_message(self.Close())

    def action_all_headers(self) -> None:
        self.post_message(self.ToggleHeaders())

    def action_raw_source(self) -> None:
        self.post_message(self.ToggleSource())


class Reader(Vertical):
    """Header block above the body. The header is folded to fit its width (see
    :func:`header_text`); when every header is asked for (``all_headers``), they are shown in
    full at the top of the body, where they scroll with it."""

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

    class Shown(Message):
        """A message is shown in full (its key: account, folder, uid)."""

        def __init__(self, key: tuple[str, str, int]) -> None:
            super().__init__()
            self.key = key

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shown: tuple[str, str, int] | None = None  # (account, folder, uid) on screen
        self.all_headers = False
        self.source_shown = False  # the message's source is in the body's place
        self._message: RenderedMessage | None = None  # the message whose header is shown
        self._layout = plain_layout("")  # its body's
        self._preface: list[str] = []  # the lines above it (every header, when asked for)
        self._body_view: WrappedText | None = None  # its body's rows, when made in a thread worker

    def compose(self) -> ComposeResult:
        yield Static(Text(""), id="reader-header")
        yield ReaderBody(id="reader-body")

    @property
    def body(self) -> ReaderBody:
        return self.query_one(ReaderBody)

    @property
    def header(self) -> Static:
        return self.query_one("#reader-header", Static)

    @property
    def message(self) -> RenderedMessage | None:
        """The message shown in full (None while loading, after a failure, or when empty)."""
        return self._message

    def show_message(
        self, key: tuple[str, str, int], message: RenderedMessage, layout: BodyLayout | None = None,
        view: WrappedText | None = None, preface: Sequence[str] | None = None,
    ) -> None:
        """Show a rendered message; ``layout`` is its body's (:func:`body_layout`), ``preface``
        the lines above it (:meth:`preface_of`) and ``view`` its rows
        (:meth:`ReaderBody.prepared_view`) when already made off the UI's thread."""
        self.shown = key
        self._message = message
        self._layout = layout if layout is not None else body_layout(message)
        self._preface = list(preface) if preface is not None else self.preface_of(message)
        self._body_view = view
        self._show_header()
        self.hide_source()
        self.post_message(self.Shown(key))

    def show_source(self, layout: BodyLayout, view: WrappedText | None = None) -> None:
        """Show the message's source (:func:`source_layout`, its rows ``view``) in the body's place."""
        self.source_shown = True
        self.body.show_layout(layout, view=view)

    def hide_source(self) -> None:
        """Show the body again."""
        self.source_shown = False
        self.body.show_layout(self._layout, self._preface, self._body_view)

    def show_loading(self, key: tuple[str, str, int], row: MessageRow) -> None:
        """Show the list's fields and "Loading…" while the body is fetched."""
        self.shown = key
        self._message = None
        self.source_shown = False
        self.header.update(loading_header(row))
        self.body.show_layout(plain_layout("Loading…"))

    def show_failure(self, key: tuple[str, str, int], error: str) -> None:
        """The body could not be loaded: say why, and how to try again."""
        self.shown = key
        text = f"This message could not be loaded: {clean_line(error)}\n\nPress Enter to try again."
        self.body.show_layout(plain_layout(text))

    def clear(self) -> None:
        self.shown = None
        self._message = None
        self.source_shown = False
        self.header.update(Text(""))
        self.body.show_layout(plain_layout(""))


    def _show_header(self) -> None:
        if self._message is None:
            return
        width = self.header.content_region.width or self.size.width - 2
        self.header.update(header_text(self._message, max(width, 20)))

    def on_resize(self) -> None:
        self._show_header()

    def on_descendant_focus(self) -> None:
        # A class, not :focus-within: Textual restyles the header (a child) when the reader's
        # classes change, not when its focus-within does.
        self.add_class("-focused")

    def on_descendant_blur(self) -> None:
        self.remove_class("-focused")

    def preface_of(self, message: RenderedMessage) -> list[str]:
        """The lines above ``message``'s body: every header in full while ``all_headers`` is on
        (50,000 recipients take a while: call it in a thread worker)."""
        return [*header_text(message).plain.split("\n"), ""] if self.all_headers else []

    def show_preface(self, preface: Sequence[str], view: WrappedText | None = None) -> None:
        """Show ``preface`` (:meth:`preface_of`) above the body; ``view`` is their rows, made
        off the UI's thread (:meth:`ReaderBody.view_of`)."""
        self._preface = list(preface)
        self._body_view = view if not self.body.quotes_hidden else None
        self.body.show_preface(preface, view)


def body_layout(message: RenderedMessage, deadline: Deadline | None = None) -> BodyLayout:
    """The message's body, sanitised, with its quotes and signature found (as plain text once
    ``deadline``, the time its reading may take, has passed)."""
    text = clean_text(message.body or message.sealed)
    if deadline is not None and deadline.passed():
        return plain_layout(text)
    return layout_body(text)


def uncoloured_notice(deadline: Deadline) -> str:
    """What the reader says of a body shown without its quotes found (:func:`body_layout`): all
    of it is there."""
    return f"Reading this message took over {deadline.seconds:g} s: its quotes are not coloured."


def source_layout(raw: bytes) -> BodyLayout:
    """A message's bytes as text to read: undecodable bytes shown as U+FFFD, sanitised, no
    quote styles."""
    return plain_layout(clean_text(raw.decode("utf-8", errors="replace")))
