"""A MIME part's content as text, in its declared charset."""

from __future__ import annotations

import re

from mailbag.domain.headers import decode_bytes
from mailbag.domain.mime_structure import MimePart

#: How far into an HTML part its ``<meta>`` charset is looked for. Browsers look at the first
#: 1024 bytes; the head of an HTML mail often holds a long style sheet first.
META_WINDOW = 4096
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:()+-]+)""", re.IGNORECASE)


def declared_charset(part: MimePart, data: bytes) -> str | None:
    """The charset ``part`` (whose body is ``data``) names: its Content-Type's; for an HTML part
    without one, its ``<meta charset>`` or ``<meta http-equiv="Content-Type">``, as browsers read
    it (a UTF-16 or UTF-32 one is UTF-8 there: the bytes that named it are ASCII)."""
    if part.charset or part.content_type != "text/html":
        return part.charset
    found = _META_CHARSET.search(data, 0, META_WINDOW)
    if found is None:
        return None
    label = found.group(1).decode("ascii").lower()
    return "utf-8" if label.startswith(("utf-16", "utf-32")) else label


def text_of(part: MimePart, data: bytes) -> str:
    """``data`` (the body of ``part``, decoded from its transfer encoding) as text."""
    return decode_bytes(data, declared_charset(part, data))


def payload_text(part: MimePart) -> str:
    """The part's body as text, decoded with its charset (or a guess when it names none or a bad one)."""
    return text_of(part, part.payload())
