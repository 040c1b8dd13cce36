"""Word wrapping of one line of text into screen rows, by terminal cells.

A row breaks after the last space that fits (the spaces stay at the end of the row, where they
are not seen), else, in a word longer than the row, at the width. Rows are slices of the text,
so joining them gives the text back.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate

from rich.cells import cell_len, get_character_cell_size


def wrap_line(text: str, width: int) -> list[str]:
    """``text`` (no newline in it) cut into rows of at most ``width`` cells, spaces aside."""
    width = max(width, 2)
    if len(text) <= width and (text.isascii() or cell_len(text) <= width):
        return [text]
    if text.isascii():
        return _wrap(text, width, None)
    prefix = [0, *accumulate(get_character_cell_size(character) for character in text)]
    return _wrap(text, width, prefix)


def _wrap(text: str, width: int, prefix: list[int] | None) -> list[str]:
    """Greedy wrapping; ``prefix[i]`` is the cells of ``text[:i]`` (None: one cell a character)."""
    rows: list[str] = []
    length, position = len(text), 0
    while position < length:
        if prefix is None:
            fits = position + width
        else:
            fits = max(bisect_right(prefix, prefix[position] + width) - 1, position + 1)
        if fits >= length:
            break
        cut = text.rfind(" ", position + 1, fits + 1)
        end = cut + 1 if cut > 0 else fits
        while end < length and text[end] == " ":
            end += 1
        rows.append(text[position:end])
        position = end
    if position < length or not rows:
        rows.append(text[position:])
    return rows
