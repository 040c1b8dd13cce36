"""The message list: a Line-API scroll view over a folder's vector of row ids.

It holds only the id vector (from ``MailFacade.message_index``) and a small cache of pages of
``MessageRow`` objects read through ``rows()``, so a 100k-message folder costs one integer per
message and a screenful of rows.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from app.domain.models import SEEN, MessageRow
from app.ui.format import fit, flag_column, short_date
from app.ui.keymap import bindings

RowsReader = Callable[[Sequence[int]], list[MessageRow]]

PAGE_SIZE = 64
MAX_PAGES = 16
DATE_WIDTH = 10


@dataclass(frozen=True, slots=True)
class FolderKey:
    """Which folder the list shows."""

    account: str
    folder: str


class MessageList(ScrollView, can_focus=True):
    """Rows of one folder, newest first; the cursor row is highlighted."""

    BINDINGS = bindings("pane")

    COMPONENT_CLASSES = {
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
        scrollbar-size-vertical: 1;
    }
    MessageList > .message-list--unread { text-style: bold; color: $mailbag-unread; }
    MessageList > .message-list--flagged { color: $mailbag-flagged; }
    MessageList > .message-list--cursor { background: $mailbag-selected; }
    MessageList > .message-list--cursor-blurred { background: $mailbag-selected-blurred; }
    MessageList > .message-list--empty { color: $mailbag-muted; text-style: italic; }
    """

    cursor: reactive[int] = reactive(0, always_update=False, init=False)

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
        self._added_flags: dict[int, frozenset[str]] = {}
        self.folder: FolderKey | None = None
        self.index_pending = False

    # --- data ----------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._ids)

    def show_folder(self, folder: FolderKey, ids: Sequence[int], keep_row_id: int | None = None) -> None:
        """Show ``ids`` (newest first); keep the cursor on ``keep_row_id`` when it is still there."""
        same_folder = folder == self.folder
        self.folder = folder
        self._ids = ids
        self._pages.clear()
        if not same_folder:
            self._added_flags.clear()
        self.virtual_size = Size(self.size.width, len(ids))
        target = 0
        if keep_row_id is not None:
            target = self._index_of(keep_row_id, hint=self.cursor)
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
            return ids.index(row_id)  # type: ignore[union-attr]
        except (ValueError, AttributeError):
            return min(hint, max(len(ids) - 1, 0))

    def row_at(self, index: int) -> MessageRow | None:
        """The row at ``index`` in the vector, read through the page cache."""
        if not 0 <= index < len(self._ids):
            return None
        page_no = index // PAGE_SIZE
        page = self._pages.get(page_no)
        if page is None:
            page_ids = self._ids[page_no * PAGE_SIZE : (page_no + 1) * PAGE_SIZE]
            page = {row.row_id: row for row in self._read_rows(list(page_ids))}
            self._pages[page_no] = page
            while len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page_no)
        return page.get(self._ids[index])

    @property
    def current_row(self) -> MessageRow | None:
        return self.row_at(self.cursor)

    def mark_flags(self, row_id: int, add: frozenset[str]) -> None:
        """Show ``add`` on a row at once (optimistic), until the cache says so too."""
        self._added_flags[row_id] = self._added_flags.get(row_id, frozenset()) | add
        self.refresh()

    def unmark_flags(self, row_id: int, flags: frozenset[str]) -> None:
        """Roll back an optimistic change."""
        remaining = self._added_flags.get(row_id, frozenset()) - flags
        if remaining:
            self._added_flags[row_id] = remaining
        else:
            self._added_flags.pop(row_id, None)
        self.refresh()

    def is_unread(self, row: MessageRow) -> bool:
        return SEEN not in (row.flags | self._added_flags.get(row.row_id, frozenset()))

    # --- cursor --------------------------------------------------------------------------------

    def _set_cursor(self, index: int, *, force: bool = False) -> None:
        last = len(self._ids) - 1
        index = max(0, min(index, last)) if last >= 0 else 0
        if index != self.cursor:
            self.cursor = index
        elif force:
            self.post_message(self.Highlighted(self.current_row))

    def watch_cursor(self, old: int, new: int) -> None:
        scroll_y = self.scroll_offset.y
        self.refresh_line(old - scroll_y)
        self.refresh_line(new - scroll_y)
        self._scroll_cursor_into_view()
        self.post_message(self.Highlighted(self.current_row))

    def _scroll_cursor_into_view(self) -> None:
        height = self.scrollable_content_region.height
        if height <= 0:
            return
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def _page_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def action_cursor_down(self) -> None:
        self._set_cursor(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self._set_cursor(self.cursor - 1)

    def action_first(self) -> None:
        self._set_cursor(0)

    def action_last(self) -> None:
        self._set_cursor(len(self._ids) - 1)

    def action_page_down(self) -> None:
        self._set_cursor(self.cursor + self._page_height())

    def action_page_up(self) -> None:
        self._set_cursor(self.cursor - self._page_height())

    def action_open(self) -> None:
        row = self.current_row
        if row is not None:
            self.post_message(self.Opened(row))

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self._ids))
        self._scroll_cursor_into_view()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # --- painting ------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
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
        return Strip(self._row_segments(row, width, base, index == self.cursor), width)

    def _row_segments(self, row: MessageRow, width: int, base: Style, is_cursor: bool) -> list[Segment]:
        extra = self._added_flags.get(row.row_id, frozenset())
        style = base
        if self.is_unread(row):
            style += self.get_component_rich_style("message-list--unread", partial=True)
        if "\\Flagged" in (row.flags | extra):
            style += self.get_component_rich_style("message-list--flagged", partial=True)
        if is_cursor:
            name = "message-list--cursor" if self.has_focus else "message-list--cursor-blurred"
            style += self.get_component_rich_style(name, partial=True)
        sender_width = max(8, min(24, (width - 16) // 3))
        subject_width = max(0, width - 4 - 1 - DATE_WIDTH - 1 - sender_width - 1)
        date = short_date(row.date, self._now())
        line = (
            flag_column(row, extra)
            + " "
            + date.ljust(DATE_WIDTH)
            + " "
            + fit(row.sender or row.sender_email, sender_width)
            + " "
            + fit(row.subject or "(no subject)", subject_width)
        )
        return [Segment(set_cell_size(line, width), style)]
