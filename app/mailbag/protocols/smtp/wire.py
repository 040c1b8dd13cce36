"""The bytes of a message as SMTP's DATA carries them (RFC 5321 4.1.1.4 and 4.5.2)."""

from __future__ import annotations

import re

from mailbag.domain.envelope import split_header

_LINE_END = re.compile(rb"\r\n|\r|\n")
_LEADING_DOT = re.compile(rb"(?m)^\.")


def data_payload(message: bytes) -> bytes:
    """``message`` with CRLF line ends, every line that starts with a dot given a second one, and
    the final ``.`` line that ends DATA."""
    text = _LINE_END.sub(b"\r\n", message)
    if not text.endswith(b"\r\n"):
        text += b"\r\n"
    return _LEADING_DOT.sub(b"..", text) + b".\r\n"


def needs_8bit(message: bytes) -> bool:
    """Whether ``message`` holds bytes above 127 (it needs 8BITMIME)."""
    return not message.isascii()


def utf8_header(message: bytes) -> bool:
    """Whether ``message``'s header (up to its first empty line) is one of RFC 6532, which
    SMTPUTF8 is for: bytes above 127 that are UTF-8 (not those of an older mailer's charset)."""
    head, _body = split_header(message)
    if head.isascii():
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
