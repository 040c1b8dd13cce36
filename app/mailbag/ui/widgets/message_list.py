"""The message list: a Line-API scroll view over a folder's vector of row ids.

It holds only the id vector (from ``MailFacade.message_index``, a search, or a thread layout)
and a small cache of pages of ``MessageRow`` objects read through ``rows()``, so a 100k-message
folder costs one integer per message and a screenful of rows. It also keeps the marks. What a
row shows is what the service says: after triage, the rows acted on are read again
(:meth:`MessageList.reread`), and those the service no longer lists leave the view.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from math import ceil

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region, Size
from textual.message import Message
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip

from mailbag.domain.models import FLAGGED, SEEN, MessageRow
from mailbag.ui.format import correspondent, fit, flag_column, short_date, thread_prefix, thread_summary
from mailbag.ui.keymap import bindings
from mailbag.ui.threads import ThreadLayout
from mailbag.ui.widgets.cursor_list import CursorList

RowsReader = Callable[[Sequence[int]], list[MessageRow]]

PAGE_SIZE = 64
MAX_PAGES = 16
#: Rows beyond the visible ones whose pages are read ahead, in a thread.
READ_AHEAD = PAGE_SIZE // 2
#: Up to this many rows acted on are read again at once (on the UI loop); more, in a thread.
REREAD_AT_ONCE = 2000
#: Up to this many rows leaving the list are found one by one; more, in one pass over it.
FEW_GONE = 32
DATE_WIDTH = 10
ACCOUNT_WIDTH = 6


@dataclass(frozen=True, slots=True)
class FolderKey:
    """Which folder the list shows; ``virtual`` for a virtual folder (``folder`` is its name)."""

    account: str
    folder: str
    virtual: bool = False


def _bar_picture(bar: ScrollBar) -> list[Segment]:
    """What a vertical scrollbar draws, drawn the way the bar itself draws it."""
    virtual = bar.window_virtual_size
    window = bar.window_size if bar.window_size < virtual else 0
    drawn = ScrollBarRender.render_bar(
        size=bar.size.height, virtual_size=ceil(virtual), window_size=ceil(window),
        position=bar.position, thickness=bar.thickness, vertical=True,
    )
    return list(drawn.segments)


def _without(ids: Sequence[int], gone: set[int]) -> tuple[array[int], list[int]]:
    """``ids`` without ``gone``, and the positions the gone ones had. A few are looked up and
    deleted by C-level scans (a triage key in a 100k-row folder); many, in one pass."""
    if len(gone) <= FEW_GONE:
        positions = []
        for row_id in gone:
            try:
                positions.append(ids.index(row_id))
            except ValueError:
                pass
        kept = array("q", ids)
        for position in sorted(positions, reverse=True):
            del kept[position]
        return kept, positions
    positions = [i for i, row_id in enumerate(ids) if row_id in gone]
    return array("q", (row_id for row_id in ids if row_id not in gone)), positions


@dataclass(slots=True)
class _Frame:
    """What every line of one frame shares: the base style, the width, the row styles so far."""

    base: Style
    width: int
    styles: dict[tuple[str, ...], Style]


class MessageList(CursorList, can_focus=True):
    """Rows of one folder, newest first; the cursor row is highlighted."""

    BINDINGS = bindings("pane") + bindings("list")

    COMPONENT_CLASSES = {
        "message-list--marked",
        "message-list--unread",
        "message-list--flagged",
        "message-list--cursor",
        "message-list--cursor-blurred",
        "message-list--empty",
    }

    DEFAULT_CSS = """
    MessageList {
        overflow-x: hidden;
        overflow-y: auto;
        background: $surface;
        color: $mailbag-read;
        scrollbar-size-vertical: 1;
    }
    MessageList > .message-list--unread { text-style: bold; color: $mailbag-unread; }
    MessageList > .message-list--flagged { color: $mailbag-flagged; }
    MessageList > .message-list--cursor { background: $mailbag-selected; }
    MessageList > .message-list--cursor-blurred { background: $mailbag-selected-blurred; }
    MessageList > .message-list--marked { background: $mailbag-marked; }
    MessageList > .message-list--empty { color: $mailbag-muted; text-style: italic; }
    """

    class Highlighted(Message):
        """The cursor moved to ``row`` (None when the folder is empty)."""

        def __init__(self, row: MessageRow | None) -> None:
            super().__init__()
            self.row = row

    class Opened(Message):
        """The user opened ``row`` (Enter)."""

        def __init__(self, row: MessageRow) -> None:
            super().__init__()
            self.row = row

    class Back(Message):
        """Escape with nothing marked: leave the search, or go back a pane."""

    def __init__(
        self,
        read_rows: RowsReader,
        *,
        now: Callable[[], datetime],
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self._read_rows = read_rows
        self._now = now
        self._ids: Sequence[int] = ()
        self._pages: OrderedDict[int, dict[int, MessageRow]] = OrderedDict()
        self._reading: set[int] = set()  # pages being read ahead
        self._shown = 0  # counts show_folder calls: a page read for an earlier list is dropped
        self.folder: FolderKey | None = None
        self.index_pending = False
        self.threads: ThreadLayout | None = None  # thread view, else None
        self.show_account = False
        self.to_shown = False  # a folder of the user's own mail: rows show their recipients
        self.own_addresses: frozenset[str] = frozenset()  # lower case; their rows show recipients too
        self.marked: set[int] = set()
        self._range_anchor: int | None = None
        self._range_base: set[int] = set()
        self._thread_counts: dict[int, tuple[int, int]] = {}
        self._frame: _Frame | None = None  # set while render_lines draws a frame
        self._bar_picture: list[Segment] | None = None  # what the scrollbar shows

    # --- data ----------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._ids)

    @property
    def ids(self) -> Sequence[int]:
        """The row ids shown, top to bottom."""
        return self._ids

    def show_folder(
        self,
        folder: FolderKey,
        ids: Sequence[int],
        keep_row_id: int | None = None,
        *,
        layout: ThreadLayout | None = None,
        keep_index: int | None = None,
    ) -> None:
        """Show ``ids`` (or ``layout``'s visible rows); keep the cursor on ``keep_row_id`` when it
        is still there, else at ``keep_index`` (clamped)."""
        same_folder = folder == self.folder
        # A range being marked survives a reload of the same folder (new mail, a sync): its
        # anchor stays on the same message.
        anchor = self._range_anchor
        anchor_id = self._ids[anchor] if same_folder and anchor is not None and anchor < len(self._ids) else None
        self.folder = folder
        self.threads = layout
        self._ids = layout.ids if layout is not None else ids
        self._pages.clear()
        self._reading.clear()
        self._shown += 1
        self._thread_counts.clear()
        self._range_anchor = None
        if anchor_id is not None and anchor_id in self._ids:
            self._range_anchor = self._index_of(anchor_id, hint=0)
        if not same_folder:
            self.marked.clear()
        self.virtual_size = Size(self.size.width, len(ids))
        target = keep_index if keep_index is not None else 0
        if keep_row_id is not None:
            target = self._index_of(keep_row_id, hint=self.cursor if keep_index is None else keep_index)
        self._set_cursor(target, force=True)
        if not same_folder:
            self.scroll_to(y=0, animate=False, immediate=True)
        self._scroll_cursor_into_view()
        self.refresh()

    def _index_of(self, row_id: int, hint: int) -> int:
        ids = self._ids
        if 0 <= hint < len(ids) and ids[hint] == row_id:
            return hint
        try:
            return ids.index(row_id)
        except (ValueError, AttributeError):
            return min(hint, max(len(ids) - 1, 0))

    def row_at(self, index: int) -> MessageRow | None:
        """The row at ``index`` in the vector, read through the page cache."""
        if not 0 <= index < len(self._ids):
            return None
        page_no = index // PAGE_SIZE
        page = self._pages.get(page_no)
        if page is None:
            page = self._keep_page(page_no, self._read_rows(self._page_ids(page_no)))
        else:
            self._pages.move_to_end(page_no)
        return page.get(self._ids[index])

    def _page_ids(self, page_no: int) -> list[int]:
        return list(self._ids[page_no * PAGE_SIZE : (page_no + 1) * PAGE_SIZE])

    def _keep_page(self, page_no: int, rows: Iterable[MessageRow]) -> dict[int, MessageRow]:
        page = {row.row_id: row for row in rows}
        self._pages[page_no] = page
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)
        return page

    def _read_ahead(self) -> None:
        """Read the pages just above and below the visible rows in a thread, so that moving on
        finds them cached instead of reading the cache on the UI thread, between key and frame."""
        if not self._ids or not self.is_mounted:
            return
        top = self.scroll_offset.y
        bottom = top + self.scrollable_content_region.height
        last = len(self._ids) - 1
        for index in (max(0, top - READ_AHEAD), min(last, bottom + READ_AHEAD)):
            page_no = index // PAGE_SIZE
            if page_no in self._pages or page_no in self._reading:
                continue
            self._reading.add(page_no)
            self.run_worker(
                partial(self._read_page, self._shown, page_no, self._page_ids(page_no)),
                thread=True,
                group="read-ahead",
            )

    def _read_page(self, shown: int, page_no: int, page_ids: list[int]) -> None:
        rows = self._read_rows(page_ids)
        try:
            self.app.call_from_thread(self._page_read, shown, page_no, rows)
        except RuntimeError:  # the app has stopped meanwhile
            pass

    def _page_read(self, shown: int, page_no: int, rows: list[MessageRow]) -> None:
        if shown != self._shown:  # the list was shown anew meanwhile: the page may be stale
            return
        self._reading.discard(page_no)
        if page_no not in self._pages:
            self._keep_page(page_no, rows)

    @property
    def current_row(self) -> MessageRow | None:
        return self.row_at(self.cursor)

    def is_unread(self, row: MessageRow) -> bool:
        return SEEN not in row.flags

    def reread(self, row_ids: Sequence[int]) -> None:
        """Read ``row_ids`` again through the service (triage acted on them): the ones it no
        longer lists (moved, deleted) leave the view at once, the others show as it has them
        now (flags). Only these rows are read, at once for a few, in a thread for many."""
        if not row_ids:
            return
        if len(row_ids) <= REREAD_AT_ONCE:
            self._reread_done(self._shown, row_ids, self._read_rows(row_ids))
        else:
            self.run_worker(partial(self._reread_in_thread, self._shown, row_ids), thread=True, group="reread")

    def _reread_in_thread(self, shown: int, row_ids: Sequence[int]) -> None:
        rows = self._read_rows(row_ids)
        try:
            self.app.call_from_thread(self._reread_done, shown, row_ids, rows)
        except RuntimeError:  # the app has stopped meanwhile
            pass

    def _reread_done(self, shown: int, row_ids: Sequence[int], rows: list[MessageRow]) -> None:
        if shown != self._shown:  # the list was read anew meanwhile: it has them as they are
            return
        fresh = {row.row_id: row for row in rows}
        for page in self._pages.values():
            for row_id in page.keys() & fresh.keys():
                page[row_id] = fresh[row_id]
        self._thread_counts.clear()
        gone = set(row_ids) - fresh.keys()
        if gone:
            self.remove_rows(gone)
        else:
            self.refresh()

    def remove_rows(self, row_ids: set[int]) -> None:
        """Take rows out of the view at once (moved or deleted); the cursor goes to the next row."""
        if not row_ids:
            return
        cursor = self.cursor
        current = self._ids[cursor] if cursor < len(self._ids) else None
        self.marked -= row_ids
        if self.threads is not None:
            before = sum(1 for row_id in self._ids[:cursor] if row_id in row_ids)
            layout = self.threads.without(row_ids)
            ids: Sequence[int] = layout.ids
        else:
            layout = None
            ids, positions = _without(self._ids, row_ids)
            before = sum(1 for position in positions if position < cursor)
        keep = current if current is not None and current not in row_ids else None
        assert self.folder is not None
        self.show_folder(self.folder, ids, keep, layout=layout, keep_index=cursor - before)

    # --- marks ---------------------------------------------------------------------------------

    def action_mark(self) -> None:
        if not self._ids:
            return
        row_id = self._ids[self.cursor]
        if row_id in self.marked:
            self.marked.discard(row_id)
        else:
            self.marked.add(row_id)
        self.refresh()
        self._set_cursor(self.cursor + 1)

    def action_mark_range(self) -> None:
        if self._range_anchor is None:
            self._range_anchor = self.cursor
            self._range_base = set(self.marked)
            self._extend_range()
        else:
            self._range_anchor = None
        self.refresh()

    def _extend_range(self) -> None:
        if self._range_anchor is None or not self._ids:
            return
        low, high = sorted((self._range_anchor, self.cursor))
        self.marked = self._range_base | set(self._ids[low : high + 1])

    def action_mark_all(self) -> None:
        self._range_anchor = None
        self.marked = set(self._ids)
        self.refresh()

    def clear_marks(self) -> None:
        self._range_anchor = None
        self.marked = set()
        self.refresh()

    def action_clear_marks(self) -> None:
        if self.marked or self._range_anchor is not None:
            self.clear_marks()
        else:
            self.post_message(self.Back())

    # --- threads -------------------------------------------------------------------------------

    def action_toggle_thread(self) -> None:
        if self.threads is None or not self._ids:
            return
        root = self.threads.toggle(self.cursor)
        self._show_layout(root)

    def toggle_all_threads(self) -> None:
        """Collapse every thread, or expand them all when all are collapsed."""
        if self.threads is None:
            return
        cursor_root = self.threads.all_ids.index(self.threads.thread_ids(self.cursor)[0]) if self._ids else 0
        self.threads.set_all(not self.threads.all_collapsed)
        target = bisect_right(self.threads.source, cursor_root) - 1 if self._ids else 0
        self._show_layout(max(target, 0))

    def _show_layout(self, cursor: int) -> None:
        assert self.threads is not None and self.folder is not None
        self.show_folder(self.folder, (), layout=self.threads, keep_index=cursor)

    def thread_at(self, index: int) -> Sequence[int]:
        """The ids a triage action at ``index`` covers: a collapsed thread's, else the row's."""
        if self.threads is not None and self.threads.is_collapsed_at(index):
            return self.threads.thread_ids(index)
        return self._ids[index : index + 1]

    def _collapsed_counts(self, index: int, row_id: int) -> tuple[int, int]:
        """(unread, flagged) messages of the collapsed thread at ``index``, read once."""
        counts = self._thread_counts.get(row_id)
        if counts is None:
            rows = self._read_rows(list(self.thread_at(index)))
            counts = (sum(1 for row in rows if self.is_unread(row)), sum(1 for row in rows if FLAGGED in row.flags))
            self._thread_counts[row_id] = counts
        return counts

    def _thread_subject(self, subject: str, index: int, row_id: int, width: int) -> str:
        """The subject cell in thread view: the tree's branches, then the subject; a collapsed
        thread ends with its size and its unread and flagged counts, which are never cut off."""
        assert self.threads is not None
        size = self.threads.sizes[index]
        depths = self.threads.depths
        if depths[index] > 0:
            prefix = self.threads.branches(index, max(2, width // 6))  # a third of the cell, at most
        else:
            has_replies = index + 1 < len(depths) and depths[index + 1] > 0
            prefix = thread_prefix(collapsed=size > 0, has_replies=has_replies)
        suffix = ""
        if size:
            suffix = " " + thread_summary(size, *self._collapsed_counts(index, row_id))
        return prefix + fit(subject, max(0, width - len(prefix) - len(suffix))).rstrip() + suffix

    # --- cursor --------------------------------------------------------------------------------

    def _set_cursor(self, index: int, *, force: bool = False) -> None:
        last = len(self._ids) - 1
        index = max(0, min(index, last)) if last >= 0 else 0
        if index != self.cursor:
            self.cursor = index
        elif force:
            self.post_message(self.Highlighted(self.current_row))

    def watch_cursor(self, old: int, new: int) -> None:
        if self._range_anchor is not None:
            self._extend_range()
            self.refresh()
        self.refresh_line(old)  # ScrollView's refresh_line takes a row of the list, not of the screen
        self.refresh_line(new)
        self._scroll_cursor_into_view()
        self.post_message(self.Highlighted(self.current_row))
        self._read_ahead()

    def _scroll_cursor_into_view(self) -> None:
        height = self.scrollable_content_region.height
        if height <= 0:
            return
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def _row_total(self) -> int:
        return len(self._ids)

    def action_open(self) -> None:
        row = self.current_row
        if row is not None:
            self.post_message(self.Opened(row))

    def on_click(self, event: events.Click) -> None:
        """A click puts the cursor on the row clicked (and the focus on the list); a double
        click opens it, as Enter does."""
        index = self.scroll_offset.y + event.y
        if not 0 <= index < len(self._ids):
            return
        event.stop()
        self.focus()
        self._set_cursor(index)
        if event.chain >= 2:
            self.action_open()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """As ScrollView's, except that the scrollbar is redrawn only when its picture changes.

        In a big folder the thumb moves an eighth of a cell every thousand rows or so, while
        redrawing the bar costs about as much as the rows that scrolled; its position is still
        kept exact (dragging it starts from where the list is).
        """
        if self.show_vertical_scrollbar:
            bar = self.vertical_scrollbar
            bar.set_reactive(ScrollBar.position, new_value)
            picture = _bar_picture(bar)
            if picture != self._bar_picture:
                self._bar_picture = picture
                bar.refresh()
        if round(old_value) != round(new_value):
            self.refresh(self.size.region)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self._ids))
        self._scroll_cursor_into_view()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # --- painting ------------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        # Styles and width are read once per frame, not once per line: each read walks the
        # widget's ancestors, which costs more than drawing the line itself.
        self._frame = _Frame(self.rich_style, self.scrollable_content_region.width, {})
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def _current_frame(self) -> _Frame:
        return self._frame or _Frame(self.rich_style, self.scrollable_content_region.width, {})

    def _row_style(self, frame: _Frame, classes: tuple[str, ...]) -> Style:
        style = frame.styles.get(classes)
        if style is None:
            style = frame.base
            for name in classes:
                style += self.get_component_rich_style(name, partial=True)
            frame.styles[classes] = style
        return style

    def render_line(self, y: int) -> Strip:
        frame = self._current_frame()
        width, base = frame.width, frame.base
        index = self.scroll_offset.y + y
        if not self._ids:
            if y == 0:
                text = "Loading…" if self.index_pending else "No messages"
                style = base + self.get_component_rich_style("message-list--empty", partial=True)
                return Strip([Segment(set_cell_size(" " + text, width), style)], width)
            return Strip.blank(width, base)
        if index >= len(self._ids):
            return Strip.blank(width, base)
        row = self.row_at(index)
        if row is None:
            return Strip([Segment(" " * width, base)], width)
        return Strip(self._row_segments(row, index, frame), width)

    def _row_segments(self, row: MessageRow, index: int, frame: _Frame) -> list[Segment]:
        width = frame.width
        marked = row.row_id in self.marked
        classes: list[str] = []
        if self.is_unread(row):
            classes.append("message-list--unread")
        if FLAGGED in row.flags:
            classes.append("message-list--flagged")
        if marked:
            classes.append("message-list--marked")
        if index == self.cursor:
            classes.append("message-list--cursor" if self.has_focus else "message-list--cursor-blurred")
        style = self._row_style(frame, tuple(classes))
        account = fit(row.account, ACCOUNT_WIDTH) + " " if self.show_account else ""
        sender_width = max(8, min(24, (width - 16 - len(account)) // 3))
        subject_width = max(0, width - 5 - 1 - len(account) - DATE_WIDTH - 1 - sender_width - 1)
        date = short_date(row.date, self._now())
        subject = row.subject or "(no subject)"
        if self.threads is None:
            subject = fit(subject, subject_width)
        else:  # fitted inside; fit() would strip the spaces the branches may start with
            subject = set_cell_size(self._thread_subject(subject, index, row.row_id, subject_width), subject_width)
        line = (
            ("*" if marked else " ")
            + flag_column(row)
            + " "
            + account
            + date.ljust(DATE_WIDTH)
            + " "
            + fit(correspondent(row, to_shown=self.to_shown, own=self.own_addresses), sender_width)
            + " "
            + subject
        )
        return [Segment(set_cell_size(line, width), style)]
