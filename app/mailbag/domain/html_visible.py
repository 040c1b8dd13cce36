"""Which parts of an HTML mail show: the open elements of a document, with what hides them.

:class:`VisibleHtmlParser` keeps the stack of open elements as a browser would (elements left open
are closed where HTML closes them, so hidden or skipped text cannot run past its parent) and
hands its subclass only what is shown: text the sender hides with CSS (``mailbag.domain.html_css``:
``display:none``, ``visibility:hidden``, ``font-size:0``, ``mso-hide:all``, ...) or the ``hidden``
attribute, and the content of ``<script>``, ``<style>``, ``<head>`` and the like, never reaches it.
The reader's text (:mod:`mailbag.domain.html_text`) and the link list (:mod:`mailbag.domain.links`)
read a message through it, so they agree on what is there.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

from mailbag.domain.deadline import Deadline
from mailbag.domain.html_css import Declarations, StyleSheet, TextVisibility, removes

Attrs = list[tuple[str, str | None]]

SKIPPED = frozenset("script style head template title noscript svg math object iframe".split())
VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
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
_CLOSES_P = frozenset(
    "address article aside center dd details dialog div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table ul blockquote".split()
)
_HEAD_CONTENT = frozenset("title style script meta link base noscript template".split())
_VISIBLE = TextVisibility()
_MAX_OPEN = 512  # elements open at once; deeper nesting is flattened (its text is kept)
_CHECK_EVERY = 256  # tags, attributes and texts read between two looks at the deadline


class _TimeUp(Exception):
    """The deadline passed: reading stops where it is."""


@dataclass(slots=True)
class Element:
    """An element that has started and not ended yet."""

    tag: str
    visibility: TextVisibility
    removed: bool  # neither it nor anything in it is shown

    @property
    def text_hidden(self) -> bool:
        """The element's own text is not shown."""
        return self.removed or self.visibility.hidden


