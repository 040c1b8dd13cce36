"""A MessageSummary straight from the bytes of a FETCH response, for the bulk summary fetch.

Same result as ``parse_segments`` + ``summary_from_items``, at a fraction of the cost: items are
taken whole by ``scan.scan_fetch``, the ENVELOPE by one pattern, address lists, flags and subjects
through small caches (the same correspondents and threads come back again and again), and the
BODYSTRUCTURE is parsed only when its bytes could announce an attachment. Whatever does not fit
the common shape is read by the general parser, for that item or for the whole response.
"""

from __future__ import annotations

import re
from functools import lru_cache

from app.domain.models import Address, MessageSummary
from app.protocols.imap.framing import Segments
from app.protocols.imap.parser import Value, as_int, parse_segments
from app.protocols.imap.scan import FetchItems, scan_fetch, unquote
from app.protocols.imap.summary import (
    addresses,
    envelope_date,
    flag_set,
    has_attachment,
    header_text,
    modseq_of,
    parse_internaldate,
    references,
    text,
)

_NSTRING = rb'(?:NIL|"([^"\\]*+(?:\\.[^"\\]*+)*+)")'  # the content of a quoted string, None for NIL
_ADDRESS = rb'\((?:NIL|"[^"\\]*+(?:\\.[^"\\]*+)*+")(?: (?:NIL|"[^"\\]*+(?:\\.[^"\\]*+)*+")){3}\)'
_ADDRESS_LIST = rb"(NIL|\((?:" + _ADDRESS + rb")++\))"
_ENVELOPE = re.compile(
    rb"\(" + rb" ".join([_NSTRING, _NSTRING] + [_ADDRESS_LIST] * 6 + [_NSTRING, _NSTRING]) + rb"\)\Z"
)
_MODSEQ = re.compile(rb"\((\d+)\)\Z")
# has_attachment() can only answer yes for a part of type "message", a disposition "attachment"
# or a parameter whose name starts with "name"/"filename". Without those words (ASCII case
# folding; no backslash escape that could hide a letter) the answer is no, with no parsing.
_ATTACHMENT_HINT = re.compile(rb"message|attachment|name|\\", re.IGNORECASE)
_REFERENCES_ITEM = b"BODY[HEADER.FIELDS"

Envelope = tuple[bytes | None, bytes | None, tuple[Address, ...], tuple[Address, ...],
                 tuple[Address, ...], tuple[Address, ...], bytes | None, bytes | None]


def _first(raw: bytes) -> Value:
    """The one list in ``raw``, read by the general parser."""
    parsed = parse_segments([raw])
    return parsed[0] if parsed else None


@lru_cache(maxsize=8192)
def address_list(raw: bytes) -> tuple[Address, ...]:
    """The addresses of a raw ENVELOPE address list (or ``NIL``)."""
    return addresses(_first(raw))


@lru_cache(maxsize=512)
def flags_of(raw: bytes) -> frozenset[str]:
    """A raw ``(\\Seen ...)`` flag list as a set."""
    return flag_set(_first(raw))


subject_text = lru_cache(maxsize=8192)(header_text)
"""header_text, remembered: a thread repeats its subject."""


def _string(content: bytes | None) -> bytes | None:
    return None if content is None else unquote(content)


def envelope_fields(raw: bytes) -> Envelope:
    """(date, subject, from, reply-to, to, cc, in-reply-to, message-id) of a raw ENVELOPE."""
    match = _ENVELOPE.match(raw)
    if match is not None:
        date, subject, from_, _sender, reply_to, to, cc, _bcc, in_reply_to, message_id = match.groups()
        return (_string(date), _string(subject), address_list(from_), address_list(reply_to),
                address_list(to), address_list(cc), _string(in_reply_to), _string(message_id))
    env = _first(raw)
    if not isinstance(env, list) or len(env) < 10:
        env = [None] * 10
    return (env[0], env[1], addresses(env[2]), addresses(env[4]), addresses(env[5]), addresses(env[6]),
            env[8], env[9])


def attachment_in(raw: bytes) -> bool:
    """has_attachment() of a raw BODYSTRUCTURE, parsed only when it could say yes."""
    if _ATTACHMENT_HINT.search(raw) is None:
        return False
    return has_attachment(_first(raw))


def _modseq(items: FetchItems) -> int:
    raw = items.lists.get(b"MODSEQ")
    if raw is None:
        return modseq_of(items.values.get(b"MODSEQ"))
    match = _MODSEQ.match(raw)
    return int(match.group(1)) if match is not None else modseq_of(_first(raw))


def summary_from_scan(items: FetchItems) -> MessageSummary | None:
    """The summary of scanned items; None without UID or ENVELOPE list, or with a references item
    given as a list (the general reading handles those)."""
    values, lists = items.values, items.lists
    uid = as_int(values.get(b"UID"), -1)
    raw_envelope = lists.get(b"ENVELOPE")
    if uid < 0 or raw_envelope is None:
        return None
    refs: tuple[str, ...] = ()
    for key, value in values.items():
        if key.startswith(_REFERENCES_ITEM):
            refs = references(value)
    for key in lists:
        if key.startswith(_REFERENCES_ITEM):
            return None
    date_raw, subject, from_, reply_to, to, cc, in_reply_to, message_id = envelope_fields(raw_envelope)
    date = envelope_date(date_raw) if date_raw else None
    if date is None:
        date = parse_internaldate(values.get(b"INTERNALDATE"))
    raw_flags = lists.get(b"FLAGS")
    raw_body = lists.get(b"BODYSTRUCTURE")
    return MessageSummary(
        uid=uid,
        flags=flags_of(raw_flags) if raw_flags is not None else frozenset(),
        date=date,
        size=as_int(values.get(b"RFC822.SIZE")),
        subject=subject_text(subject),
        from_=from_,
        reply_to=reply_to,
        to=to,
        cc=cc,
        in_reply_to=text(in_reply_to),
        message_id=text(message_id),
        references=refs,
        has_attachment=attachment_in(raw_body) if raw_body is not None else False,
        modseq=_modseq(items),
    )


def summary_from_segments(segments: Segments) -> MessageSummary | None:
    """The summary in one FETCH response, or None when the general parser must read it."""
    items = scan_fetch(segments)
    return summary_from_scan(items) if items is not None else None
