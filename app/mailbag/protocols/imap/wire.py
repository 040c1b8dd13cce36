"""Build command text that carries literals: 8-bit strings never go out as quoted strings."""

from __future__ import annotations

import re
from collections.abc import Sequence

#: LITERAL- (RFC 7888) allows non-synchronizing literals up to this size.
LITERAL_MINUS_MAX = 4096

# A quoted string (with escapes) or an atom; parentheses stay in the text around them.
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"|[^\s()"]+')
_ESCAPE = re.compile(r"\\(.)")

Part = str | bytes  # text sent as it is, or the content of a literal


def literal_mode(capabilities: frozenset[str] | set[str], parts: Sequence[Part]) -> bool:
    """True when every literal in ``parts`` may be sent without waiting for the server."""
    if "LITERAL+" in capabilities:
        return True
    sizes = [len(p) for p in parts if isinstance(p, bytes)]
    return "LITERAL-" in capabilities and all(size <= LITERAL_MINUS_MAX for size in sizes)


def compose(parts: Sequence[Part], *, non_synchronizing: bool) -> tuple[bytes, list[bytes]]:
    """Join ``parts`` into the first write and what follows each ``+`` continuation request.

    Text parts are concatenated as they are (in UTF-8: ASCII, but for a folder name a server
    listed in raw UTF-8, given back so); each bytes part becomes a literal: ``{n+}``
    inline when ``non_synchronizing``, else ``{n}`` and the rest of the command after the ``+``.
    """
    chunks: list[bytearray] = [bytearray()]
    for part in parts:
        if isinstance(part, str):
            chunks[-1] += part.encode()
        elif non_synchronizing:
            chunks[-1] += b"{%d+}\r\n" % len(part) + part
        else:
            chunks[-1] += b"{%d}" % len(part)
            chunks.append(bytearray(part))
    return bytes(chunks[0]), [bytes(c) for c in chunks[1:]]


def criteria_parts(criteria: str, charset: str = "utf-8") -> list[Part]:
    """Split SEARCH criteria into parts: every string that is not plain ASCII (quoted or bare)
    becomes a literal encoded in ``charset``; the rest is kept as written."""
    if any(c in criteria for c in "\r\n\0"):
        raise ValueError("CR, LF and NUL are not allowed in search criteria")
    parts: list[Part] = []
    text_start = 0
    for match in _STRING.finditer(criteria):
        token = match.group(0)
        if token.isascii():
            continue
        value = match.group(1)
        if value is None:
            value = token
        else:
            value = _ESCAPE.sub(r"\1", value)
        parts.append(criteria[text_start:match.start()])
        parts.append(value.encode(charset))
        text_start = match.end()
    parts.append(criteria[text_start:])
    return [p for p in parts if p != ""]


def has_8bit(criteria: str) -> bool:
    """True when the criteria carry anything outside ASCII (and so need a CHARSET)."""
    return not criteria.isascii()
