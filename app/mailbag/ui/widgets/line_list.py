"""A list of one-row items with a cursor that paints only the rows on screen: opening it costs
the same for ten items or ten thousand (Textual's OptionList measures every option first)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from rich.segment import Segment
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.strip import Strip

from mailbag.ui.widgets.cursor_list import CursorList

T = TypeVar("T")


class LineList(CursorList, Generic[T], can_focus=True):
    """``items``, each shown as the one row ``line(item)`` makes (untrusted text as ``Text``,
    never markup), made only when the row is painted. Arrows, ``j`` ``k`` ``g`` ``G``, Home,
    End, PageUp and PageDown move the cursor; a click puts it on a row."""

    BINDINGS = [
        Binding("down,j", "cursor_down", "Next", show=False),
        Binding("up,k", "cursor_up", "Previous", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
    ]
    COMPONENT_CLASSES = {"line-list--cursor"}
    DEFAULT_CSS = """
    LineList {
        height: auto; max-height: 16; padding: 0 1;
        & > .line-list--cursor {
            color: $block-cursor-blurred-foreground; background: $block-cursor-blurred-background;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .line-list--cursor {
            color: $block-cursor-foreground; background: $block-cursor-background;
            text-style: $block-cursor-text-style;
        }
    }
    """


    def __init__(self, items: Sequence[T], line: Callable[[T], Text], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.items = items
        self._line = line
        self._lines: dict[int, Text] = {}  # the rows made so far
        self.virtual_size = Size(0, len(items))

    @property
    def current(self) -> T | None:
        """The item under the cursor (None when there are none)."""
        return self.items[self.cursor] if 0 <= self.cursor < len(self.items) else None

    def row_text(self, index: int) -> Text:
        """Item ``index``'s row."""
        text = self._lines.get(index)
        if text is None:
            text = self._lines[index] = self._line(self.items[index])
        return text

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.items)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = self.scroll_offset.y + y
        base = self.rich_style
        if index >= len(self.items):
            return Strip.blank(width, base)
        style = base
        if index == self.cursor:
            style = self.get_component_rich_style("line-list--cursor")
        text = self.row_text(index).copy()
        text.truncate(width, overflow="ellipsis", pad=True)
        segments = [Segment(s.text, style + s.style if s.style else style) for s in text.render(self.app.console)]
        return Strip(segments, width).crop(0, width)

    def watch_cursor(self, old: int, new: int) -> None:
        for index in (old, new):
            self.refresh(Region(0, index - self.scroll_offset.y, self.size.width, 1))
        self.scroll_to_region(Region(0, new, 1, 1), animate=False, force=True)

    def _row_total(self) -> int:
        return len(self.items)

    def _set_cursor(self, index: int) -> None:
        if self.items:
            self.cursor = max(0, min(index, len(self.items) - 1))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None:
            self._set_cursor(self.scroll_offset.y + offset.y)
