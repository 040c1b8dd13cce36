"""Drafts: the message being written, and how new messages, replies and forwards start.

A :class:`Draft` holds what the compose screen edits, as the user typed it (addresses are text
such as ``"Ann <ann@example.org>, bob@example.org"``). The builders here fill one in from an
original message's bytes: recipients, a subject without stacked prefixes, In-Reply-To and
References, and the quoted text (the reader's rendering, so an HTML-only message is quoted as
text). Turning a draft into bytes to send is :mod:`mailbag.domain.outgoing`'s job.
"""

from __future__ import annotations

import email
import email.parser
import email.policy
import email.utils
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.message import Message
from typing import Literal

from mailbag.domain.config import AccountConfig
from mailbag.domain.headers import address_pairs, decode_words, format_address, format_addresses, parse_address_list
from mailbag.domain.deadline import Deadline
from mailbag.domain.envelope import split_header
from mailbag.domain.mime import extract_part, render_message
from mailbag.domain.mime_structure import DEFAULT_LIMITS, read_structure
from mailbag.domain.payload import text_of
from mailbag.domain.models import Address, MarkWhenSent, RenderedMessage
from mailbag.domain.quotes import LineKind, layout_body
from mailbag.domain.sanitize import clean_line, clean_text

ReplyMode = Literal["sender", "all", "list"]

#: At most this many ids are carried in References (the first one and the newest ones).
MAX_REFERENCES = 20
#: The longest subject a reply or forward takes from the message it answers (no real one is near).
MAX_SUBJECT = 1000


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a message is from: an account's address, display name and signature."""

    account: str
    email: str
    name: str = ""
    signature: str = ""

    @classmethod
    def of(cls, account: AccountConfig) -> Identity:
        """The identity an account's configuration gives."""
        return cls(account.name, account.email, account.display_name, account.signature)

    @property
    def from_text(self) -> str:
        """The From field as the compose screen shows it."""
        return format_address(Address(self.name, self.email))


@dataclass(frozen=True, slots=True)
class DraftAttachment:
    """A file attached by ``path`` (read when the message is built), or a part carried as
    ``data`` (a forwarded message, an attachment of a resumed draft)."""

    path: str = ""
    data: bytes | None = None
    filename: str = ""  # the name the recipient sees; the path's last part when empty
    content_type: str = ""  # guessed from the name when empty

    @property
    def name(self) -> str:
        return self.filename or self.path.rsplit("/", 1)[-1] or "attachment"


@dataclass(frozen=True, slots=True)
class Draft:
    """A message being written. ``message_id`` stays the same through every saved version and
    becomes the sent message's Message-ID."""

    account: str
    from_: str = ""
    to: str = ""
    cc: str = ""
    bcc: str = ""
    subject: str = ""
    body: str = ""
    attachments: tuple[DraftAttachment, ...] = ()
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    message_id: str = ""
    #: The message replied to or forwarded, flagged once this one is sent.
    mark: MarkWhenSent | None = None

    def is_empty(self) -> bool:
        """Nothing the user wrote: no recipient, subject, body text (beyond the signature) or
        attachment."""
        return not (
            self.to.strip()
            or self.cc.strip()
            or self.bcc.strip()
            or self.subject.strip()
            or self.attachments
            or _without_signature(self.body).strip()
        )

    def with_(self, **changes: object) -> Draft:
        """A copy with ``changes`` (field name -> value)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def _without_signature(body: str) -> str:
    head, separator, _ = body.rpartition("\n-- \n")
    if separator:
        return head
    return "" if body.startswith("-- \n") else body


def split_addresses(text: str) -> list[Address]:
    """The addresses typed in a field (comma separated, names optional)."""
    result = []
    for name, addr in address_pairs(text):
        if name or addr:
            result.append(Address(name=name.strip(), email=addr.strip()))
    return result


def _unique(addresses: Iterable[Address], skip: Iterable[str] = ()) -> list[Address]:
    seen = {s.lower() for s in skip}
    result = []
    for address in addresses:
        key = address.email.lower()
        if "@" in key and key not in seen:
            seen.add(key)
            result.append(address)
    return result


# --- subjects -----------------------------------------------------------------------------------

_REPLY_PREFIX = re.compile(r"^\s*(?:re|aw|sv|vs|antw|odp|r)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*", re.IGNORECASE)
_FORWARD_PREFIX = re.compile(r"^\s*(?:fwd?|wg|tr|rv|vb)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*", re.IGNORECASE)


def _strip(pattern: re.Pattern[str], subject: str) -> str:
    while True:
        stripped = pattern.sub("", subject, count=1)
        if stripped == subject:
            return subject.strip()
        subject = stripped


def reply_subject(subject: str) -> str:
    """``Re: `` once before the subject, whatever reply prefixes it had (Re:, RE:, Aw:, Re[2]:)."""
    return "Re: " + _strip(_REPLY_PREFIX, _taken(subject))


def forward_subject(subject: str) -> str:
    """``Fwd: `` once before the subject, whatever forward prefixes it had (Fwd:, FW:, WG:)."""
    return "Fwd: " + _strip(_FORWARD_PREFIX, _taken(subject))


def _taken(subject: str) -> str:
    """The subject of a message answered, on one line, cut at :data:`MAX_SUBJECT` characters
    (with ``…``): the email package takes time quadratic in a header's length to write it (a
    spam message's subject of a megabyte made a reply take half a minute)."""
    subject = clean_line(subject[: 4 * MAX_SUBJECT])
    return subject if len(subject) <= MAX_SUBJECT else subject[: MAX_SUBJECT - 1].rstrip() + "…"


