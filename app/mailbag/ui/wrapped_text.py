"""A long text as screen rows, wrapped a block at a time as the rows are needed.

The lines are grouped into blocks of a few KB (a line longer than a block is cut into pieces,
after a space where there is one), once per text. A block's rows are counted from its length
until it is first shown; then it is wrapped, and its rows kept until the width changes. So
opening a 5 MB body, or a body that is one 5 MB line, wraps only the rows on screen, and paging
through it wraps one screen at a time.

Each row also knows where the links written out in its line are (http, https and mailto URLs,
found when its block is wrapped): the reader paints them as terminal hyperlinks (OSC 8).

Rows are numbered from 0 at the top. Wrapping a block can change its count, which moves the
rows below it; :meth:`WrappedText.settle` wraps the blocks of a range of rows until the range
holds only wrapped blocks, so that what is painted there is exact and stays where it is.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

from mailbag.domain.links import OPENABLE_SCHEMES, find_urls
from mailbag.ui.wrap import wrap_line

#: About how many characters a block holds, and at most how many lines.
BLOCK_CHARS = 4096
BLOCK_LINES = 256
TAB_SIZE = 8


@dataclass(frozen=True, slots=True)
class Block:
    """Lines ``first`` to ``end`` (excluded), or the characters ``start`` to ``stop`` of the
    line ``first`` when it is a piece of a long line (``stop`` is -1 for whole lines)."""

    first: int
    end: int
    start: int = 0
    stop: int = -1


#: A link on a row: its first and end columns (characters of the row's text), and its target.
LinkSpan = tuple[int, int, str]


@dataclass(frozen=True, slots=True)
class Row:
    """One screen row: the line of the text it shows part of, its characters, and the links on
    it (a link wrapped over rows is on each of them, with its whole target)."""

    line: int
    text: str
    links: tuple[LinkSpan, ...] = ()


def make_blocks(lines: Sequence[str]) -> list[Block]:
    """Group ``lines`` into blocks of about :data:`BLOCK_CHARS` characters."""
    blocks: list[Block] = []
    first = size = 0
    for index, line in enumerate(lines):
        length = len(line)
        if length > BLOCK_CHARS:
            if first < index:
                blocks.append(Block(first, index))
            blocks.extend(Block(index, index + 1, start, stop) for start, stop in _pieces(line))
            first, size = index + 1, 0
            continue
        size += length + 1
        if size >= BLOCK_CHARS or index + 1 - first >= BLOCK_LINES:
            blocks.append(Block(first, index + 1))
            first, size = index + 1, 0
    if first < len(lines) or not blocks:
        blocks.append(Block(first, max(len(lines), first + 1)))
    return blocks


def _pieces(line: str) -> list[tuple[int, int]]:
    """A long line cut about every :data:`BLOCK_CHARS` characters, after a space if there is one
    in the second half of the piece."""
    pieces = []
    position, length = 0, len(line)
    while position < length:
        stop = position + BLOCK_CHARS
        if stop < length:
            space = line.rfind(" ", position + BLOCK_CHARS // 2, stop)
            stop = space + 1 if space >= 0 else stop
        else:
            stop = length
        pieces.append((position, stop))
        position = stop
    return pieces


class WrappedText:
    """``lines`` as rows ``width`` cells wide, wrapped lazily (see the module's docstring)."""

    def __init__(self, lines: Sequence[str], width: int) -> None:
        self.lines = lines
        self.blocks = make_blocks(lines)
        self.width = 0
        self._rows: dict[int, list[Row]] = {}
        self._counts: list[int] = []
        self._starts: list[int] = [0]
        self.set_width(width)

    @property
    def height(self) -> int:
        """The number of rows (exact for the wrapped blocks, estimated for the others)."""
        return self._starts[-1]

    def set_width(self, width: int) -> None:
        """Wrap at ``width`` cells from now on (forgets the rows wrapped so far)."""
        width = max(width, 2)
        if width == self.width:
            return
        self.width = width
        self._rows.clear()
        self._counts = [self._estimate(block) for block in self.blocks]
        self._restart()

    def row(self, y: int) -> Row | None:
        """Row ``y`` (None past the end); wraps its block if that has not been done."""
        if y < 0 or y >= self.height:
            return None
        block = self._block_at(y)
        if block not in self._rows:
            self._wrapped(block)
            self._restart()  # the rows below it may move; those above it stay
        rows = self._rows[block]
        offset = y - self._starts[block]
        return rows[offset] if offset < len(rows) else None

    def settle(self, top: int, bottom: int) -> bool:
        """Wrap every block that rows ``top`` to ``bottom`` (excluded) show, until they show no
        other; True when the height changed."""
        changed = False
        while True:
            start = self._block_at(max(top, 0))
            stop = self._block_at(max(min(bottom, self.height) - 1, 0))
            todo = [b for b in range(start, stop + 1) if b not in self._rows]
            if not todo:
                return changed
            for block in todo:
                self._wrapped(block)
            if self._restart():
                changed = True

    def settle_end(self, rows: int) -> bool:
        """Wrap the blocks at the end until they hold ``rows`` rows (for End)."""
        changed, block, held = False, len(self.blocks) - 1, 0
        while block >= 0 and held < rows:
            held += len(self._wrapped(block))
            block -= 1
        if self._restart():
            changed = True
        return changed

    def line_at(self, y: int) -> int:
        """The line of the text shown on row ``y``."""
        row = self.row(min(max(y, 0), max(self.height - 1, 0)))
        return row.line if row is not None else 0

    def row_of_line(self, line: int) -> int:
        """The first row of ``line``."""
        block = max(bisect_right([b.first for b in self.blocks], line) - 1, 0)
        while block > 0 and self.blocks[block - 1].first == line:
            block -= 1  # the first piece of a long line
        rows = self._wrapped(block)
        self._restart()
        offset = next((i for i, row in enumerate(rows) if row.line >= line), len(rows))
        return self._starts[block] + offset

    def anchor(self, y: int) -> tuple[int, int]:
        """Row ``y`` as (block, row in the block), which stays put when other blocks are wrapped."""
        block = self._block_at(y)
        return block, y - self._starts[block]

    def row_of_anchor(self, anchor: tuple[int, int]) -> int:
        block, offset = anchor
        return self._starts[block] + offset

    def text_of_rows(self, top: int, top_x: int, bottom: int, bottom_x: int | None) -> str:
        """The text from column ``top_x`` of row ``top`` to column ``bottom_x`` (None: the end)
        of row ``bottom``: a row continues its line's text, a new line starts after a newline."""
        parts: list[str] = []
        last_line: int | None = None
        for y in range(max(top, 0), min(bottom, self.height - 1) + 1):
            row = self.row(y)
            if row is None:
                continue
            text = row.text
            if y == bottom and bottom_x is not None:
                text = text[:bottom_x]
            if y == top:
                text = text[top_x:]
            if last_line is not None and row.line != last_line:
                parts.append("\n")
            parts.append(text)
            last_line = row.line
        return "".join(parts)

    # --- inside ---------------------------------------------------------------------------

    def _block_at(self, y: int) -> int:
        return min(max(bisect_right(self._starts, y) - 1, 0), len(self.blocks) - 1)

    def _restart(self) -> bool:
        """Count the rows again from the blocks' counts; True when the height changed."""
        height = self._starts[-1] if len(self._starts) > 1 else -1
        self._starts = [0, *accumulate(self._counts)]
        return self._starts[-1] != height

    def _estimate(self, block: Block) -> int:
        width = self.width
        if block.stop >= 0:
            return -(-(block.stop - block.start) // width)
        return sum(max(1, -(-len(line) // width)) for line in self.lines[block.first : block.end])

    def _wrapped(self, index: int) -> list[Row]:
        rows = self._rows.get(index)
        if rows is not None:
            return rows
        block = self.blocks[index]
        rows = []
        if block.stop >= 0:
            piece = self.lines[block.first][block.start : block.stop]
            rows = _rows(block.first, _expand(piece), self.width)
        else:
            for number in range(block.first, min(block.end, len(self.lines))):
                rows.extend(_rows(number, _expand(self.lines[number]), self.width))
            if not rows:
                rows = [Row(block.first, "")]
        self._rows[index] = rows
        self._counts[index] = len(rows)
        return rows


def _rows(number: int, line: str, width: int) -> list[Row]:
    """Line ``number`` (``line``) wrapped at ``width``, each row with the links on it."""
    pieces = wrap_line(line, width)
    links = _links(line) if "://" in line or "ailto:" in line or "AILTO:" in line else []
    if not links:
        return [Row(number, text) for text in pieces]
    rows, start = [], 0
    for text in pieces:
        end = start + len(text)
        spans = tuple((max(a, start) - start, min(b, end) - start, url) for a, b, url in links if a < end and b > start)
        rows.append(Row(number, text, spans))
        start = end
    return rows


def _links(line: str) -> list[LinkSpan]:
    """The http, https and mailto URLs of ``line``."""
    return [(a, b, url) for a, b, url in find_urls(line) if url.split(":", 1)[0].lower() in OPENABLE_SCHEMES]


def _expand(text: str) -> str:
    return text.expandtabs(TAB_SIZE) if "\t" in text else text
