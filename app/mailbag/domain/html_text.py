"""HTML mail bodies as readable plain text, with the standard library's html.parser.

Paragraphs and headings become blocks, lists get bullets or numbers, table cells are separated by
" | " (the rows of a table of short cells line up in columns), quotes get "> ", <pre> keeps its
spacing, <script>/<style>/<head> are dropped, entities are decoded. Text the sender hides with
CSS (preheaders, ``display:none``) or the ``hidden`` attribute stays hidden, read with
:mod:`mailbag.domain.html_visible` as the link list reads it. Nothing is fetched: images become their alt text and links are numbered, their
targets listed as text at the end ("Links:" then "[1] https://...").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from mailbag.domain.deadline import Deadline
from mailbag.domain.html_css import StyleSheet, TextVisibility
from mailbag.domain.html_visible import Attrs, Element, VisibleHtmlParser, attr, read_visible, style_sheet
from mailbag.domain.sanitize import clean_text

_BLOCK = frozenset(
    "address article aside body center dd details dialog div dl dt fieldset figcaption figure "
    "footer form h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre section summary table "
    "tbody tfoot thead tr ul blockquote caption".split()
)
_PARAGRAPH = frozenset("p h1 h2 h3 h4 h5 h6 blockquote pre table ul ol dl hr figure".split())
_SPACE = re.compile(r"[ \t\n\r\f\v\u00a0\u200b]+")
_URL_SCHEMES = ("http://", "https://", "mailto:", "ftp://")
_CELL = "\ue01f"  # between two cells of a row until the table is laid out (a private-use character,
# taken out of the document's own text)
_UNCLOSED_TAG = re.compile(r"<(?=[A-Za-z/!?])([^<>]*+)(?=<|\Z)")  # possessive: a long tag is scanned once
_MAX_ALIGNED_WIDTH = 40  # a column wider than this is not padded


class _TextWriter:
    """Accumulates text with collapsed whitespace, line prefixes and pending line breaks."""

    def __init__(self) -> None:
        self.chunks: list[str] = []
        self.breaks = 0  # newlines owed before the next text (capped at 2)
        self.space = False  # a space owed before the next text
        self.line_empty = True
        self.started = False
        self.prefix = ""  # "> " per blockquote level
        self.break_prefix = ""  # the prefix when the pending breaks were asked for
        self.marker = ""  # a list bullet waiting for the item's first text
        self.indent = ""  # the open list items' indentation, before their later lines

    def request_break(self, count: int) -> None:
        if self.started:
            if not self.breaks or len(self.prefix) < len(self.break_prefix):
                self.break_prefix = self.prefix
            self.breaks = max(self.breaks, count)

    def _open_line(self) -> None:
        if self.breaks:
            blank = min(self.prefix, self.break_prefix, key=len).rstrip()
            self.chunks.append("\n" + (blank + "\n") * (self.breaks - 1))
            self.breaks = 0
            self.space = False
            self.line_empty = True
        if self.line_empty:
            self.chunks.append(self.prefix)
            if self.marker:
                self.chunks.append(self.marker)
                self.marker = ""
            else:
                self.chunks.append(self.indent)
            self.space = False
            self.line_empty = False

    def text(self, data: str) -> None:
        if not data:
            return
        leading = data[0] in " \t\n\r\f\v\u00a0"
        # Printable text without two spaces in a row has nothing to collapse (most of a cell's text).
        collapsed = data if data.isprintable() and "  " not in data else _SPACE.sub(" ", data)
        words = collapsed.strip()
        if not words:
            if self.started and not self.line_empty:
                self.space = True
            return
        if leading and not self.line_empty:
            self.space = True
        self._open_line()
        if self.space:
            self.chunks.append(" ")
        self.chunks.append(words)
        self.started = True
        self.space = collapsed.endswith(" ")

    def cell_break(self, columns: int) -> None:
        """Between two cells of a row: a column mark for each column the last cell spanned."""
        if not self.line_empty and not self.breaks:
            self.chunks.append(_CELL * columns)
            self.space = False

    def raw(self, data: str) -> None:
        """Preformatted text: keep spaces and line breaks (with the quote prefix)."""
        lines = data.replace("\r\n", "\n").split("\n")
        for number, line in enumerate(lines):
            if number:
                self.breaks = max(self.breaks, 1)
                self.started = True
                self.line_empty = False
            if line:
                self._open_line()
                self.chunks.append(line)
                self.started = True

    def result(self) -> str:
        return "".join(self.chunks).strip("\n")


@dataclass(slots=True)
class _Open(Element):
    """An open element with what the text needs to remember about it."""

    colspan: int = 1
    link: tuple[str | None, int, bool] | None = None  # (href, chunk index at its start, text hidden) for <a>


class _HtmlToText(VisibleHtmlParser):
    def __init__(self, sheet: StyleSheet, deadline: Deadline | None) -> None:
        super().__init__(sheet, deadline)
        self.out = _TextWriter()
        self.pre = 0
        self.lists: list[list[int | None]] = []  # per open list: [next number] or [None] for bullets
        self.items: list[int] = []  # per open list item: the width of its bullet
        self.quote = 0
        self.links: dict[str, int] = {}  # target -> its number, in order
        self.cells: list[list[int]] = []  # per open table: [cells in the current row, the last one's colspan]

    def new_element(self, tag: str, visibility: TextVisibility, removed: bool) -> _Open:
        return _Open(tag, visibility, removed)

    def shown_text(self, data: str) -> None:
        data = data.replace(_CELL, "")
        if self.pre:
            self.out.raw(data)
        else:
            self.out.text(data)

    # --- what an element does to the text ----------------------------------------------------
    def shown_start(self, tag: str, attrs: Attrs, element: Element | None) -> None:
        out = self.out
        if tag == "br":
            out.breaks = min(2, out.breaks + 1) if out.started else 0
            out.started = True
            return
        if tag in _BLOCK:
            out.request_break(self._block_break(tag, nesting=0))
        if tag == "blockquote":
            self.quote += 1
            out.prefix = "> " * self.quote
        elif tag == "pre":
            self.pre += 1
        elif tag in ("ul", "ol"):
            self.lists.append([1 if tag == "ol" else None])
        elif tag == "li":
            self._list_item()
        elif tag == "hr":
            out.text("----")
            out.request_break(2)
        elif tag == "table":
            self.cells.append([0, 1])
        elif tag == "tr":
            if self.cells:
                self.cells[-1][0] = 0
        elif tag in ("td", "th") and isinstance(element, _Open):
            element.colspan = _span(attr(attrs, "colspan")) if attrs else 1
            if self.cells:
                if self.cells[-1][0]:
                    out.cell_break(self.cells[-1][1])
                self.cells[-1][0] += 1
        elif tag == "img":
            alt = attr(attrs, "alt")
            if alt and alt.strip():
                out.text(f" [{alt.replace(_CELL, '').strip()}] ")
        elif tag == "a" and isinstance(element, _Open):
            element.link = (attr(attrs, "href"), len(out.chunks), element.text_hidden)

    def shown_end(self, element: Element) -> None:
        tag, out = element.tag, self.out
        if tag in _BLOCK:
            out.request_break(self._block_break(tag, nesting=1))
        if tag == "blockquote" and self.quote:
            self.quote -= 1
            out.prefix = "> " * self.quote
        elif tag == "pre" and self.pre:
            self.pre -= 1
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            out.marker = ""
        elif tag == "li" and self.items:
            self.items.pop()
            out.indent = " " * sum(self.items)
        elif tag == "table" and self.cells:
            self.cells.pop()
        elif tag in ("td", "th") and self.cells and isinstance(element, _Open):
            self.cells[-1][1] = element.colspan
        elif tag == "a" and isinstance(element, _Open) and element.link is not None:
            self._close_link(*element.link)

    # --- helpers ------------------------------------------------------------------------------
    def _block_break(self, tag: str, nesting: int) -> int:
        """Two newlines (a blank line) around paragraphs, one inside tables and nested lists.

        ``nesting`` is how many open lists (or tables) an outermost list (or table) sees at this
        point: 0 at its start tag, 1 at its end tag.
        """
        if tag not in _PARAGRAPH:
            return 1
        if len(self.cells) > (nesting if tag == "table" else 0):
            return 1
        if tag in ("ul", "ol") and len(self.lists) > nesting:
            return 1
        if self.items and tag not in ("ul", "ol"):
            return 1  # paragraphs inside a list item
        return 2

    def _list_item(self) -> None:
        if self.lists and self.lists[-1][0] is not None:
            number = self.lists[-1][0]
            self.lists[-1][0] = number + 1
            bullet = f"{number}. "
        else:
            bullet = "- "
        self.out.marker = " " * sum(self.items) + bullet
        self.items.append(len(bullet))
        self.out.indent = " " * sum(self.items)

    def _close_link(self, href: str | None, start: int, hidden: bool) -> None:
        if not href:
            return
        href = href.strip()
        if not href.lower().startswith(_URL_SCHEMES):
            return  # anchors, javascript:, cid: ... carry nothing readable
        label = "".join(self.out.chunks[start:]).replace(_CELL, " ").strip()
        target = href[7:] if href.lower().startswith("mailto:") else href
        if _same_target(label, target):
            return
        if not label:
            if not hidden:  # an image without alt text: its target tells where it leads
                self.out.text(f" {target} ")
            return
        number = self.links.setdefault(href, len(self.links) + 1)
        self.out.chunks.append(f"[{number}]")


def _same_target(label: str, target: str) -> bool:
    def bare(value: str) -> str:
        value = value.strip().rstrip("/").lower()
        for prefix in ("https://", "http://", "mailto:", "www."):
            value = value.removeprefix(prefix)
        return value

    return bool(label) and bare(label) == bare(target)


def _span(value: str | None) -> int:
    try:
        return min(max(int((value or "1").strip()), 1), 100)
    except ValueError:
        return 1


def _width(text: str) -> int:
    """Terminal cells taken by ``text`` (wide East Asian characters take two)."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1 for ch in text)


