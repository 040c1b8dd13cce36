"""The bytes of a message as SMTP's DATA carries them (RFC 5321 4.1.1.4 and 4.5.2)."""

from __future__ import annotations

import re

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


_HEADER_END = re.compile(rb"\r?\n\r?\n")


def utf8_header(message: bytes) -> bool:
    """Whether ``message``'s header (up to its first empty line) holds bytes above 127: one of
    RFC 6532, written in UTF-8, which SMTPUTF8 is for."""
    end = _HEADER_END.search(message)
    return not message[: end.start() if end else len(message)].isascii()
