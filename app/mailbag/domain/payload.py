"""A MIME part's content: its decoded bytes, and its text in its declared charset."""

from __future__ import annotations

from email.message import Message

from mailbag.domain.headers import decode_bytes


def payload_bytes(part: Message) -> bytes:
    """The part's body with its transfer encoding undone; the raw text when that fails."""
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    return b""


def payload_text(part: Message) -> str:
    """The part's body as text, decoded with its charset (or a guess when it names none or a bad one)."""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return decode_bytes(payload_bytes(part), charset)