# --- the original message -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Original:
    """What replies and forwards need of the message they answer."""

    rendered: RenderedMessage
    raw: bytes
    reply_to: tuple[Address, ...] = ()
    list_post: str = ""  # the list's address from List-Post, when it has one
    references: tuple[str, ...] = ()
    message_id: str = ""


_MSGID = re.compile(r"<[^<>\s]+>")


def read_original(raw: bytes) -> Original:
    """Parse the message being replied to or forwarded. Never raises on any input."""
    rendered = render_message(raw)
    try:
        message = _header_message(raw)
    except Exception:
        return Original(rendered, raw)

    def header(name: str) -> str:
        value = message.get(name)
        return "" if value is None else str(value)

    message_ids = _message_ids(header("Message-ID"))
    return Original(
        rendered=rendered,
        raw=raw,
        reply_to=parse_address_list(header("Reply-To")),
        list_post=_list_post(header("List-Post")),
        references=tuple(_message_ids(header("References"))),
        message_id=message_ids[0] if message_ids else "",
    )


def _message_ids(value: str) -> list[str]:
    """The message ids in ``value``, less any holding a byte that was not UTF-8 (written back, it
    would name another message)."""
    return [found for found in _MSGID.findall(value) if "\ufffd" not in found]


def _list_post(value: str) -> str:
    """The mailto address of a List-Post header (``<mailto:list@host?subject=x>``); "" for
    ``NO`` or no mailto."""
    match = re.search(r"<mailto:([^>?\s]+)", value, re.IGNORECASE)
    if not match:
        return ""
    return clean_line(email.utils.unquote(match.group(1)))


def _header_message(raw: bytes) -> Message:
    """``raw``'s header as the email package reads it, its 8-bit bytes read as UTF-8 (RFC 6532:
    an address or message id beyond ASCII; a byte that is not UTF-8 is U+FFFD)."""
    head = b"" if raw.startswith((b"\n", b"\r\n")) else split_header(raw)[0]  # none at all, or its block
    return email.parser.HeaderParser(policy=email.policy.compat32).parsestr(head.decode("utf-8", "replace"))


# --- building drafts ----------------------------------------------------------------------------


def _signed(body: str, identity: Identity) -> str:
    signature = identity.signature.strip("\n")
    if not signature:
        return body
    return f"{body}\n-- \n{signature}\n"


def swap_signature(body: str, old: Identity, new: Identity) -> str:
    """``body`` with ``old``'s signature (below its last ``-- ``) replaced by ``new``'s; a body
    whose signature the user changed or took out keeps it as it is."""
    old_signature = old.signature.strip("\n")
    if old_signature:
        head, separator, tail = body.rpartition("\n-- \n")
        if not separator or tail.strip("\n") != old_signature:
            return body  # the user's own now
        body = head
    return _signed(body, new)


def new_draft(identity: Identity, *, to: str = "", cc: str = "", subject: str = "", body: str = "") -> Draft:
    """A new message from ``identity`` (with its signature), empty but for what is given."""
    text = body.rstrip("\n") + "\n" if body.strip() else "\n"
    return Draft(
        account=identity.account, from_=identity.from_text, to=to, cc=cc, subject=subject, body=_signed(text, identity)
    )


