"""Split one ``* n FETCH (...)`` response into its items without building nested lists.

The general parser (``parser.parse_segments``) turns every token into a Python object; a summary
fetch needs far less. Here compiled regular expressions take whole items at once: a scalar item
(number, atom, quoted string, NIL, literal) comes out as its value, a parenthesised item as its raw
bytes, to be read by a dedicated pattern or by the general parser on just those bytes.

Only the common, well-formed shape is accepted: single spaces between items, lists nested at most
``MAX_DEPTH`` deep with no literal, bracket or brace inside them. Anything else gives ``None`` and
the caller falls back to the general parser, which reads everything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mailbag.protocols.imap.framing import Segments

#: Deepest list taken whole (a BODYSTRUCTURE of mixed > related > alternative > leaf is 6).
MAX_DEPTH = 10

QUOTED = rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"'
_ESCAPE = re.compile(rb"\\(.)")


def nested_list(depth: int) -> bytes:
    """A pattern for one parenthesised list nested at most ``depth`` deep.

    Outside quoted strings a list may hold anything but parentheses, quotes, brackets and braces
    (those make the general tokenizer read differently, so such lists are left to it).
    """
    plain = rb'[^()"\[\]{]*+'
    pattern = rb"\(" + plain + rb"(?:" + QUOTED + plain + rb")*+\)"
    for _ in range(depth - 1):
        pattern = rb"\(" + plain + rb"(?:(?:" + QUOTED + rb"|" + pattern + rb")" + plain + rb")*+\)"
    return pattern


_HEAD = re.compile(rb"\* \d+ FETCH \(")
_ITEM = re.compile(
    rb'([^\s()"\[\]{}]++(?:\[[^\]]*\](?:<\d+>)?)?) '      # item name; BODY[HEADER.FIELDS (X)] is one name
    rb"(?:(NIL)(?=[ )])"                                # NIL
    rb'|([^\s()"\[\]{}]+)(?=[ )])'                     # number or atom
    rb'|"([^"\\]*+(?:\\.[^"\\]*+)*+)"'                  # quoted string (its content)
    rb"|(" + nested_list(MAX_DEPTH) + rb")"            # a list, kept as raw bytes
    rb"|\{(\d+)\+?\}\Z)"                                # a literal: the next segment
)
_UNSAFE_LITERAL = re.compile(rb'["\\\r\n]')


@dataclass(slots=True)
class FetchItems:
    """The items of one FETCH response: scalars as values, lists as their raw bytes."""

    values: dict[bytes, bytes | None] = field(default_factory=dict)
    lists: dict[bytes, bytes] = field(default_factory=dict)


def unquote(content: bytes) -> bytes:
    """The value of a quoted string from its content (``\\"`` and ``\\\\`` unescaped)."""
    return _ESCAPE.sub(rb"\1", content) if b"\\" in content else content


def inline_literals(segments: Segments) -> Segments:
    """Turn literals that could as well be quoted strings into quoted strings within their line.

    A literal inside an ENVELOPE (an 8-bit subject, say) then reads like any quoted string. A
    literal holding a quote, backslash or line break is left as it is.
    """
    out = [segments[0]]
    for i in range(1, len(segments) - 1, 2):
        literal, following = segments[i], segments[i + 1]
        line = out[-1]
        brace = line.rfind(b"{")
        if _UNSAFE_LITERAL.search(literal) is None and brace >= 0:
            out[-1] = line[:brace] + b'"' + literal + b'"' + following
        else:
            out.extend((literal, following))
    return out


def scan_fetch(segments: Segments) -> FetchItems | None:
    """The items of a ``* n FETCH (...)`` response, or None when it is not of the common shape."""
    if len(segments) > 1:
        segments = inline_literals(segments)
    line = segments[0]
    head = _HEAD.match(line)
    if head is None:
        return None
    items = FetchItems()
    values, lists = items.values, items.lists
    pos = head.end()
    index = 0  # of the current line in ``segments``
    item_match = _ITEM.match
    while True:
        match = item_match(line, pos)
        if match is None:
            return None
        name, nil, atom, quoted, raw_list, literal = match.groups()
        name = name.upper()
        if name in values or name in lists:
            return None  # a repeated item: the general reading decides which one counts
        if raw_list is not None:
            lists[name] = raw_list
        elif quoted is not None:
            values[name] = unquote(quoted)
        elif atom is not None:
            values[name] = atom
        elif nil is not None:
            values[name] = None
        else:
            if index + 2 >= len(segments) or len(segments[index + 1]) != int(literal):
                return None
            values[name] = segments[index + 1]
            index += 2
            line = segments[index]
            pos = 0
            if line == b")" and index == len(segments) - 1:
                return items
            if not line.startswith(b" "):
                return None
            pos = 1
            continue
        pos = match.end()
        if pos == len(line) - 1 and line[pos] == 41 and index == len(segments) - 1:  # the final ")"
            return items
        if line[pos : pos + 1] != b" ":
            return None
        pos += 1
