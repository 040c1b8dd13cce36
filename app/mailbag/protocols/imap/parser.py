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


#: The largest UID (RFC 3501: a 32-bit number).
MAX_UID = 2**32 - 1
#: The most UIDs a set is expanded to: a server that sends more (``1:4294967295`` as a search
#: result, say) would have a list of billions made; the largest real folders hold a few million.
MAX_EXPANDED = 5_000_000


class UidSetTooLarge(ValueError):
    """A UID set of more UIDs than :data:`MAX_EXPANDED`."""


def uid_ranges(text: bytes | str) -> list[tuple[int, int]]:
    """The ranges ``(first, last)`` of a sequence set as written (``9:8`` is ``(9, 8)``); parts
    that are not numbers (``*``, junk) and numbers past :data:`MAX_UID` are left out, a range that
    runs past it stops there. Raises UidSetTooLarge for a set of more than :data:`MAX_EXPANDED`."""
    if isinstance(text, bytes):
        text = text.decode("ascii", errors="replace")
    ranges: list[tuple[int, int]] = []
    total = 0
    for part in text.split(","):
        low, _, high = part.partition(":")
        if not low.isdigit() or (high and not high.isdigit()):
            continue
        a, b = int(low), int(high) if high else int(low)
        if min(a, b) > MAX_UID or min(a, b) == 0:
            continue
        a, b = min(a, MAX_UID), min(b, MAX_UID)
        total += abs(b - a) + 1
        if total > MAX_EXPANDED:
            raise UidSetTooLarge(f"the server sent a set of more than {MAX_EXPANDED:,} UIDs")
        ranges.append((a, b))
    return ranges


def parse_uid_set(text: bytes | str) -> list[int]:
    """Expand a sequence set such as ``1:3,7,9:8`` into ascending uids (see :func:`uid_ranges`)."""
    uids: list[int] = []
    for a, b in uid_ranges(text):
        uids.extend(range(min(a, b), max(a, b) + 1))
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