@dataclass(frozen=True, slots=True)
class StartCompose:
    """A new message to open as the client starts (``mailbag compose``): from ``account``, with
    these fields and the files at the paths ``attach``."""

    account: str
    to: str = ""
    cc: str = ""
    subject: str = ""
    body: str = ""
    attach: tuple[str, ...] = ()

    def draft(self, identity: Identity) -> Draft:
        """The draft, from ``identity`` (the account's)."""
        draft = new_draft(identity, to=self.to, cc=self.cc, subject=self.subject, body=self.body)
        return draft.with_(attachments=tuple(DraftAttachment(path=path) for path in self.attach))


def attribution(original: RenderedMessage) -> str:
    """``On Tue, 3 Mar 2026 at 10:12, Ann Example wrote:``"""
    who = original.from_[0].display() if original.from_ else "someone"
    if original.date is None:
        return f"{who} wrote:"
    return f"On {_date_text(original.date)}, {who} wrote:"


def _date_text(date: datetime) -> str:
    return f"{date:%a}, {date.day} {date:%b %Y} at {date:%H:%M}"


def quote(text: str) -> str:
    """Every line of ``text`` quoted with ``> `` (``>`` before a line already quoted)."""
    lines = text.rstrip("\n").split("\n") if text.strip() else []
    return "\n".join(">" + line if line.startswith(">") or not line else "> " + line for line in lines)


def _quotable(body: str) -> str:
    """``body`` less its signature (from a ``-- `` line, as the reader finds it), which a reply
    leaves out of its quote as aerc and Thunderbird do; trailing blank lines go too."""
    layout = layout_body(body)
    if LineKind.SIGNATURE not in layout.kinds:
        return body
    kept = (line for line, kind in zip(layout.lines, layout.kinds) if kind != LineKind.SIGNATURE)
    return "\n".join(kept).rstrip("\n \t")


def _references(original: Original) -> tuple[str, ...]:
    refs = list(original.references)
    if original.message_id and original.message_id not in refs:
        refs.append(original.message_id)
    if len(refs) > MAX_REFERENCES:
        refs = refs[:1] + refs[-(MAX_REFERENCES - 1) :]
    return tuple(refs)


def reply_recipients(
    original: Original, mode: ReplyMode, own: Sequence[str]
) -> tuple[list[Address], list[Address]]:
    """(To, Cc) of a reply. ``own``: the user's addresses, never replied to in reply-all."""
    rendered = original.rendered
    own_lower = {o.lower() for o in own}
    if mode == "list" and original.list_post:
        return [Address("", original.list_post)], []
    # A Reply-To with no address in it (``"Name" <>``) is no place to reply to: From is.
    author = [a for a in original.reply_to if a.email] or [a for a in rendered.from_ if a.email]
    if author and all(a.email.lower() in own_lower for a in author):
        author = list(rendered.to) or author  # a reply to one's own message goes to its recipients
    if mode == "sender":
        return _unique(author), []
    to = _unique(author, skip=own_lower) or _unique(author)
    cc = _unique(list(rendered.to) + list(rendered.cc), skip={a.email for a in to} | own_lower)
    return to, cc


def reply(original: Original, identity: Identity, mode: ReplyMode = "sender", own: Sequence[str] = ()) -> Draft:
    """A reply (to the sender, to all, or to the list) quoting the original's text."""
    to, cc = reply_recipients(original, mode, [identity.email, *own])
    rendered = original.rendered
    quoted = quote(_quotable(rendered.body))
    body = f"{attribution(rendered)}\n{quoted}\n\n" if quoted else f"{attribution(rendered)}\n\n"
    return Draft(
        account=identity.account,
        from_=identity.from_text,
        to=format_addresses(to),
        cc=format_addresses(cc),
        subject=reply_subject(rendered.subject),
        body=_signed(body, identity),
        in_reply_to=original.message_id,
        references=_references(original),
    )


def _carried(original: Original) -> tuple[DraftAttachment, ...]:
    """The original's attachments, to be sent along."""
    carried = []
    for attachment in original.rendered.attachments:
        name, data = extract_part(original.raw, attachment)
        carried.append(DraftAttachment(data=data, filename=name, content_type=attachment.content_type))
    return tuple(carried)


def forward_inline(original: Original, identity: Identity) -> Draft:
    """A forward with the original's text in the body and its attachments carried along."""
    rendered = original.rendered
    lines = ["", "", "---------- Forwarded message ----------"]
    lines.append(f"From: {format_addresses(rendered.from_)}")
    if rendered.date is not None:
        lines.append(f"Date: {_date_text(rendered.date)}")
    lines.append(f"Subject: {rendered.subject}")
    lines.append(f"To: {format_addresses(rendered.to)}")
    if rendered.cc:
        lines.append(f"Cc: {format_addresses(rendered.cc)}")
    body = "\n".join(lines) + "\n\n" + rendered.body.rstrip("\n") + "\n"
    return Draft(
        account=identity.account,
        from_=identity.from_text,
        subject=forward_subject(rendered.subject),
        body=_signed(body, identity),
        attachments=_carried(original),
        references=_references(original),
    )


