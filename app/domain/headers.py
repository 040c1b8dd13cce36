"""Decoding of header text: RFC 2047 encoded words, address lists, dates."""

from __future__ import annotations

import email.utils
from datetime import datetime, timezone
from email.header import decode_header, make_header

from app.domain.models import Address
from app.domain.sanitize import clean_line


def decode_words(value: str | bytes | None) -> str:
    """Decode RFC 2047 encoded words (``=?utf-8?q?...?=``) and raw 8-bit text into clean text."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if "=?" in value:
        try:
            value = str(make_header(decode_header(value)))
        except (ValueError, LookupError, UnicodeError):
            pass
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
