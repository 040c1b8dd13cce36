"""What every list of one-row items with a cursor shares: the cursor and the keys that move it."""

from __future__ import annotations

from textual.reactive import reactive
from textual.scroll_view import ScrollView


class CursorList(ScrollView):
    """A scrolling list whose ``cursor`` is a row index; a subclass says how many rows it has
    (:meth:`_row_total`) and what a move does (:meth:`_set_cursor`, given any index)."""

    #: Index of the highlighted row. Not a repaint of the whole list: a subclass's
    #: ``watch_cursor`` refreshes the two rows that changed.
    cursor: reactive[int] = reactive(0, repaint=False, init=False)

    def _row_total(self) -> int:
        raise NotImplementedError

    def _set_cursor(self, index: int) -> None:
        raise NotImplementedError

    def _page_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def action_cursor_down(self) -> None:
        self._set_cursor(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self._set_cursor(self.cursor - 1)

    def action_first(self) -> None:
        self._set_cursor(0)

    def action_last(self) -> None:
        self._set_cursor(self._row_total() - 1)

    def action_page_down(self) -> None:
        self._set_cursor(self.cursor + self._page_height())

    def action_page_up(self) -> None:
        self._set_cursor(self.cursor - self._page_height())