def forward_attached(original: Original, identity: Identity) -> Draft:
    """A forward with the original attached whole (message/rfc822)."""
    rendered = original.rendered
    name = " ".join(re.sub(r"[^\w.,()-]+", " ", rendered.subject).split()).strip(" .")[:60] or "message"
    return Draft(
        account=identity.account,
        from_=identity.from_text,
        subject=forward_subject(rendered.subject),
        body=_signed("\n", identity),
        attachments=(DraftAttachment(data=original.raw, filename=f"{name}.eml", content_type="message/rfc822"),),
        references=_references(original),
    )


def draft_from_message(raw: bytes, account: str) -> Draft:
    """A draft saved earlier (in the Drafts folder) back into a Draft to edit further."""
    original = read_original(raw)
    rendered = original.rendered
    message = _header_message(raw)

    def addresses(name: str) -> str:
        value = message.get(name)
        return format_addresses(parse_address_list(None if value is None else str(value)))

    in_reply_to = _message_ids(str(message.get("In-Reply-To") or ""))
    return Draft(
        account=account,
        from_=addresses("From"),
        to=addresses("To"),
        cc=addresses("Cc"),
        bcc=addresses("Bcc"),
        subject=decode_words(str(message.get("Subject") or "")),
        body=_draft_body(raw) or rendered.body,
        attachments=_carried(original),
        in_reply_to=in_reply_to[0] if in_reply_to else "",
        references=original.references,
        message_id=original.message_id,
    )


def _draft_body(raw: bytes) -> str:
    """The text a draft was saved with, as written (the reader's rendering trims blank lines):
    its first plain text part that is no attachment; "" for a message without one. Read with
    mailbag's own reading of the MIME structure, in time linear in the message's size, where the
    email package's reading of parameters takes seconds for a hostile Content-Type."""
    try:
        structure = read_structure(raw, DEFAULT_LIMITS, deadline=Deadline())
        for part in structure.parts:
            if part.content_type == "text/plain" and part.disposition != "attachment" and not part.children:
                return clean_text(text_of(part, part.payload()[: DEFAULT_LIMITS.max_text_bytes]))
    except Exception:  # noqa: BLE001 - a message that cannot be read resumes with the reader's text
        return ""
    return ""


__all__ = [
    "Draft",
    "DraftAttachment",
    "Identity",
    "Original",
    "attribution",
    "draft_from_message",
    "format_address",
    "format_addresses",
    "forward_attached",
    "forward_inline",
    "forward_subject",
    "new_draft",
    "quote",
    "read_original",
    "reply",
    "reply_recipients",
    "reply_subject",
    "split_addresses",
]


_IN = re.compile(r"^\+\s*(\d+)\s*([mhd])$", re.IGNORECASE)
_AT = re.compile(r"^(?:(\d{4})-(\d{2})-(\d{2})\s+)?(\d{1,2}):(\d{2})$")


def send_time(text: str, now: datetime) -> datetime:
    """When to send, from ``+30m``, ``+2h``, ``+1d``, ``14:30`` (today, else tomorrow) or
    ``2026-12-24 09:00`` (in ``now``'s time zone). ValueError says what is accepted."""
    text = text.strip()
    match = _IN.match(text)
    if match:
        amount, unit = int(match.group(1)), match.group(2).lower()
        return now + timedelta(**{{"m": "minutes", "h": "hours", "d": "days"}[unit]: amount})
    match = _AT.match(text)
    if match:
        year, month, day, hour, minute = match.groups()
        try:
            if year:
                when = now.replace(year=int(year), month=int(month), day=int(day), hour=int(hour),
                                   minute=int(minute), second=0, microsecond=0)
            else:
                when = now.replace(hour=int(hour), minute=int(minute), second=0, microsecond=0)
                if when <= now:
                    when += timedelta(days=1)
        except ValueError:
            raise ValueError(f'"{text}" is not a date and time') from None
        if when <= now:
            raise ValueError(f"{text} has passed")
        return when
    raise ValueError(f'"{text}": give +30m, +2h, +1d, 14:30 or 2026-12-24 09:00')
