"""The links of a message: found in plain text and in HTML, with their real targets.

A plain-text body's links are its URLs (``http://``, ``https://``, ``ftp://``, ``file://``,
``mailto:``). An HTML body's links are its anchors, each with its ``href`` (the target a click
would follow) and its text (what the reader sees), plus the URLs written out in its text. A
link whose text names one domain and whose target goes to another is marked: that is how a
phishing message hides where it leads. Only http, https and mailto targets may be opened.
Every string kept here has been through :mod:`mailbag.domain.sanitize`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from mailbag.domain.deadline import Deadline
from mailbag.domain.html_css import StyleSheet
from mailbag.domain.html_text import defused
from mailbag.domain.html_visible import Attrs, Element, VisibleHtmlParser, attr, read_visible, style_sheet
from mailbag.domain.mime import body_sources
from mailbag.domain.sanitize import clean_line

#: The schemes a link may be opened with.
OPENABLE_SCHEMES = frozenset({"http", "https", "mailto"})

#: A URL written out in text; trailing punctuation is trimmed by :func:`find_urls`.
_URL = re.compile(r"(?:https?://|ftp://|file://|mailto:)[^\s<>\"'`{}|\\^\[\]]+", re.IGNORECASE)
_TRAILING = ".,;:!?*'\""
_CLOSERS = {")": "(", "]": "["}
#: What browsers drop from an href before reading it: surrounding C0 controls and spaces, and
#: tabs and line breaks anywhere (so ``java&#10;script:`` is a javascript: link).
_HREF_EDGES = "".join(chr(c) for c in range(0x21))
_HREF_INSIDE = re.compile("[\t\n\r]")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
#: Link text that names a place: a URL, ``www.`` something, an address, or one host name.
_TEXT_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?([^\s/?#]+)(?:[/?#]\S*)?$", re.IGNORECASE)
_HOST = re.compile(r"^(?:[^\s@/]+@)?((?:[\w-]+\.)+[^\W\d_]{2,63})(?::\d+)?\.?$")


@dataclass(frozen=True, slots=True)
class Link:
    """One link: ``target`` is where it goes, ``text`` what an HTML message shows for it ("" for
    a URL written out in the text)."""

    target: str
    text: str = ""

    @property
    def scheme(self) -> str:
        """The target's scheme, lower case ("" for a relative target)."""
        match = _SCHEME.match(self.target)
        return match.group(1).lower() if match else ""

    @property
    def openable(self) -> bool:
        """The target may be opened (http, https or mailto)."""
        return self.scheme in OPENABLE_SCHEMES

    @property
    def text_domain(self) -> str:
        """The domain the text names when it names one other than the target's: the phishing
        tell (``"paypal.com"`` for text "paypal.com" over ``https://evil.example``), else ""."""
        named = _named_host(self.text)
        if not named:
            return ""
        actual = target_host(self.target)
        if actual == named or actual.endswith("." + named):
            return ""
        return named


def find_urls(text: str) -> list[tuple[int, int, str]]:
    """The URLs written out in ``text``: (start, end, url), without trailing punctuation
    (a closing bracket stays when the URL opened it, as in Wikipedia's addresses)."""
    found = []
    for match in _URL.finditer(text):
        url = _trimmed(match.group())
        scheme_only = url.lower() in ("mailto:", "http://", "https://", "ftp://", "file://")
        if not scheme_only:
            found.append((match.start(), match.start() + len(url), url))
    return found


def _trimmed(url: str) -> str:
    while url:
        last = url[-1]
        if last in _TRAILING:
            url = url[:-1]
        elif last in _CLOSERS and url.count(last) > url.count(_CLOSERS[last]):
            url = url[:-1]
        else:
            break
    return url


def text_links(text: str) -> list[Link]:
    """The links of a plain-text body, each once, in order."""
    return _unique(Link(clean_line(url)) for _, _, url in find_urls(text))


