"""Decoding of header text: RFC 2047 encoded words, address lists, dates, and charsets."""

from __future__ import annotations

import codecs
import email.utils
import re
from collections.abc import Iterable
from datetime import datetime, timezone
from email.header import decode_header

from mailbag.domain.models import Address
from mailbag.domain.sanitize import clean_line


def decode_words(value: str | bytes | None) -> str:
    """Decode RFC 2047 encoded words (``=?utf-8?q?...?=``) and raw 8-bit text into clean text.

    Each encoded word is decoded with its own charset (unknown ones fall back as in
    ``decode_bytes``); a malformed header keeps its raw text.
    """
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = decode_bytes(value, None)
    if "=?" in value:
        try:
            chunks = decode_header(value)
        except Exception:  # email.errors.HeaderParseError and friends: keep the raw text
            chunks = [(value, None)]
        pieces = []
        for chunk, charset in chunks:
            if isinstance(chunk, str):
                pieces.append(chunk)
            elif charset is None:
                pieces.append(chunk.decode("raw-unicode-escape", errors="replace"))
            else:
                pieces.append(decode_bytes(chunk, charset))
        value = "".join(pieces)
    return clean_line(value)


def parse_address_list(value: str | None) -> tuple[Address, ...]:
    """Parse a To/From/Cc header value into decoded addresses."""
    if not value:
        return ()
    result = []
    for name, addr in email.utils.getaddresses([value]):
        name, addr = decode_words(name), clean_line(addr)
        if name or addr:
            result.append(Address(name=name, email=addr))
    return tuple(result)


def parse_date(value: str | None) -> datetime | None:
    """Parse an RFC 5322 date into an aware datetime (UTC when the zone is missing)."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


# Labels whose bytes are better read with a superset codec (as browsers do).
_CODEC_UPGRADE = {
    "latin_1": "cp1252",
    "iso8859_1": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
}
_CODEC_REFUSED = frozenset({"unicode_escape", "raw_unicode_escape", "punycode", "idna"})


def _codec(label: str | None) -> str | None:
    """The Python codec for a MIME charset label, or None when unknown or not a text encoding."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):
        if not label.startswith("x-"):
            return None
        try:
            info = codecs.lookup(label[2:])  # x-sjis, x-euc-jp, ...
        except (LookupError, ValueError):
            return None
    name = info.name.replace("-", "_")
    if not getattr(info, "_is_text_encoding", True) or name in _CODEC_REFUSED:
        return None
    return _CODEC_UPGRADE.get(name, info.name)


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode text: the declared charset, then UTF-8, then Windows-1252. Never raises."""
    codec = _codec(charset)
    if codec == "ascii":
        codec = None  # 8-bit bytes under an ASCII label: guess as if undeclared
    if codec:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError, ValueError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if codec == "utf-8":
        # Damaged UTF-8 stays UTF-8; text merely labelled UTF-8 (no valid sequence) is 8-bit legacy.
        text = data.decode("utf-8", errors="replace")
        if any(ord(char) > 0x7F and char != "\ufffd" for char in text):
            return text
    elif codec and codec != "cp1252":
        try:
            return data.decode(codec, errors="replace")
        except (LookupError, ValueError):
            pass
    return data.decode("cp1252", errors="replace")


# --- addresses ----------------------------------------------------------------------------------

_SPECIALS = re.compile(r'[()<>@,;:\\".\[\]]')


def format_address(address: Address) -> str:
    """``Name <user@host>`` (the name quoted when it holds RFC 5322 specials), or the bare address."""
    if not address.name:
        return address.email
    name = address.name
    if _SPECIALS.search(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{address.email}>"


def format_addresses(addresses: Iterable[Address]) -> str:
    """Addresses as ``format_address`` writes them, comma-separated."""
    return ", ".join(format_address(a) for a in addresses)
