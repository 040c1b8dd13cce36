"""Parts besides plain text and HTML that the reader shows in the body, as NeoMutt does.

An attached or forwarded message (message/rfc822, also each part of a multipart/digest) shows its
From, To, Cc, Date and Subject and its own body, nested up to ``MAX_NESTED`` deep; a delivery
status report shows why a message bounced, a read receipt what became of the message
(``mailbag.domain.dsn``), an abuse report what kind and about what; the returned headers of a
bounce show as headers; a calendar invitation is summarised (``mailbag.domain.calendar_text``).
A part kept elsewhere (message/external-body: at a URL, on an FTP site, or an attachment mutt
deleted) says what it was and where it is, and is never fetched; a part of a message sent in
parts (message/partial) says which. Attached messages, calendars and partial messages stay in the
attachment list as well, so they can be saved.
"""

from __future__ import annotations

import email.parser
import email.policy
import re
from collections.abc import Callable

from mailbag.domain.calendar_text import calendar_text
from mailbag.domain.dsn import delivery_status_text, feedback_text, receipt_text
from mailbag.domain.headers import decode_words, format_addresses
from mailbag.domain.mime_structure import Limits, MimePart, Structure, read_structure
from mailbag.domain.models import RenderedMessage
from mailbag.domain.payload import payload_text
from mailbag.domain.sanitize import clean_line

#: Attached messages inside attached messages are shown this many levels deep.
MAX_NESTED = 5

RenderInner = Callable[[Structure, int], RenderedMessage]
"""How mime renders an attached message at a nesting level (passed in: mime imports this module)."""
ReadInner = Callable[[MimePart], Structure | None]
"""How mime reads an attached message's structure (within the enclosing message's limits)."""

_MESSAGES = frozenset({"message/rfc822", "message/global"})
_REPORTS = frozenset({"message/delivery-status", "message/global-delivery-status"})
_RECEIPTS = frozenset({"message/disposition-notification", "message/global-disposition-notification"})
_HEADERS = frozenset({"text/rfc822-headers", "message/global-headers"})
_CALENDARS = frozenset({"text/calendar", "application/ics"})
_EXTERNAL = "message/external-body"
_PARTIAL = "message/partial"
_FEEDBACK = "message/feedback-report"
_INLINE = _MESSAGES | _REPORTS | _RECEIPTS | _HEADERS | _CALENDARS | {_EXTERNAL, _PARTIAL, _FEEDBACK}
_HEADER_FIELDS = ("From", "To", "Cc", "Date", "Subject")
_FOLD = re.compile(r"\r?\n[ \t]*")


def is_inline(part: MimePart) -> bool:
    """Whether the reader shows this (non-multipart) part in the body."""
    return part.content_type in _INLINE


def is_calendar(part: MimePart) -> bool:
    """A calendar, summarised even when it is only an alternative to the text."""
    return part.content_type in _CALENDARS


def stays_listed(part: MimePart) -> bool:
    """Shown in the body and listed as an attachment too (to be saved or opened)."""
    return part.content_type in _MESSAGES | _CALENDARS | {_PARTIAL}


def kept_elsewhere(part: MimePart) -> bool:
    """A part whose content is not in the message (message/external-body): nothing to save."""
    return part.content_type == _EXTERNAL


def inline_text(part: MimePart, depth: int, render: RenderInner, read: ReadInner) -> str:
    """The text the reader shows for ``part``, an attached message ``depth`` levels down."""
    content_type = part.content_type
    if content_type in _MESSAGES:
        return _attached_message(part, depth, render, read)
    if content_type in _REPORTS:
        return delivery_status_text(part)
    if content_type in _RECEIPTS:
        return receipt_text(part)
    if content_type in _HEADERS:
        return "[-- Headers of the returned message --]\n" + _header_lines(payload_text(part))
    if content_type == _EXTERNAL:
        return _external_text(part)
    if content_type == _PARTIAL:
        return _partial_text(part)
    if content_type == _FEEDBACK:
        return feedback_text(part)
    return calendar_text(payload_text(part))