def html_links(html: str, deadline: Deadline | None = None) -> list[Link]:
    """The links of an HTML body the reader shows: every shown anchor's href with its text, and
    the URLs written out in shown text, each (target, text) once, in order. What the sender hides
    (``display:none``, ``visibility:hidden``, ``font-size:0``, the ``hidden`` attribute, ...) is
    left out, as the reader leaves it out. Once ``deadline`` has passed, those found so far.
    Never raises."""
    html = defused(html)  # markup left open as a browser reads it, in linear time
    parser = _LinkParser(style_sheet(html), deadline)
    read_visible(parser, html)
    return _unique(parser.links)


def clean_href(href: str) -> str:
    """An href as a browser reads it (see ``_HREF_EDGES``), made safe to show."""
    return clean_line(_HREF_INSIDE.sub("", href.strip(_HREF_EDGES)))


def target_host(target: str) -> str:
    """The host a target leads to, lower case, without ``www.`` (a mailto's address domain)."""
    if target.lower().startswith("mailto:"):
        address = unquote(target[7:].split("?", 1)[0].split(",", 1)[0])
        return _normal_host(address.rpartition("@")[2])
    try:
        host = urlsplit(target).hostname or ""
    except ValueError:
        return ""
    return _normal_host(host)


def _named_host(text: str) -> str:
    """The host ``text`` names when the whole text is a URL, a host name or an address."""
    text = text.strip().strip("<>").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    match = _TEXT_URL.match(text)
    if match is None:
        return ""
    host = _HOST.match(match.group(1))
    return _normal_host(host.group(1)) if host else ""


def _normal_host(host: str) -> str:
    host = host.strip().rstrip(".").lower()
    try:
        host = host.encode("idna").decode("ascii")  # one spelling for Unicode and xn-- names
    except UnicodeError:
        pass
    return host.removeprefix("www.")


def _unique(links: Iterable[Link]) -> list[Link]:
    seen: set[Link] = set()
    result = []
    for link in links:
        if link.target and link not in seen:
            seen.add(link)
            result.append(link)
    return result


class _LinkParser(VisibleHtmlParser):
    """Collects shown anchors (href and text) and the URLs written out in shown text."""

    def __init__(self, sheet: StyleSheet, deadline: Deadline | None) -> None:
        super().__init__(sheet, deadline)
        self.links: list[Link] = []
        self._anchor: tuple[str, list[str], bool] | None = None  # the open anchor's href, text, own text hidden

    def shown_start(self, tag: str, attrs: Attrs, element: Element | None) -> None:
        if tag == "a" and element is not None:
            self._close_anchor()
            href = attr(attrs, "href")
            if href is not None and not href.strip().startswith("#"):
                self._anchor = (clean_href(href), [], element.text_hidden)
        elif tag == "img" and self._anchor is not None:
            alt = attr(attrs, "alt")
            if alt:
                self._anchor[1].append(f" {alt} ")

    def shown_end(self, element: Element) -> None:
        if element.tag == "a":
            self._close_anchor()

    def shown_text(self, data: str) -> None:
        if self._anchor is not None:
            self._anchor[1].append(data)
        else:
            self.links.extend(Link(clean_line(url)) for _, _, url in find_urls(data))

    def close(self) -> None:
        super().close()
        self._close_anchor()

    def _close_anchor(self) -> None:
        if self._anchor is None:
            return
        href, pieces, hidden = self._anchor
        self._anchor = None
        text = clean_line(" ".join("".join(pieces).split()))
        if text or not hidden:  # an invisible anchor with nothing visible in it cannot be clicked
            self.links.append(Link(href, text))


def message_links(raw: bytes) -> list[Link]:
    """Every link of the body the reader shows for the message ``raw``, within the time one
    message's reading may take (a message too slow to read gives the links found by then)."""
    deadline = Deadline()
    links: list[Link] = []
    for content_type, text in body_sources(raw, deadline=deadline):
        links.extend(html_links(text, deadline) if content_type == "text/html" else text_links(text))
    return _unique(links)
