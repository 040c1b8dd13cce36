"""Turn one framed IMAP response into nested Python values.

Values: ``bytes`` for atoms, numbers, quoted strings and literals, ``None`` for NIL, ``list``
for parenthesised lists. A section such as ``BODY[HEADER.FIELDS (REFERENCES)]`` is one atom.
One regular expression splits each line into tokens; a loop with an explicit stack builds the
lists, so depth and size never touch the Python call stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

Value = Any  # bytes | None | list[Value]

_TOKEN = re.compile(
    rb"""
    [()]                                        # list open / close
    | "[^"\\]*(?:\\.[^"\\]*)*"                    # quoted string with escapes
    | [^\s()"\[{]+(?:\[[^\]]*\][^\s()"]*)?      # atom, number, NIL; BODY[HEADER.FIELDS (X)]<0>
    | \[[^\]]*\][^\s()"]*                       # a bare section
    | \{\d+\+?\}\Z                              # literal announcement: the literal is the next segment
    | \{                                        # a stray brace, kept as an atom
    """,
    re.VERBOSE,
)
_ESCAPE = re.compile(rb"\\(.)")


def parse_segments(segments: Iterable[bytes]) -> list[Value]:
    """Parse ``[line, literal, line, ...]`` into a list of top-level values."""
    root: list[Value] = []
    current = root
    stack: list[list[Value]] = []
    for index, segment in enumerate(segments):
        if index & 1:
            current.append(segment)
            continue
        for token in _TOKEN.findall(segment):
            first = token[0]
            if first == 40:  # (
                child: list[Value] = []
                current.append(child)
                stack.append(current)
                current = child
            elif first == 41:  # )
                if stack:
                    current = stack.pop()
            elif first == 34:  # "
                text = token[1:-1]
                current.append(_ESCAPE.sub(rb"\1", text) if b"\\" in text else text)
            elif first == 123:  # {n}: the literal follows as the next segment
                pass
            elif token == b"NIL":
                current.append(None)
            else:
                current.append(token)
    return root


def as_text(value: Value) -> str:
    """A string value as text (UTF-8, bad bytes replaced); NIL and lists give ''."""
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", errors="replace")
    return ""


def as_int(value: Value, default: int = 0) -> int:
    """A number value as int, else ``default``."""
    if isinstance(value, (bytes, bytearray)) and value.isdigit():
        return int(value)
    return default


def pairs(items: Value) -> dict[bytes, Value]:
    """A ``(KEY value KEY value ...)`` list as a dict with upper-cased keys; odd items are dropped."""
    if not isinstance(items, list):
        return {}
    result: dict[bytes, Value] = {}
    for i in range(0, len(items) - 1, 2):
        key = items[i]
        if isinstance(key, bytes):
            result[key.upper()] = items[i + 1]
    return result


def parse_uid_set(text: bytes | str) -> list[int]:
    """Expand a sequence set such as ``1:3,7,9:8`` into ascending uids (``*`` is ignored)."""
    if isinstance(text, bytes):
        text = text.decode("ascii", errors="replace")
    uids: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition(":")
        if not low.isdigit() or (high and not high.isdigit()):
            continue
        a = int(low)
        b = int(high) if high else a
        if a > b:
            a, b = b, a
        uids.extend(range(a, b + 1))
    uids.sort()
    return uids


def format_uid_set(uids: Iterable[int]) -> str:
    """Compress uids into a sequence set (``1:3,7``)."""
    ordered = sorted(set(uids))
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}:{ordered[j]}")
        i = j + 1
    return ",".join(parts)