def _external_text(part: MimePart) -> str:
    """What a message/external-body part (RFC 2046 5.2.3) stands for and where it is kept, as
    plain text: mailbag never fetches it."""
    params = {key: clean_line(value) for key, value in part.params.items()}
    phantom = read_structure(part.payload(), Limits(max_depth=0, max_parts=1)).root  # the content's fields
    kind = clean_line(phantom.content_type)
    name = clean_line(phantom.filename or "") or params.get("name", "")
    what = f"{name} ({kind})" if name else kind
    access = params.get("access-type", "").lower()
    if access == "x-mutt-deleted":  # how mutt leaves an attachment its user deleted
        length = params.get("length", "")
        size = f", {int(length) // 1024 or 1} KB" if length.isdigit() and len(length) < 16 else ""
        return f"[-- {name or 'An attachment'} ({kind}{size}) was deleted from this message --]"
    if access == "url":  # RFC 2017: the URL may be folded in pieces
        where = "at " + "".join(params.get("url", "").split())
    elif access in ("ftp", "anon-ftp", "tftp"):
        path = "/".join(p for p in (params.get("directory", ""), params.get("name", "")) if p)
        where = f"by {access.upper()} on {params.get('site', '?')}: {path}"
    elif access == "local-file":
        where = f"in a file on {params.get('site', 'the sender’s machine')}: {params.get('name', '?')}"
    elif access == "mail-server":
        where = f"by mail from {params.get('server', '?')}"
    else:
        where = f"by {access or 'an unnamed way'}"
    until = f" until {params['expiration']}" if params.get("expiration") else ""
    return f"[-- {what} is not in this message: it is kept {where}{until} (not fetched) --]"


def _partial_text(part: MimePart) -> str:
    """Which piece of a message sent in parts (message/partial, RFC 2046 5.2.2) this is."""
    number, total = part.params.get("number", "?"), part.params.get("total", "?")
    ident = clean_line(part.params.get("id", ""))
    return (f"[-- Part {clean_line(number)} of {clean_line(total)} of a message sent in parts"
            f"{f' ({ident})' if ident else ''}: saved in order, its parts joined make the message --]")


def _attached_message(part: MimePart, depth: int, render: RenderInner, read: ReadInner) -> str:
    inner = read(part)  # one sent base64 or quoted-printable (RFC 2046 forbids it) is decoded first
    if inner is None or inner.root.start >= inner.root.end:
        return "[-- Attached message (empty) --]"
    if depth >= MAX_NESTED:
        subject = decode_words(inner.root.header("subject"))
        return f'[-- Attached message "{subject}" not shown: nested more than {MAX_NESTED} deep --]'
    message = render(inner, depth + 1)
    lines = ["[-- Attached message --]"]
    rows = [
        ("From", format_addresses(message.from_)),
        ("To", format_addresses(message.to)),
        ("Cc", format_addresses(message.cc)),
        ("Date", message.date.strftime("%a, %d %b %Y %H:%M %z") if message.date else ""),
        ("Subject", message.subject),
    ]
    lines.extend(f"{label}: {value}" for label, value in rows if value)
    if message.attachments:
        lines.append("Attach: " + ", ".join(a.filename for a in message.attachments))
    if message.body:
        lines.extend(["", message.body])
    lines.append("[-- End of attached message --]")
    return "\n".join(lines)


def _header_lines(text: str) -> str:
    """The usual fields of a header block, decoded, one a line."""
    headers = email.parser.HeaderParser(policy=email.policy.compat32).parsestr(text)
    lines = []
    for field in _HEADER_FIELDS:
        value = headers.get(field)
        if value is not None:
            lines.append(f"{field}: {decode_words(_FOLD.sub(' ', str(value)).strip())}")
    return "\n".join(lines)
