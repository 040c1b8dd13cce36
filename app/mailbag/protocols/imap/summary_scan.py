"""A MessageSummary straight from the bytes of a FETCH response, for the bulk summary fetch.

Same result as ``parse_segments`` + ``summary_from_items``, at a fraction of the cost. A response
with the items in the order of ``SUMMARY_ITEMS`` (as Dovecot sends them) is read by one pattern;
any other order item by item with ``scan.scan_fetch``. Address lists, flags and subjects go
through small caches (the same correspondents and threads come back again and again), and the
BODYSTRUCTURE is parsed only when its bytes could announce an attachment. Whatever does not fit
is read by the general parser, for that item or for the whole response.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from mailbag.domain.headers import too_far_ahead
from mailbag.domain.models import Address, MessageSummary
from mailbag.protocols.imap.framing import Segments
from mailbag.protocols.imap.parser import Value, as_int, parse_segments
from mailbag.protocols.imap.scan import (
    QUOTED,
    FetchItems,
    inline_literals,
    scan_fetch,
    unquote,
)
from mailbag.protocols.imap.summary import (
    address_of,
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

_NSTR = rb"(?:NIL|" + QUOTED + rb")"
_NSTRING = rb'(?:NIL|"([^"\\]*+(?:\\.[^"\\]*+)*+)")'  # the content of a quoted string, None for NIL
_ADDRESS = rb"\(" + _NSTR + rb"(?: " + _NSTR + rb"){3}\)"
_ADDRESS_LIST = rb"(NIL|\((?:" + _ADDRESS + rb")++\))"
_ADDRESS_FIELDS = re.compile(rb"\(" + rb" ".join([_NSTRING] * 4) + rb"\)")
_ENVELOPE_FIELDS = rb"\(" + rb" ".join([_NSTRING, _NSTRING] + [_ADDRESS_LIST] * 6 + [_NSTRING, _NSTRING]) + rb"\)"
_ENVELOPE = re.compile(_ENVELOPE_FIELDS + rb"\Z")
# The whole first line of the usual answer: uid, flags, internaldate, size, modseq, the ten
# envelope fields, the body structure and the size of the references literal that follows.
_COMMON_LINE = (
    rb'\* \d+ FETCH \(UID (\d+) FLAGS (\([^()"\[\]{]*+\)) INTERNALDATE "([^"\\]*+)" RFC822\.SIZE (\d+)'
    rb"(?: MODSEQ \((\d+)\))? ENVELOPE " + _ENVELOPE_FIELDS
    # The body structure is whatever lies between its name and the references item that ends the
    # line (found from the end, so nothing inside the structure can pose as that item); it is only
    # looked into for attachments, by attachment_in(), which reads any shape safely.
    + rb" BODYSTRUCTURE (\(.*\)) BODY\[HEADER\.FIELDS \(REFERENCES\)\] \{(\d+)\}"
)
_COMMON = re.compile(_COMMON_LINE + rb"\Z", re.DOTALL)
# The same line at a position of the received bytes, with its CRLF ("." stops at a line feed).
_COMMON_IN_BUFFER = re.compile(_COMMON_LINE + rb"\r\n")
_CLOSE = b")\r\n"
_MODSEQ = re.compile(rb"\((\d+)\)\Z")
# has_attachment() can only answer yes for a part of type "message", a disposition "attachment"
# or a parameter whose name starts with "name"/"filename". Without those words (ASCII case
# folding; no backslash escape that could hide a letter) the answer is no, with no parsing.
#
# The usual yes: a disposition list ("attachment" ...), which follows a space in a part. It counts
# when it stands outside every quoted string: with no backslash in the structure, that is when an
# even number of quotes comes before it.
_DISPOSITION_ATTACHMENT = b' ("attachment" '
_REFERENCES_ITEM = b"BODY[HEADER.FIELDS"

Envelope = tuple[bytes | None, bytes | None, tuple[Address, ...], tuple[Address, ...],
                 tuple[Address, ...], tuple[Address, ...], bytes | None, bytes | None]


def _first(raw: bytes) -> Value:
    """The one list in ``raw``, read by the general parser."""
    parsed = parse_segments([raw])
    return parsed[0] if parsed else None


@lru_cache(maxsize=8192)
def address_list(raw: bytes) -> tuple[Address, ...]:
    """The addresses of a raw ENVELOPE address list (or ``NIL``) as matched by ``_ADDRESS_LIST``."""
    result = []
    for match in _ADDRESS_FIELDS.finditer(raw):
        name, _adl, mailbox, host = match.groups()
        if mailbox is None or host is None:  # group syntax (RFC 3501 7.4.2)
            continue
        result.append(address_of(_string(name), unquote(mailbox), unquote(host)))
    return tuple(result)


@lru_cache(maxsize=512)
def flags_of(raw: bytes) -> frozenset[str]:
    """A raw ``(\\Seen ...)`` flag list as a set."""
    return flag_set(_first(raw))


subject_text = lru_cache(maxsize=8192)(header_text)
"""header_text, remembered: a thread repeats its subject."""


def _string(content: bytes | None) -> bytes | None:
    return content if content is None or b"\\" not in content else unquote(content)


def _matched_envelope(groups: tuple[bytes | None, ...]) -> Envelope:
    date, subject, from_, _sender, reply_to, to, cc, _bcc, in_reply_to, message_id = groups
    return (_string(date), _string(subject), address_list(from_), address_list(reply_to),
            address_list(to), address_list(cc), _string(in_reply_to), _string(message_id))


def envelope_fields(raw: bytes) -> Envelope:
    """(date, subject, from, reply-to, to, cc, in-reply-to, message-id) of a raw ENVELOPE."""
    match = _ENVELOPE.match(raw)
    if match is not None:
        return _matched_envelope(match.groups())
    env = _first(raw)
    if not isinstance(env, list) or len(env) < 10:
        env = [None] * 10
    return (_nstring(env[0]), _nstring(env[1]), addresses(env[2]), addresses(env[4]), addresses(env[5]),
            addresses(env[6]), _nstring(env[8]), _nstring(env[9]))


def _nstring(value: Value) -> bytes | None:
    """An envelope field that must be a string or NIL; a list where it should be (a broken
    server's) is taken for NIL."""
    return value if isinstance(value, bytes) else None


def attachment_in(raw: bytes) -> bool:
    """has_attachment() of a raw BODYSTRUCTURE, parsed only when it could say yes."""
    lowered = raw.lower()
    if b"\\" not in lowered:
        if b"name" not in lowered and b"attachment" not in lowered and b"message" not in lowered:
            return False
        at = lowered.find(_DISPOSITION_ATTACHMENT)
        while at >= 0:
            if lowered.count(b'"', 0, at) % 2 == 0:
                return True
            at = lowered.find(_DISPOSITION_ATTACHMENT, at + 1)
    return has_attachment(_first(raw))


def _modseq(items: FetchItems) -> int:
    raw = items.lists.get(b"MODSEQ")
    if raw is None:
        return modseq_of(items.values.get(b"MODSEQ"))
    match = _MODSEQ.match(raw)
    return int(match.group(1)) if match is not None else modseq_of(_first(raw))


def _build(uid: int, raw_flags: bytes | None, internaldate: Value, size: int, envelope: Envelope,
           raw_body: bytes | None, refs: tuple[str, ...], modseq: int) -> MessageSummary:
    date_raw, subject, from_, reply_to, to, cc, in_reply_to, message_id = envelope
    date = envelope_date(date_raw) if date_raw else None
    if date is None or too_far_ahead(date):  # listed by its arrival
        date = parse_internaldate(internaldate) or date
    return MessageSummary(
        uid=uid,
        flags=flags_of(raw_flags) if raw_flags is not None else frozenset(),
        date=date,
        size=size,
        subject=subject_text(subject),
        from_=from_,
        reply_to=reply_to,
        to=to,
        cc=cc,
        in_reply_to=text(in_reply_to),
        message_id=text(message_id),
        references=refs,
        has_attachment=attachment_in(raw_body) if raw_body is not None else False,
        modseq=modseq,
    )


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
    return _build(uid, lists.get(b"FLAGS"), values.get(b"INTERNALDATE"), as_int(values.get(b"RFC822.SIZE")),
                  envelope_fields(raw_envelope), lists.get(b"BODYSTRUCTURE"), refs, _modseq(items))


def _common(segments: Segments) -> MessageSummary | None:
    """The usual answer, read by one pattern; None when it is shaped otherwise."""
    if len(segments) != 3 or segments[2] != b")":
        return None
    match = _COMMON.match(segments[0])
    if match is None:
        return None
    return _summary_of_match(match, segments[1])


def _summary_of_match(match: re.Match[bytes], literal: bytes) -> MessageSummary | None:
    """The summary of a line matched by the usual pattern and the references literal after it.

    The hot path of every sync, so written out in one function (no intermediate tuples).
    """
    (uid, raw_flags, internaldate, size, modseq, date_raw, subject, from_, _sender, reply_to, to, cc,
     _bcc, in_reply_to, message_id, raw_body, literal_size) = match.groups()
    if len(literal) != int(literal_size):
        return None
    date = envelope_date(_string(date_raw)) if date_raw else None
    if date is None or too_far_ahead(date):  # listed by its arrival
        date = parse_internaldate(internaldate) or date
    return MessageSummary(
        int(uid),
        flags_of(raw_flags),
        date,
        int(size),
        subject_text(_string(subject)),
        address_list(from_),
        address_list(to),
        address_list(cc),
        address_list(reply_to),
        text(_string(message_id)),
        text(_string(in_reply_to)),
        references(literal) if b"<" in literal else (),
        attachment_in(raw_body),
        int(modseq) if modseq is not None else 0,
    )


def scan_summaries(data: bytes, pos: int, add: Callable[[MessageSummary], None]) -> int:
    """Read the usual answers straight from received bytes, from ``pos`` on, handing each summary
    to ``add``; returns where reading stopped: the end of ``data``, or the first response that is
    incomplete or shaped otherwise (the response framer takes it from there).

    Each response is one pattern match, one slice for its literal and one check of its end:
    no framing into segments, no dispatch.
    """
    match_at = _COMMON_IN_BUFFER.match
    find = data.find
    while True:
        match = match_at(data, pos)
        if match is None:
            return pos
        line_end = match.end()
        if find(b"\n", pos) != line_end - 1:  # the framer would end the line earlier
            return pos
        literal_end = line_end + int(match.group(17))
        if data[literal_end : literal_end + 3] != _CLOSE:  # incomplete, or not what it said
            return pos
        try:
            summary = _summary_of_match(match, data[line_end:literal_end])
        except Exception:  # noqa: BLE001 - the framer hands it to the readings that say why (see stream)
            summary = None
        if summary is None:
            return pos
        add(summary)
        pos = literal_end + 3


def summary_from_segments(segments: Segments) -> MessageSummary | None:
    """The summary in one FETCH response, or None when the general parser must read it."""
    summary = _common(segments)
    if summary is not None:
        return summary
    if len(segments) > 1:
        segments = inline_literals(segments)
        summary = _common(segments)
        if summary is not None:
            return summary
    items = scan_fetch(segments)
    return summary_from_scan(items) if items is not None else None
