"""Build domain values from parsed FETCH items: ENVELOPE, BODYSTRUCTURE, flags, dates."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from mailbag.domain.header_fields import block_fields
from mailbag.domain.headers import decode_bytes, decode_words, parse_address_list, parse_date, too_far_ahead
from mailbag.domain.models import Address, MessageSummary
from mailbag.domain.sanitize import clean_line
from mailbag.protocols.imap.parser import Value, as_int, as_text

_RECENT = b"\\recent"
_MESSAGE_ID = re.compile(rb"<[^<>\s]+>")
_INTERNALDATE = "%d-%b-%Y %H:%M:%S %z"
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
# The usual RFC 5322 date ("Mon, 1 Jan 2024 10:00:00 +0100"); anything else goes the long way.
_COMMON_DATE = re.compile(r"(?:[A-Za-z]{3}, )?(\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)\s*(?:\(.*\))?\Z")
# The same form, read from the bytes as they came (zone as one field, "+0100").
_COMMON_DATE_BYTES = re.compile(
    rb"(?:[A-Za-z]{3}, )?(\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d\d):(\d\d):(\d\d) ([+-]\d{4})\s*(?:\(.*\))?\Z")
_MONTHS_BYTES = {m.encode(): i for m, i in _MONTHS.items()}
_ZONES: dict[tuple[str, str, str], timezone] = {}
_ZONES_BYTES: dict[bytes, timezone] = {}


def text(value: Value) -> str:
    """A string value as clean one-line text: fast when it is plain, else sanitized."""
    if not isinstance(value, bytes):
        return ""
    try:
        decoded = value.decode("utf-8")
    except UnicodeDecodeError:  # 8-bit legacy text written raw (GNU Mailutils sends it as it is)
        decoded = decode_bytes(value, None)
    if decoded.isprintable():
        return decoded.strip()
    if "\x1b" in decoded:  # raw ISO-2022-JP, which decode_bytes reads as such
        decoded = decode_bytes(value, None)
    return clean_line(decoded)


def header_text(value: Value) -> str:
    """A header value that may hold RFC 2047 encoded words, as clean text."""
    if not isinstance(value, bytes):
        return ""
    if b"=?" in value:
        return decode_words(value)
    return text(value)


def _zone(sign: str, hours: str, minutes: str) -> timezone:
    """The zone of a ``+hhmm`` offset; ValueError for one of a day or more (``+3000``), which no
    zone has (the date is then read otherwise, or not at all)."""
    key = (sign, hours, minutes)
    zone = _ZONES.get(key)
    if zone is None:
        offset = timedelta(hours=int(hours), minutes=int(minutes))
        zone = _ZONES[key] = timezone(-offset if sign == "-" else offset)
    return zone


def _envelope_date_bytes(value: bytes) -> datetime | None:
    """The common date form read straight from the bytes; None for anything else."""
    match = _COMMON_DATE_BYTES.match(value)
    month = _MONTHS_BYTES.get(match.group(2)) if match is not None else None
    if match is None or month is None:
        return None
    day, _, year, hour, minute, second, offset = match.groups()
    try:
        zone = _ZONES_BYTES.get(offset)
        if zone is None:
            text = offset.decode()
            zone = _ZONES_BYTES[offset] = _zone(text[0], text[1:3], text[3:])
        return datetime(int(year), month, int(day), int(hour), int(minute), int(second), 0, zone)
    except ValueError:
        return None


def envelope_date(value: Value) -> datetime | None:
    """The ENVELOPE date as an aware datetime (fast paths for the common form)."""
    if isinstance(value, bytes):
        fast = _envelope_date_bytes(value)
        if fast is not None:
            return fast
    raw = as_text(value).strip()
    match = _COMMON_DATE.match(raw)
    if match is None or match.group(2) not in _MONTHS:
        return parse_date(raw) if raw else None
    day, month, year, hour, minute, second, sign, zh, zm = match.groups()
    try:
        return datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second),
                        tzinfo=_zone(sign, zh, zm))
    except ValueError:
        return parse_date(raw)


def flag_set(value: Value) -> frozenset[str]:
    """FLAGS (...) as a set of strings, without ``\\Recent``: a flag of one session (the first
    to select the folder since the message came), which no client sets and IMAP4rev2 dropped."""
    if not isinstance(value, list):
        return frozenset()
    return frozenset(as_text(f) for f in value if isinstance(f, bytes) and f.lower() != _RECENT)


def modseq_of(value: Value) -> int:
    """MODSEQ (n) as int."""
    if isinstance(value, list) and value:
        return as_int(value[0])
    return as_int(value)


def parse_internaldate(value: Value) -> datetime | None:
    """INTERNALDATE ``"17-Jul-1996 02:44:25 -0700"`` as an aware datetime."""
    text = as_text(value).strip()
    if not text:
        return None
    try:
        return datetime.strptime(text, _INTERNALDATE)
    except ValueError:
        return None


@lru_cache(maxsize=8192)
def address_of(name: bytes | None, mailbox: bytes, host: bytes) -> Address:
    """One address; cached, since the same correspondents come back again and again."""
    return Address(name=header_text(name), email=text(mailbox + b"@" + host))


def addresses(value: Value) -> tuple[Address, ...]:
    """An ENVELOPE address list; group start/end markers are dropped, members are kept."""
    if not isinstance(value, list):
        return ()
    result = []
    for item in value:
        if not isinstance(item, list) or len(item) < 4:
            continue
        name, _adl, mailbox, host = item[:4]
        if not isinstance(mailbox, bytes) or not isinstance(host, bytes):  # group syntax (RFC 3501 7.4.2)
            continue
        result.append(address_of(name if isinstance(name, bytes) else None, mailbox, host))
    return tuple(result)


def references(value: Value) -> tuple[str, ...]:
    """Message-ids from a ``References:`` header block."""
    if not isinstance(value, bytes) or b"<" not in value:
        return ()
    found = _MESSAGE_ID.findall(value)
    joined = b" ".join(found).decode("utf-8", errors="replace")  # ids hold no white space
    if joined.isprintable():
        return tuple(joined.split(" "))
    return tuple(text(m) for m in found)


def _params(value: Value) -> dict[str, str]:
    if not isinstance(value, list):
        return {}
    return {as_text(value[i]).lower(): as_text(value[i + 1]) for i in range(0, len(value) - 1, 2)}


def _has_name(params: dict[str, str]) -> bool:
    return any(k.startswith(("filename", "name")) and v for k, v in params.items())


def has_attachment(body: Value) -> bool:
    """Whether a BODYSTRUCTURE holds an attachment.

    A part counts when its disposition is ``attachment``, or when it is a named leaf that is
    neither text nor multipart; an attached message (message/rfc822) counts too. Inline parts of
    a multipart/related (images of an HTML body) do not, nor does a part kept elsewhere
    (message/external-body: an attachment mutt deleted, say). Walks with an explicit stack.
    """
    stack: list[tuple[Value, bool]] = [(body, False)]
    while stack:
        part, in_related = stack.pop()
        if not isinstance(part, list) or not part:
            continue
        if isinstance(part[0], list):  # multipart: children, subtype, then extension data
            count = 0
            while count < len(part) and isinstance(part[count], list):
                count += 1
            subtype = as_text(part[count]).lower() if count < len(part) else ""
            stack.extend((child, subtype == "related") for child in part[:count])
            continue
        ctype = as_text(part[0]).lower()
        subtype = as_text(part[1]).lower() if len(part) > 1 else ""
        if ctype == "message" and subtype in ("rfc822", "global"):
            return True
        if ctype == "message" and subtype == "external-body":  # kept elsewhere: nothing to open here
            continue
        at = 9 if ctype == "text" else 8
        disposition = part[at] if len(part) > at else None
        kind, disposition_params = "", {}
        if isinstance(disposition, list) and disposition:
            kind = as_text(disposition[0]).lower()
            disposition_params = _params(disposition[1] if len(disposition) > 1 else None)
        if kind == "attachment":
            return True
        if ctype == "text" or in_related:
            continue
        if _has_name(disposition_params) or _has_name(_params(part[2] if len(part) > 2 else None)):
            return True
    return False


def summary_from_items(items: dict[bytes, Value]) -> MessageSummary | None:
    """A MessageSummary from the items of one FETCH response, or None without a UID."""
    uid = as_int(items.get(b"UID"), -1)
    if uid < 0:
        return None
    envelope = items.get(b"ENVELOPE")
    env = envelope if isinstance(envelope, list) and len(envelope) >= 10 else [None] * 10
    date = envelope_date(env[0]) if env[0] else None
    if date is None or too_far_ahead(date):  # listed by its arrival
        date = parse_internaldate(items.get(b"INTERNALDATE")) or date
    refs: tuple[str, ...] = ()
    for key, value in items.items():
        if key.startswith(b"BODY[HEADER.FIELDS"):
            refs = references(value)
    return MessageSummary(
        uid=uid,
        flags=flag_set(items.get(b"FLAGS")),
        date=date,
        size=as_int(items.get(b"RFC822.SIZE")),
        subject=header_text(env[1]),
        from_=addresses(env[2]),
        reply_to=addresses(env[4]),
        to=addresses(env[5]),
        cc=addresses(env[6]),
        in_reply_to=text(env[8]),
        message_id=text(env[9]),
        references=refs,
        has_attachment=has_attachment(items.get(b"BODYSTRUCTURE")),
        modseq=modseq_of(items.get(b"MODSEQ")),
    )


#: What servers write in ENVELOPE for an address their parser could not read: Dovecot's
#: MISSING_MAILBOX and MISSING_DOMAIN, UW-IMAP's and Courier's .MISSING-HOST-NAME. and
#: .SYNTAX-ERROR. (raw ISO-2022-JP in a From, say, or a From of a bare "root").
_PLACEHOLDERS = ("MISSING_MAILBOX@", "@MISSING_DOMAIN", "@.MISSING-HOST-NAME.", "@.SYNTAX-ERROR.")
#: The fields read again for such a message, and the item that answers it.
ADDRESS_FIELDS = "BODY.PEEK[HEADER.FIELDS (FROM TO CC REPLY-TO)]"
ADDRESS_ITEM = ADDRESS_FIELDS.replace(".PEEK", "").encode("ascii")


def addresses_unread(summary: MessageSummary) -> bool:
    """Whether the server put a placeholder for one of ``summary``'s addresses."""
    for group in (summary.from_, summary.to, summary.cc, summary.reply_to):
        for address in group:
            email = address.email
            if ("MISSING" in email or "SYNTAX-ERROR" in email) and any(mark in email for mark in _PLACEHOLDERS):
                return True
    return False


def address_fields_from_items(items: dict[bytes, Value]) -> tuple[int, dict[str, str]] | None:
    """``(uid, fields)`` of a FETCH answer to :data:`ADDRESS_FIELDS`: the fields by name."""
    uid = as_int(items.get(b"UID"), -1)
    block = items.get(ADDRESS_ITEM)
    if uid < 0 or not isinstance(block, bytes):
        return None
    return uid, block_fields(block)


def with_addresses(summary: MessageSummary, fields: dict[str, str]) -> MessageSummary:
    """``summary`` with the addresses read from its own header ``fields``."""
    get = fields.get
    return summary._replace(from_=parse_address_list(get("from")), to=parse_address_list(get("to")),
                            cc=parse_address_list(get("cc")), reply_to=parse_address_list(get("reply-to")))
