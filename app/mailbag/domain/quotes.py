"""Quoted text, attributions and the signature in a body's text, and the body with its quotes
folded away.

Works on the rendered text (plain, or HTML turned into text, where a blockquote became "> "),
line by line: a line's quote level is the number of ``>`` markers it starts with, spaces allowed
before and between them (``>``, ``> >``, ``>>``, `` > ``). An mbox-escaped ``>From `` line
outside a quote is text. A *quote block* is a run of quoted lines, with the blank lines between
them, and the attribution line ("On ... wrote:") just above it. The signature runs from a
``-- `` line outside any quote to the next quote block, the next part shown inline (a line
``[-- ... --]``, such as ``[-- Attached message --]``) or the end.

Only line kinds and block ranges come out of here; the text itself is never changed.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from mailbag.domain.wording import plural


class LineKind(IntEnum):
    """How a line of the body is shown."""

    TEXT = 0
    QUOTE_1 = 1
    QUOTE_2 = 2
    QUOTE_3 = 3  # and deeper
    SIGNATURE = 4
    FOLDED = 5  # "[42 quoted lines]" standing for a folded quote block


_MARKERS = re.compile(r"[ \t]*>(?:[ \t]*>)*")
_MAY_QUOTE = frozenset("> \t")  # a quoted line's first character
_MBOX_FROM = re.compile(r">From ")
#: "wrote:" and its translations; an attribution line ends with a colon.
_ATTRIBUTION_VERB = re.compile(
    r"\b(?:wrote|writes|said|a écrit|schrieb|escribió|ha scritto|schreef|skrev|kirjoitti|"
    r"napisał|написал|написала|escreveu|yazdı)\b|写道",
    re.IGNORECASE,
)
#: How a wrapped attribution's first line starts ("On Mon, 1 Jan 2024 at 10:00, Alice <" / "a@b> wrote:").
_ATTRIBUTION_OPENER = re.compile(r"(?:On|Le|Am|El|Il|Op|Em|Den|W dniu)\s", re.IGNORECASE)
#: A signature separator line, in the text with a newline put before it (a literal start is found fast).
_SEPARATOR = re.compile(r"\n-- ?(?=\n|\Z)")
#: A "--" separator without its trailing space (stripped on the way) opens a signature only this short.
_SHORT_SIGNATURE_LINES = 15


def quote_level(line: str) -> int:
    """How many quote markers ``line`` starts with (0: not quoted)."""
    match = _MARKERS.match(line)
    return match.group().count(">") if match else 0


@dataclass(frozen=True, slots=True)
class QuoteBlock:
    """Lines ``start`` to ``end`` (excluded): the attribution, if any, then quoted lines from
    ``quoted``."""

    start: int
    quoted: int
    end: int


@dataclass(frozen=True, slots=True)
class BodyLayout:
    """A body's lines, how each is shown, and its quote blocks (in order).

    ``origin[i]`` is the line of the whole body that line ``i`` stands for (the same index
    unless quotes are folded: a folded block's line stands for its first quoted line).
    """

    lines: Sequence[str]
    kinds: Sequence[int]
    blocks: tuple[QuoteBlock, ...]
    origin: Sequence[int]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def line_of(self, original: int) -> int:
        """The line that shows ``original``, a line of the whole body."""
        return max(0, bisect_right(self.origin, original) - 1)

    def next_unquoted(self, line: int) -> int | None:
        """The first non-blank line past the quote block at or after ``line`` (and past any
        block that only blank lines part from it); None when no text follows a quote."""
        position, passed = line, False
        for block in self.blocks:
            if block.end <= position:
                continue
            if passed and block.start > position and self._has_text(position, block.start):
                break
            position, passed = block.end, True
        return self._first_text(position) if passed else None

    def _has_text(self, start: int, end: int) -> bool:
        return any(self.lines[i].strip() for i in range(max(start, 0), end))

    def _first_text(self, start: int) -> int | None:
        for i in range(start, len(self.lines)):
            if self.lines[i].strip():
                return i
        return None


def layout_body(text: str) -> BodyLayout:
    """Find the quote levels, quote blocks, attributions and signature of ``text``."""
    lines = text.split("\n")
    levels = [quote_level(line) if line[:1] in _MAY_QUOTE else 0 for line in lines]
    quoted = [i for i, level in enumerate(levels) if level]
    if quoted:
        _unescape_mbox_from(lines, levels, quoted)
        quoted = [i for i in quoted if levels[i]]
    kinds: list[int] = [min(level, 3) for level in levels] if quoted else [LineKind.TEXT] * len(lines)
    _nested_attributions(lines, levels, kinds, quoted)
    blocks = tuple(_with_attribution(lines, levels, block) for block in _blocks(lines, levels, quoted))
    for block in blocks:
        for i in range(block.start, block.quoted):
            kinds[i] = LineKind.QUOTE_1
    _mark_signature(text, lines, levels, kinds, blocks)
    return BodyLayout(lines, kinds, blocks, range(len(lines)))


def plain_layout(text: str) -> BodyLayout:
    """``text`` shown as it is: no quotes, no signature (for mailbag's own words)."""
    lines = text.split("\n")
    return BodyLayout(lines, [LineKind.TEXT] * len(lines), (), range(len(lines)))


def fold_quotes(layout: BodyLayout) -> BodyLayout:
    """``layout`` with each block's quoted lines folded into one "[N quoted lines]" line (its
    attribution stays above it)."""
    if not layout.blocks:
        return layout
    lines: list[str] = []
    kinds: list[int] = []
    origin: list[int] = []
    blocks: list[QuoteBlock] = []
    done = 0
    for block in layout.blocks:
        lines.extend(layout.lines[done : block.quoted])
        kinds.extend(layout.kinds[done : block.quoted])
        origin.extend(range(done, block.quoted))
        start = len(lines) - (block.quoted - block.start)
        count = block.end - block.quoted
        lines.append(f"[{plural(count, 'quoted line')}]")
        kinds.append(LineKind.FOLDED)
        origin.append(block.quoted)
        blocks.append(QuoteBlock(start, len(lines) - 1, len(lines)))
        done = block.end
    lines.extend(layout.lines[done:])
    kinds.extend(layout.kinds[done:])
    origin.extend(range(done, len(layout.lines)))
    return BodyLayout(lines, kinds, tuple(blocks), origin)


# --- the steps of layout_body ------------------------------------------------------------------


def _unescape_mbox_from(lines: list[str], levels: list[int], quoted: list[int]) -> None:
    """A ">From " line (mbox escaping of "From ") is text unless it sits in a quote."""
    for i in quoted:
        if levels[i] == 1 and _MBOX_FROM.match(lines[i]):
            before = levels[i - 1] if i else 0
            after = levels[i + 1] if i + 1 < len(lines) else 0
            if not before and not after:
                levels[i] = 0


def _blocks(lines: list[str], levels: list[int], quoted: list[int]) -> list[QuoteBlock]:
    """Runs of quoted lines, joined across blank lines."""
    blocks: list[QuoteBlock] = []
    start = end = -1
    for i in quoted:
        if i < end:
            continue
        if start < 0 or any(lines[j].strip() for j in range(end, i)):
            if start >= 0:
                blocks.append(QuoteBlock(start, start, end))
            start = i
        end = i + 1
        while end < len(levels) and levels[end]:
            end += 1
    if start >= 0:
        blocks.append(QuoteBlock(start, start, end))
    return blocks


def _with_attribution(lines: list[str], levels: list[int], block: QuoteBlock) -> QuoteBlock:
    """The block, starting at its attribution line(s) when they are just above it (one blank
    line between allowed)."""
    i = block.quoted - 1
    if i >= 0 and not lines[i].strip():
        i -= 1
    if i < 0 or levels[i] or not _is_attribution(lines[i]):
        return block
    previous = i - 1
    if (
        previous >= 0
        and not levels[previous]
        and _ATTRIBUTION_OPENER.match(lines[previous].lstrip())
        and not _ATTRIBUTION_OPENER.match(lines[i].lstrip())
    ):
        i = previous  # an attribution wrapped onto two lines
    return QuoteBlock(i, block.quoted, block.end)


def _is_attribution(line: str) -> bool:
    stripped = line.strip()
    return stripped.endswith(":") and len(stripped) < 300 and _ATTRIBUTION_VERB.search(stripped) is not None


def _nested_attributions(lines: list[str], levels: list[int], kinds: list[int], quoted: list[int]) -> None:
    """An attribution inside a quote ("> Bob wrote:" over ">> ...") is shown as the quote it opens."""
    count = len(lines)
    for i in quoted:
        level = levels[i]
        if not lines[i].rstrip().endswith(":"):
            continue
        following = i + 1
        if following < count and levels[following] == level and not lines[following].strip(" \t>"):
            following += 1
        if following < count and levels[following] > level and _is_attribution(lines[i].lstrip(" \t>")):
            kinds[i] = min(levels[following], 3)


def _mark_signature(
    text: str, lines: list[str], levels: list[int], kinds: list[int], blocks: Sequence[QuoteBlock]
) -> None:
    """From a "-- " line outside quotes to the next quote block, inline part or the end."""
    starts: list[int] | None = None  # where a signature ends: found once a separator is
    count, done, line_number, position = len(lines), 0, 0, 0
    text = "\n" + text
    for match in _SEPARATOR.finditer(text):
        line_number += text.count("\n", position, match.start())
        position = match.start()
        i = line_number
        if i < done or levels[i] or kinds[i]:
            continue
        if starts is None:
            starts = sorted([block.start for block in blocks] + _part_marks(lines))
        end = next((start for start in starts if start > i), count)
        if lines[i] == "--" and end - i > _SHORT_SIGNATURE_LINES:
            continue
        kinds[i:end] = [LineKind.SIGNATURE] * (end - i)
        done = end


def _part_marks(lines: list[str]) -> list[int]:
    """The lines that begin or end a part shown inline, e.g. ``[-- Attached message --]``."""
    return [number for number, line in enumerate(lines) if line.startswith("[-- ") and line.endswith(" --]")]
