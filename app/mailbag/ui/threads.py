"""Thread view over a ``ThreadedIndex``: collapsing and expanding done on flat integer arrays.

No object is created per message: the folder's row ids and depths stay in ``array``s, and the
visible rows (with collapsed threads folded into their first message) are rebuilt as arrays too.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Collection, Sequence


class ThreadLayout:
    """A folder in thread order, with some threads collapsed.

    A thread starts at each row of depth 0 and runs to the next one. Visible rows are ``ids``;
    ``depths[i]`` is the indentation of visible row ``i`` and ``sizes[i]`` the number of messages
    folded into it (0 unless it is a collapsed thread of more than one message).
    """

    def __init__(self, row_ids: Sequence[int], depths: Sequence[int]) -> None:
        self.all_ids = array("q", row_ids)
        self.all_depths = array("l", depths)
        starts = array("l")
        for position, depth in enumerate(self.all_depths):
            if depth == 0 or position == 0:
                starts.append(position)
        self._starts = starts
        # The tree's shape (each row's parent, whether it is its parent's last reply) is worked
        # out a thread at a time, when one of its rows is first drawn.
        self._parents = array("l")
        self._last = bytearray()
        self._shaped: set[int] = set()  # start positions of the threads worked out
        self._collapsed: set[int] = set()  # root row ids, or exceptions when ``_all`` is set
        self._all = False
        self.ids = array("q")
        self.depths = array("l")
        self.sizes = array("l")
        self._source = array("l")  # visible index -> position in all_ids
        self.rebuild()

    def _shape(self, start: int, end: int) -> None:
        """Each row's parent and whether it is the last reply to it, for the thread at
        ``start:end``: one pass down for the parents, one pass up for the last replies."""
        if not self._parents:
            self._parents = array("l", [-1]) * len(self.all_ids)
            self._last = bytearray(len(self.all_ids))
        depths, parents, last = self.all_depths, self._parents, self._last
        ancestors: list[tuple[int, int]] = []  # (depth, position) of the rows above, outermost first
        for position in range(start, end):
            depth = depths[position]
            while ancestors and ancestors[-1][0] >= depth:
                ancestors.pop()
            if ancestors:
                parents[position] = ancestors[-1][1]
            ancestors.append((depth, position))
        later: list[int] = []  # depths of the nearest rows below, shallowest first
        for position in range(end - 1, start - 1, -1):
            depth = depths[position]
            while later and later[-1] > depth:
                later.pop()
            if not later or later[-1] != depth:
                last[position] = 1
                later.append(depth)
        self._shaped.add(start)

    def branches(self, visible_index: int, max_levels: int) -> str:
        """The tree drawn before a reply's subject, as mutt draws it: ``│ `` under each ancestor
        that has a later sibling, then ``├─`` (more replies to the same message follow) or ``└─``
        (the last one). Deeper than ``max_levels`` the outer levels give way to one ``…``."""
        position = self._source[visible_index]
        depth = self.all_depths[position]
        if depth <= 0:
            return ""
        start, end = self._thread_bounds(position)
        if start not in self._shaped:
            self._shape(start, end)
        last, parents = self._last, self._parents
        cells = ["└─" if last[position] else "├─"]
        ancestor = parents[position]
        levels = min(depth, max(1, max_levels))
        for _ in range(levels - 1):
            if ancestor < 0 or self.all_depths[ancestor] <= 0:
                break
            cells.append("  " if last[ancestor] else "│ ")
            ancestor = parents[ancestor]
        if depth > levels:
            cells[-1] = "…" + cells[-1][1:]
        return "".join(reversed(cells))

    @property
    def source(self) -> Sequence[int]:
        """Visible index -> position in ``all_ids``."""
        return self._source

    # --- structure -----------------------------------------------------------------------------

    def _thread_bounds(self, position: int) -> tuple[int, int]:
        """(start, end) positions in ``all_ids`` of the thread holding ``position``."""
        n = bisect_right(self._starts, position) - 1
        start = self._starts[max(n, 0)]
        end = self._starts[n + 1] if n + 1 < len(self._starts) else len(self.all_ids)
        return start, end

    def thread_ids(self, visible_index: int) -> Sequence[int]:
        """Every row id of the thread shown at ``visible_index``."""
        start, end = self._thread_bounds(self._source[visible_index])
        return self.all_ids[start:end]

    def is_collapsed_at(self, visible_index: int) -> bool:
        return 0 <= visible_index < len(self.sizes) and self.sizes[visible_index] > 0

    # --- collapsing ----------------------------------------------------------------------------

    def _is_collapsed(self, root_id: int) -> bool:
        return (root_id in self._collapsed) != self._all

    def toggle(self, visible_index: int) -> int:
        """Collapse or expand the thread at ``visible_index``; return the root's new visible index."""
        if not 0 <= visible_index < len(self.ids):
            return visible_index
        start, _ = self._thread_bounds(self._source[visible_index])
        root_id = self.all_ids[start]
        if root_id in self._collapsed:
            self._collapsed.discard(root_id)
        else:
            self._collapsed.add(root_id)
        self.rebuild()
        return bisect_right(self._source, start) - 1

    @property
    def all_collapsed(self) -> bool:
        return self._all and not self._collapsed

    def set_all(self, collapsed: bool) -> None:
        """Collapse (or expand) every thread."""
        self._all = collapsed
        self._collapsed.clear()
        self.rebuild()

    def keep_state_of(self, other: ThreadLayout) -> None:
        """Carry which threads are collapsed over from the previous layout of the same folder."""
        self._all = other._all
        self._collapsed = set(other._collapsed)
        self.rebuild()

    def rebuild(self) -> None:
        ids, depths, sizes, source = array("q"), array("l"), array("l"), array("l")
        all_ids, all_depths, starts = self.all_ids, self.all_depths, self._starts
        total = len(all_ids)
        if not self._all and not self._collapsed:
            self.ids, self.depths = array("q", all_ids), array("l", all_depths)
            self.sizes = array("l", bytes(total * self.sizes.itemsize))
            self._source = array("l", range(total))
            return
        for n, start in enumerate(starts):
            end = starts[n + 1] if n + 1 < len(starts) else total
            if end - start > 1 and self._is_collapsed(all_ids[start]):
                ids.append(all_ids[start])
                depths.append(0)
                sizes.append(end - start)
                source.append(start)
            else:
                ids.extend(all_ids[start:end])
                depths.extend(all_depths[start:end])
                sizes.extend(array("l", [0]) * (end - start))
                source.extend(range(start, end))
        self.ids, self.depths, self.sizes, self._source = ids, depths, sizes, source

    def without(self, removed: Collection[int]) -> ThreadLayout:
        """A copy without the rows ``removed``; a thread whose first message went keeps its rest."""
        ids, depths = array("q"), array("l")
        root_removed = False
        for row_id, depth in zip(self.all_ids, self.all_depths):
            if row_id in removed:
                root_removed = root_removed or depth == 0
                continue
            if depth == 0:
                root_removed = False
            elif root_removed:
                depth, root_removed = 0, False
            ids.append(row_id)
            depths.append(depth)
        layout = ThreadLayout(ids, depths)
        layout.keep_state_of(self)
        return layout