def _align_tables(text: str) -> str:
    """Lay out the rows of each table: consecutive lines with cells become columns " | " apart,
    padded to line up when every column is narrow."""
    if _CELL not in text:
        return text
    lines = text.split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        if _CELL not in lines[index]:
            out.append(lines[index])
            index += 1
            continue
        end = index
        while end < len(lines) and _CELL in lines[end]:
            end += 1
        out.extend(_columns(lines[index:end]))
        index = end
    return "\n".join(out)


def _columns(rows: list[str]) -> list[str]:
    cells = [[cell.strip() for cell in row.split(_CELL)] for row in rows]
    prefixes = [row[: len(row) - len(row.lstrip("> "))] for row in rows]
    cells = [[row[0].removeprefix(prefix).strip(), *row[1:]] for row, prefix in zip(cells, prefixes)]
    cell_widths = [[_width(cell) for cell in row[:-1]] for row in cells]  # the last cell is never padded
    widths: list[int] = []
    for row_widths in cell_widths:
        for column, width in enumerate(row_widths):
            if column == len(widths):
                widths.append(width)
            elif width > widths[column]:
                widths[column] = width
    if any(width > _MAX_ALIGNED_WIDTH for width in widths):
        return [prefix + " | ".join(row) for prefix, row in zip(prefixes, cells)]
    laid_out = []
    for prefix, row, row_widths in zip(prefixes, cells, cell_widths):
        padded = [cell + " " * (widths[column] - width) for column, (cell, width) in enumerate(zip(row, row_widths))]
        laid_out.append((prefix + " | ".join([*padded, row[-1]])).rstrip())
    return laid_out


def defused(html: str) -> str:
    """``html`` without the constructs that make html.parser quadratic: a comment never closed
    ends the document, and a tag no ``>`` closes before the next ``<`` is closed there (as a
    browser reads both)."""
    start = html.find("<!--")
    while start >= 0:
        end = html.find("-->", start + 4)
        if end < 0:
            html = html[:start]
            break
        start = html.find("<!--", end + 3)
    return _UNCLOSED_TAG.sub(r"<\1>", html)


def html_to_text(html: str, deadline: Deadline | None = None) -> str:
    """Convert an HTML document or fragment to readable plain text. Never raises. Once
    ``deadline`` has passed, the text read so far is given (its tables not lined up)."""
    html = defused(html)
    parser = _HtmlToText(style_sheet(html), deadline)
    read_visible(parser, html)
    text = clean_text(parser.out.result())  # sanitised first, so that columns line up
    text = text.replace(_CELL, " | ") if deadline is not None and deadline.reached else _align_tables(text)
    text = re.sub(r"[ \t]+\n", "\n", text)
    if parser.links:
        listing = "\n".join(f"[{number}] {href}" for href, number in parser.links.items())
        text = f"{text}\n\nLinks:\n{listing}" if text else f"Links:\n{listing}"
    return text
