"""HTML mail bodies as readable plain text, with the standard library's html.parser.

Paragraphs and headings become blocks, lists get bullets or numbers, table cells are separated by
" | ", quotes get "> ", <pre> keeps its spacing, <script>/<style>/<head> are dropped, entities are
decoded. Nothing is fetched: images become their alt text and links are numbered, their targets
listed as text at the end ("Links:" then "[1] https://...").
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = frozenset(
    "address article aside body center dd details dialog div dl dt fieldset figcaption figure "
    "footer form h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre section summary table "
    "tbody tfoot thead tr ul blockquote caption".split()
)
_PARAGRAPH = frozenset("p h1 h2 h3 h4 h5 h6 blockquote pre table ul ol dl hr figure".split())
_SKIP = frozenset("script style head template title noscript svg math object iframe".split())
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_SPACE = re.compile(r"[ \t\n\r\f\v\u00a0\u200b]+")
_URL_SCHEMES = ("http://", "https://", "mailto:", "ftp://")


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


class _HtmlToText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out = _TextWriter()
        self.skip_depth = 0
        self.skip_tag = ""
        self.pre = 0
        self.lists: list[list[int | None]] = []  # per open list: [next number] or [None] for bullets
        self.quote = 0
        self.links: list[str] = []
        self.link_stack: list[tuple[str | None, int]] = []  # (href, chunk index at start)
        self.cells: list[int] = []  # cells seen in the current row, per open table

    # --- tags ---------------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skip_depth:
            if tag == self.skip_tag:
                self.skip_depth += 1
            return
        if tag in _SKIP:
            self.skip_tag, self.skip_depth = tag, 1
            return
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
            self.cells.append(0)
        elif tag == "tr":
            if self.cells:
                self.cells[-1] = 0
        elif tag in ("td", "th"):
            if self.cells:
                if self.cells[-1] and not out.breaks:
                    out.text(" | ")
                self.cells[-1] += 1
        elif tag == "img":
            alt = _attr(attrs, "alt")
            if alt and alt.strip():
                out.text(f" [{alt.strip()}] ")
        elif tag == "a":
            self.link_stack.append((_attr(attrs, "href"), len(out.chunks)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skip_depth:
            if tag == self.skip_tag:
                self.skip_depth -= 1
            return
        out = self.out
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
        elif tag == "table" and self.cells:
            self.cells.pop()
        elif tag == "a" and self.link_stack:
            self._close_link(*self.link_stack.pop())

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre:
            self.out.raw(data)
        else:
            self.out.text(data)

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
        return 2

    def _list_item(self) -> None:
        depth = max(len(self.lists) - 1, 0)
        if self.lists and self.lists[-1][0] is not None:
            number = self.lists[-1][0]
            self.lists[-1][0] = number + 1
            bullet = f"{number}. "
        else:
            bullet = "- "
        self.out.marker = "  " * depth + bullet

    def _close_link(self, href: str | None, start: int) -> None:
        if not href:
            return
        href = href.strip()
        if not href.lower().startswith(_URL_SCHEMES):
            return  # anchors, javascript:, cid: ... carry nothing readable
        label = "".join(self.out.chunks[start:]).strip()
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
            return value
    return None


def html_to_text(html: str) -> str:
    """Convert an HTML document or fragment to readable plain text. Never raises."""
    parser = _HtmlToText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient, but a malformed document must never crash the reader
        pass
    text = parser.out.result()
    text = re.sub(r"[ \t]+\n", "\n", text)
    if parser.links:
        listing = "\n".join(f"[{number}] {href}" for number, href in enumerate(parser.links, 1))
        text = f"{text}\n\nLinks:\n{listing}" if text else f"Links:\n{listing}"
    return text
