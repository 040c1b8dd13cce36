"""A MIME part's content as text, in its declared charset."""

from __future__ import annotations

from mailbag.domain.headers import decode_bytes
from mailbag.domain.mime_structure import MimePart


def payload_text(part: MimePart) -> str:
    """The part's body as text, decoded with its charset (or a guess when it names none or a bad one)."""
    return decode_bytes(part.payload(), part.charset)