class VisibleHtmlParser(HTMLParser):
    """An HTML parser that tells its subclass about shown elements and shown text only.

    Subclasses override :meth:`shown_start` (an element that is not removed starts; ``element``
    is None for a void one), :meth:`shown_end` and :meth:`shown_text`, and may override
    :meth:`new_element` to keep state of their own per element. Reading stops (as at the end of
    the document) once ``deadline`` has passed.
    """

    def __init__(self, sheet: StyleSheet, deadline: Deadline | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.sheet = sheet
        self.deadline = deadline
        self._countdown = _CHECK_EVERY
        self.open: list[Element] = []
        self._open_count: dict[str, int] = {}  # open elements per tag: most end tags need no search
        self._head_open = False
        self._styles: dict[tuple[str, str | None, str | None, str | None], Declarations] = {}  # by tag and attributes

    def updatepos(self, i: int, j: int) -> int:
        """Move on to ``j``. No line numbers are asked for, so the newlines of each piece are not
        counted (html.parser's own updatepos spent a tenth of the time doing so)."""
        return j

    # --- what subclasses see ---------------------------------------------------------------------
    def new_element(self, tag: str, visibility: TextVisibility, removed: bool) -> Element:
        """The record kept for an element while it is open."""
        return Element(tag, visibility, removed)

    def shown_start(self, tag: str, attrs: Attrs, element: Element | None) -> None:
        """An element that is not removed starts (its own text may still be invisible)."""

    def shown_end(self, element: Element) -> None:
        """An element that was not removed ends."""

    def shown_text(self, data: str) -> None:
        """Text the reader sees."""

    # --- the open elements -----------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: Attrs) -> None:
        self._start(tag, attrs)
        self._countdown -= 1 + len(attrs)  # a tag of many attributes took long to read
        if self._countdown <= 0:
            self._check_deadline()

    def _start(self, tag: str, attrs: Attrs) -> None:
        self._implied_ends(tag)
        parent = self.open[-1] if self.open else None
        removed_above = parent is not None and parent.removed
        if tag in VOID:
            hidden = removed_above or (parent is not None and parent.visibility.hidden)
            if not hidden and not self._removes(tag, attrs):
                self.shown_start(tag, attrs, None)
            return
        if len(self.open) >= _MAX_OPEN:
            return  # too deep: its text goes to the innermost element kept
        visibility = parent.visibility if parent else _VISIBLE
        removed = removed_above or tag in SKIPPED
        if not removed and (attrs or self.sheet.by_key):
            style = self._style(tag, attrs)
            removed = self._removes(tag, attrs, style)
            visibility = visibility.inherit(style)
        if tag == "head":
            self._head_open = True
        element = self.new_element(tag, visibility, removed)
        self.open.append(element)
        self._open_count[tag] = self._open_count.get(tag, 0) + 1
        if not removed:
            self.shown_start(tag, attrs, element)

    def handle_startendtag(self, tag: str, attrs: Attrs) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self._end_open(tag) and tag == "br":  # </br> is read as <br>
            self._start(tag, [])
        self._countdown -= 1
        if self._countdown <= 0:
            self._check_deadline()

    def handle_data(self, data: str) -> None:
        if not (self.open and self.open[-1].text_hidden):
            self.shown_text(data)
        self._countdown -= 1
        if self._countdown <= 0:
            self._check_deadline()

    def close(self) -> None:
        super().close()
        self._end_at(0)

    def end_all(self) -> None:
        """End every open element, where the reading stopped."""
        self._end_at(0)

    def _check_deadline(self) -> None:
        self._countdown = _CHECK_EVERY
        if self.deadline is not None and self.deadline.passed():
            raise _TimeUp

    def _implied_ends(self, tag: str) -> None:
        if self._head_open and tag not in _HEAD_CONTENT:  # the body has begun without <body>
            self._end_open("head")
        if tag in _CLOSES_P and self.open and self.open[-1].tag == "p":
            self._pop()
        rule = _IMPLIED_END.get(tag)
        if rule is None:
            return
        names, barriers = rule
        count = self._open_count
        for name in names:
            if count.get(name):
                break
        else:
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
        if not self._open_count.get(tag):
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
        self._open_count[element.tag] -= 1
        if element.tag == "head":
            self._head_open = False
        if not element.removed:
            self.shown_end(element)

    def _style(self, tag: str, attrs: Attrs) -> Declarations:
        """The element's hiding properties; elements alike (a mail's cells repeat their style
        attributes) are looked up once."""
        class_, id_attr, inline = attr(attrs, "class"), attr(attrs, "id"), attr(attrs, "style")
        key = (tag, class_, id_attr, inline)
        style = self._styles.get(key)
        if style is None:
            classes = frozenset((class_ or "").lower().split())
            id_ = (id_attr or "").strip().lower() or None
            style = self._styles[key] = self.sheet.style_of(tag, classes, id_, inline)
        return style

    def _removes(self, tag: str, attrs: Attrs, style: Declarations | None = None) -> bool:
        if not attrs and not self.sheet.by_key:
            return False
        style = self._style(tag, attrs) if style is None else style
        return removes(style) or attr(attrs, "hidden") is not None


def attr(attrs: Attrs, name: str) -> str | None:
    """The value of attribute ``name`` ("" when it has none), None when the tag lacks it."""
    for key, value in attrs:
        if key == name:
            return value if value is not None else ""
    return None


def read_visible(parser: VisibleHtmlParser, html: str) -> None:
    """Feed ``html`` (already :func:`~mailbag.domain.html_text.defused`) to ``parser``; never raises:
    html.parser is lenient, and a malformed document (or one whose deadline passed) keeps what
    was read before it broke, its open elements ended there."""
    try:
        parser.feed(html)
        parser.close()
    except Exception:
        try:
            parser.end_all()
        except Exception:
            pass


def style_sheet(html: str) -> StyleSheet:
    """The document's hiding rules; none if they cannot be read (then everything is shown)."""
    try:
        return StyleSheet.from_html(html)
    except Exception:
        return StyleSheet()
