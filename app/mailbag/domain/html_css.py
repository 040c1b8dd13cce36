"""The little CSS an HTML mail needs to be read as its sender meant: what is hidden.

Mail hides text it does not mean to be read: preheaders (the preview line), tracking text,
the other half of a desktop/mobile pair. This reads the properties that hide (display,
visibility, mso-hide, opacity, a zero size with overflow hidden, font-size 0) from ``style``
attributes and from ``<style>`` rules with simple selectors (``tag``, ``.class``, ``#id``,
``tag.class``, lists of them). Rules inside ``@media`` and other at-rules are ignored (they
apply to some screens only), and later rules win over earlier ones (specificity is not weighed).
Nothing is ever fetched: ``@import`` and ``url()`` are text here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

Declarations = dict[str, str]

_PROPERTIES = frozenset(
    "display visibility mso-hide opacity font-size max-height height max-width width overflow".split()
)
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_STYLE_START = re.compile(r"<style\b[^>]*>", re.IGNORECASE)
_STYLE_END = re.compile(r"</style\s*>", re.IGNORECASE)
_BRACES = re.compile(r"([{}])")
_SELECTOR = re.compile(r"([a-z][a-z0-9]*|\*)?((?:[.#][\w-]+)*)", re.IGNORECASE)
_ZERO = re.compile(r"[+-]?0*\.?0+(?:px|pt|em|rem|%|ex|ch|vh|vw|cm|mm|in|pc)?")
_MAX_SHEET = 1_000_000  # characters of <style> read per message
_MAX_RULES = 5_000


def declarations(style: str | None) -> Declarations:
    """The hiding-related properties of a declaration list (``display:none !important; ...``)."""
    found: Declarations = {}
    for item in (style or "").split(";"):
        name, colon, value = item.partition(":")
        name = name.strip().lower()
        if colon and name in _PROPERTIES:
            found[name] = value.lower().replace("!important", "").strip()
    return found


def removes(style: Declarations) -> bool:
    """The element and everything in it is not shown (descendants cannot show themselves)."""
    if style.get("display") == "none" or style.get("mso-hide") == "all":
        return True
    if _is_zero(style.get("opacity")):
        return True
    clipped = style.get("overflow") in ("hidden", "clip")
    return clipped and any(_is_zero(style.get(name)) for name in ("max-height", "height", "max-width", "width"))


@dataclass(frozen=True, slots=True)
class TextVisibility:
    """Whether an element's own text shows: ``visibility`` and ``font-size`` are inherited, and a
    descendant can undo them (``visibility: visible``, a font size of its own)."""

    invisible: bool = False
    zero_size: bool = False

    @property
    def hidden(self) -> bool:
        """The element's own text is not shown."""
        return self.invisible or self.zero_size

    def inherit(self, style: Declarations) -> TextVisibility:
        """The visibility of a child element with ``style``."""
        invisible, zero_size = self.invisible, self.zero_size
        if "visibility" in style:
            invisible = style["visibility"] in ("hidden", "collapse")
        size = style.get("font-size")
        if size is not None:
            relative = size.endswith(("%", "em")) and not size.endswith("rem")
            zero_size = _is_zero(size) or (zero_size and relative)
        if (invisible, zero_size) == (self.invisible, self.zero_size):
            return self
        return TextVisibility(invisible, zero_size)


def _is_zero(value: str | None) -> bool:
    return value is not None and _ZERO.fullmatch(value.strip()) is not None


@dataclass(frozen=True, slots=True)
class _Rule:
    order: int
    tag: str | None
    classes: frozenset[str]
    id: str | None
    style: Declarations


@dataclass
class StyleSheet:
    """The hiding rules of a document's ``<style>`` elements, looked up per element."""

    by_key: dict[str, list[_Rule]] = field(default_factory=dict)

    @classmethod
    def from_html(cls, html: str) -> StyleSheet:
        """The hiding rules of every ``<style>`` element in ``html`` (at most 1,000,000 characters
        of them, 5,000 rules)."""
        sheet = cls()
        text = "\n".join(_style_blocks(html))
        order = 0
        for selectors, body in _rules(_without_at_rules(_COMMENT.sub("", text[:_MAX_SHEET]))):
            style = declarations(body)
            if not style:
                continue
            for selector in selectors.split(","):
                rule = _rule(selector.strip(), order, style)
                if rule is not None and order < _MAX_RULES:
                    key = f"#{rule.id}" if rule.id else f".{min(rule.classes)}" if rule.classes else rule.tag or "*"
                    sheet.by_key.setdefault(key, []).append(rule)
                    order += 1
        return sheet

    def style_of(self, tag: str, classes: frozenset[str], id_: str | None, inline: str | None) -> Declarations:
        """The element's hiding properties: its matching rules in order, then its style attribute."""
        if not self.by_key:
            return declarations(inline)
        keys = [tag, "*", *(f".{name}" for name in classes)] + ([f"#{id_}"] if id_ else [])
        rules = [rule for key in keys for rule in self.by_key.get(key, ())]
        merged: Declarations = {}
        for rule in sorted(rules, key=lambda rule: rule.order):
            if rule.tag in (None, "*", tag) and rule.classes <= classes and rule.id in (None, id_):
                merged.update(rule.style)
        merged.update(declarations(inline))
        return merged


def _style_blocks(html: str) -> list[str]:
    """The text of each ``<style>`` element (one pass: an unclosed one ends the search)."""
    blocks: list[str] = []
    position, size = 0, 0
    while size < _MAX_SHEET and (start := _STYLE_START.search(html, position)) is not None:
        end = _STYLE_END.search(html, start.end())
        if end is None:
            break
        blocks.append(html[start.end() : end.start()])
        size += end.start() - start.end()
        position = end.end()
    return blocks


def _rule(selector: str, order: int, style: Declarations) -> _Rule | None:
    match = _SELECTOR.fullmatch(selector)
    if match is None or not selector:
        return None
    tag, rest = match.groups()
    classes = frozenset(part.lower() for part in re.findall(r"\.([\w-]+)", rest))
    ids = re.findall(r"#([\w-]+)", rest)
    return _Rule(order, tag.lower() if tag else None, classes, ids[0].lower() if ids else None, style)


def _rules(css: str) -> list[tuple[str, str]]:
    """The ``selectors { declarations }`` pairs of a style sheet without at-rules (one pass)."""
    pairs: list[tuple[str, str]] = []
    selectors: str | None = None
    outside = ""
    for token in _BRACES.split(css):
        if token == "{":
            selectors, outside = outside, ""
        elif token == "}":
            selectors, outside = None, ""
        elif selectors is not None:
            pairs.append((selectors, token))
        else:
            outside = token
    return pairs


def _without_at_rules(css: str) -> str:
    """``css`` without its at-rules (``@media {...}``, ``@font-face {...}``, ``@import ...;``)."""
    out: list[str] = []
    position = 0
    while (start := css.find("@", position)) >= 0:
        out.append(css[position:start])
        brace, semicolon = css.find("{", start), css.find(";", start)
        if brace < 0 or 0 <= semicolon < brace:
            position = len(css) if semicolon < 0 else semicolon + 1
            continue
        depth, position = 0, len(css)
        for match in _BRACES.finditer(css, brace):
            depth += 1 if match.group() == "{" else -1
            if depth == 0:
                position = match.end()
                break
    out.append(css[position:])
    return "".join(out)
