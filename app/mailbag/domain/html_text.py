"""HTML mail bodies as readable plain text, with the standard library's html.parser.

Paragraphs and headings become blocks, lists get bullets or numbers, table cells are separated by
" | " (the rows of a table of short cells line up in columns), quotes get "> ", <pre> keeps its
spacing, <script>/<style>/<head> are dropped, entities are decoded. Text the sender hides with
CSS (``mailbag.domain.html_css``: preheaders, ``display:none``) or the ``hidden`` attribute stays
hidden. Elements left open are closed where HTML closes them, so hidden or skipped text cannot run
past its parent. Nothing is fetched: images become their alt text and links are numbered, their
targets listed as text at the end ("Links:" then "[1] https://...").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser

from mailbag.domain.html_css import Declarations, StyleSheet, TextVisibility, removes
from mailbag.domain.sanitize import clean_text

_BLOCK = frozenset(
    "address article aside body center dd details dialog div dl dt fieldset figcaption figure "
    "footer form h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre section summary table "
    "tbody tfoot thead tr ul blockquote caption".split()
)
_PARAGRAPH = frozenset("p h1 h2 h3 h4 h5 h6 blockquote pre table ul ol dl hr figure".split())
_SKIP = frozenset("script style head template title noscript svg math object iframe".split())
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
# A start tag closes the open element it names when nothing in the way is one of the others
# (``<li>`` ends the previous item of the same list, ``<td>`` the previous cell of its row).
_IMPLIED_END = {
    "li": ({"li"}, {"ul", "ol", "table"}),
    "dt": ({"dt", "dd"}, {"dl", "table"}),
    "dd": ({"dt", "dd"}, {"dl", "table"}),
    "td": ({"td", "th"}, {"tr", "table"}),
    "th": ({"td", "th"}, {"tr", "table"}),
    "tr": ({"tr", "td", "th"}, {"table", "thead", "tbody", "tfoot"}),
    "thead": ({"tbody", "thead", "tfoot", "tr", "td", "th"}, {"table"}),
    "tbody": ({"tbody", "thead", "tfoot", "tr", "td", "th"}, {"table"}),
    "tfoot": ({"tbody", "thead", "tfoot", "tr", "td", "th"}, {"table"}),
    "body": ({"head"}, set()),
}
_CLOSES_P = _BLOCK - {"body", "html", "tr", "tbody", "tfoot", "thead", "caption", "summary"}
_HEAD_CONTENT = frozenset("title style script meta link base noscript template".split())
_SPACE = re.compile(r"[ \t\n\r\f\v\u00a0\u200b]+")
_URL_SCHEMES = ("http://", "https://", "mailto:", "ftp://")
_CELL = "\ue01f"  # between two cells of a row until the table is laid out (a private-use character,
# taken out of the document's own text)
_UNCLOSED_TAG = re.compile(r"<(?=[A-Za-z/!?])([^<>]*)(?=<|\Z)")
_VISIBLE = TextVisibility()
_MAX_OPEN = 512  # elements open at once; deeper nesting is flattened (its text is kept)
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
        collapsed = _SPACE.sub(" ", data)
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
class _Open:
    """An element that has started and not ended yet."""

    tag: str
    visibility: TextVisibility
    removed: bool  # neither it nor anything in it is shown
    colspan: int = 1
    link: tuple[str | None, int] | None = None  # (href, chunk index at its start) for <a>


class _HtmlToText(HTMLParser):
    def __init__(self, sheet: StyleSheet) -> None:
        super().__init__(convert_charrefs=True)
        self.sheet = sheet
        self.out = _TextWriter()
        self.open: list[_Open] = []
        self.open_count: dict[str, int] = {}  # open elements per tag: most end tags need no search
        self.pre = 0
        self.lists: list[list[int | None]] = []  # per open list: [next number] or [None] for bullets
        self.items: list[int] = []  # per open list item: the width of its bullet
        self.quote = 0
        self.links: list[str] = []
        self.cells: list[list[int]] = []  # per open table: [cells in the current row, the last one's colspan]
        self.head_open = False

    # --- the open elements ----------------------------------------------------------------------
    def _hidden(self) -> bool:
        top = self.open[-1] if self.open else None
        return top is not None and (top.removed or top.visibility.hidden)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._implied_ends(tag)
        parent = self.open[-1] if self.open else None
        removed_above = parent is not None and parent.removed
        if tag in _VOID:
            hidden = removed_above or (parent is not None and parent.visibility.hidden)
            if not hidden and not self._removes(tag, attrs):
                self._start(tag, attrs)
            return
        if len(self.open) >= _MAX_OPEN:
            return  # too deep: its text goes to the innermost element kept
        visibility = parent.visibility if parent else _VISIBLE
        removed = removed_above or tag in _SKIP
        if not removed and (attrs or self.sheet.by_key):
            style = self._style(tag, attrs)
            removed = self._removes(tag, attrs, style)
            visibility = visibility.inherit(style)
        if tag == "head":
            self.head_open = True
        element = _Open(tag, visibility, removed)
        self.open.append(element)
        self.open_count[tag] = self.open_count.get(tag, 0) + 1
        if not removed:
            self._start(tag, attrs, element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self._end_open(tag) and tag == "br":  # </br> is read as <br>
            self.handle_starttag(tag, [])

    def _implied_ends(self, tag: str) -> None:
        if self.head_open and tag not in _HEAD_CONTENT:  # the body has begun without <body>
            self._end_open("head")
        if tag in _CLOSES_P and self.open and self.open[-1].tag == "p":
            self._pop()
        rule = _IMPLIED_END.get(tag)
        if rule is None:
            return
        names, barriers = rule
        if not any(self.open_count.get(name) for name in names):
            return
        for index in range(len(self.open) - 1, -1, -1):
            name = self.open[index].tag
            if name in names:
                self._end_at(index)
                return
            if name in barriers:
                return

    def _end_open(self, tag: str) -> bool:
        """End the innermost open ``tag`` and everything opened inside it; False if none is open."""
        if not self.open_count.get(tag):
            return False
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index].tag == tag:
                self._end_at(index)
                return True
        return False

    def _end_at(self, index: int) -> None:
        while len(self.open) > index:
            self._pop()

    def _pop(self) -> None:
        element = self.open.pop()
        self.open_count[element.tag] -= 1
        self._end(element)

    def _style(self, tag: str, attrs: list[tuple[str, str | None]]) -> Declarations:
        classes = frozenset((_attr(attrs, "class") or "").lower().split())
        id_ = (_attr(attrs, "id") or "").strip().lower() or None
        return self.sheet.style_of(tag, classes, id_, _attr(attrs, "style"))

    def _removes(self, tag: str, attrs: list[tuple[str, str | None]], style: Declarations | None = None) -> bool:
        if not attrs and not self.sheet.by_key:
            return False
        style = self._style(tag, attrs) if style is None else style
        return removes(style) or _attr(attrs, "hidden") is not None

    def handle_data(self, data: str) -> None:
        if self._hidden():
            return
        data = data.replace(_CELL, "")
        if self.pre:
            self.out.raw(data)
        else:
            self.out.text(data)

    def close(self) -> None:
        super().close()
        self._end_at(0)

    # --- what an element does to the text ----------------------------------------------------
    def _start(self, tag: str, attrs: list[tuple[str, str | None]], element: _Open | None = None) -> None:
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
        elif tag in ("td", "th") and element is not None:
            element.colspan = _span(_attr(attrs, "colspan"))
            if self.cells:
                if self.cells[-1][0]:
                    out.cell_break(self.cells[-1][1])
                self.cells[-1][0] += 1
        elif tag == "img":
            alt = _attr(attrs, "alt")
            if alt and alt.strip():
                out.text(f" [{alt.replace(_CELL, '').strip()}] ")
        elif tag == "a" and element is not None:
            element.link = (_attr(attrs, "href"), len(out.chunks))

    def _end(self, element: _Open) -> None:
        if element.tag == "head":
            self.head_open = False
        if element.removed:
            return
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
        elif tag in ("td", "th") and self.cells:
            self.cells[-1][1] = element.colspan
        elif tag == "a" and element.link is not None:
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

    def _close_link(self, href: str | None, start: int) -> None:
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
            self.out.text(f" {target} ")
            return
        if href in self.links:
            number = self.links.index(href) + 1
        else:
            self.links.append(href)
            number = len(self.links)
        self.out.chunks.append(f"[{number}]")


def _same_target(label: str, target: str) -> bool:
    def bare(value: str) -> str:
        value = value.strip().rstrip("/").lower()
        for prefix in ("https://", "http://", "mailto:", "www."):
            value = value.removeprefix(prefix)
        return value

    return bool(label) and bare(label) == bare(target)


def _attr(attrs: list[tuple[str, str | None]], name: str) -> str | None:
    for key, value in attrs:
        if key == name:
            return value if value is not None else ""
    return None


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
    widths: list[int] = []
    for row in cells:
        for column, cell in enumerate(row[:-1]):
            if column == len(widths):
                widths.append(0)
            widths[column] = max(widths[column], _width(cell))
    if any(width > _MAX_ALIGNED_WIDTH for width in widths):
        return [prefix + " | ".join(row) for prefix, row in zip(prefixes, cells)]
    laid_out = []
    for prefix, row in zip(prefixes, cells):
        padded = [cell + " " * (widths[column] - _width(cell)) for column, cell in enumerate(row[:-1])]
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


def html_to_text(html: str) -> str:
    """Convert an HTML document or fragment to readable plain text. Never raises."""
    html = defused(html)
    try:
        sheet = StyleSheet.from_html(html)
    except Exception:  # the style sheet only hides text: without it everything is shown
        sheet = StyleSheet()
    parser = _HtmlToText(sheet)
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient, but a malformed document must never crash the reader
        pass
    text = _align_tables(clean_text(parser.out.result()))  # sanitised first, so that columns line up
    text = re.sub(r"[ \t]+\n", "\n", text)
    if parser.links:
        listing = "\n".join(f"[{number}] {href}" for number, href in enumerate(parser.links, 1))
        text = f"{text}\n\nLinks:\n{listing}" if text else f"Links:\n{listing}"
    return text
