"""A draft made into the RFC 5322 bytes that are sent, and the envelope's recipients.

Built with the standard library's ``email`` package (policy SMTP: CRLF line ends, RFC 2047 words
for non-ASCII headers, RFC 2231 for non-ASCII file names). Nothing typed into a field can add a
header: a line break or other control character in any header field is refused with a
:class:`ComposeError` naming the field. Bcc never appears in the bytes that are sent; it is in
the envelope only. Attachments given by path are read here: call this off the UI's loop.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from mailbag.domain.compose import Draft, DraftAttachment, split_addresses
from mailbag.domain.models import Address

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")
_ADDR_SPEC = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+$")
_MSGID = re.compile(r"^<[^<>\s]+>$")


class ComposeError(ValueError):
    """A field of the draft cannot go into a message: ``field`` names it, ``problem`` says why."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message ready for the outbox: its bytes as sent (no Bcc) and the envelope recipients."""

    message: bytes
    recipients: tuple[str, ...]
    message_id: str


def new_message_id(from_text: str) -> str:
    """A fresh Message-ID on the domain of the From address."""
    found = split_addresses(from_text)
    domain = found[0].email.rpartition("@")[2] if found and "@" in found[0].email else "mailbag.invalid"
    return email.utils.make_msgid(domain=_CONTROL.sub("", domain) or "mailbag.invalid")


def parse_field(name: str, text: str) -> list[Address]:
    """The addresses of an address field; ComposeError for one that is not an address."""
    _refuse_controls(name, text)
    if not text.strip():
        return []
    addresses = split_addresses(text)
    pieces = [piece for piece in re.split(r",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", text) if piece.strip()]
    if not addresses or len(addresses) < len(pieces):
        raise ComposeError(name, f'"{text.strip()}" is not a list of email addresses')
    for address in addresses:
        if not _ADDR_SPEC.match(address.email):
            shown = address.email or address.name
            raise ComposeError(name, f'"{shown}" is not an email address')
    return addresses


def _refuse_controls(name: str, text: str) -> None:
    if _CONTROL.search(text):
        raise ComposeError(name, "line breaks and control characters are not allowed")


def _header_addresses(addresses: list[Address]) -> str:
    from email.headerregistry import Address as HeaderAddress

    return ", ".join(
        str(HeaderAddress(display_name=a.name, addr_spec=a.email)) if a.name else a.email
        for a in addresses
    )


def build_message(
    draft: Draft,
    *,
    now: datetime,
    for_sending: bool = True,
    read_file: Callable[[str], bytes] = lambda path: Path(path).read_bytes(),
) -> Outgoing:
    """The message of ``draft`` dated ``now``.

    ``for_sending``: at least one recipient is required and Bcc is left out of the headers (a
    copy kept in the Drafts folder keeps it, so the draft can be resumed whole). Raises
    ComposeError for a field that cannot be sent, OSError for an attachment that cannot be read.
    """
    senders = parse_field("From", draft.from_)
    if len(senders) != 1:
        raise ComposeError("From", "needs exactly one address")
    to = parse_field("To", draft.to)
    cc = parse_field("Cc", draft.cc)
    bcc = parse_field("Bcc", draft.bcc)
    _refuse_controls("Subject", draft.subject)
    message_id = draft.message_id or new_message_id(draft.from_)
    for name, value in (("Message-ID", message_id), ("In-Reply-To", draft.in_reply_to), *(
        ("References", ref) for ref in draft.references
    )):
        if value and not _MSGID.match(value):
            raise ComposeError(name, f'"{_CONTROL.sub(" ", value)}" is not a message id')
    if for_sending and not (to or cc or bcc):
        raise ComposeError("To", "no recipient")

    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = _header_addresses(senders)
    if to:
        message["To"] = _header_addresses(to)
    if cc:
        message["Cc"] = _header_addresses(cc)
    if bcc and not for_sending:
        message["Bcc"] = _header_addresses(bcc)
    message["Subject"] = draft.subject
    message["Date"] = email.utils.format_datetime(now)
    message["Message-ID"] = message_id
    if draft.in_reply_to:
        message["In-Reply-To"] = draft.in_reply_to
    if draft.references:
        message["References"] = " ".join(draft.references)
    message["MIME-Version"] = "1.0"
    body = draft.body.replace("\r\n", "\n").replace("\r", "\n")
    body = body if body.endswith("\n") else body + "\n"
    # Quoted-printable for anything not ASCII: it reaches any server, 8BITMIME or not.
    message.set_content(body, cte="7bit" if body.isascii() and _short_lines(body) else "quoted-printable")
    for attachment in draft.attachments:
        _attach(message, attachment, read_file)

    recipients: list[str] = []
    for address in (*to, *cc, *bcc):
        if address.email.lower() not in {r.lower() for r in recipients}:
            recipients.append(address.email)
    return Outgoing(message.as_bytes(), tuple(recipients), message_id)


def _short_lines(text: str) -> bool:
    return all(len(line) <= 998 for line in text.split("\n"))


def content_type_of(attachment: DraftAttachment) -> str:
    """The attachment's MIME type: as given, else guessed from its name."""
    if attachment.content_type:
        return attachment.content_type
    guessed, encoding = mimetypes.guess_type(attachment.name, strict=False)
    if guessed is None or encoding is not None:  # a .tar.gz is sent as it is, not as a tar
        return "application/octet-stream"
    return guessed


def _attach(message: EmailMessage, attachment: DraftAttachment, read_file: Callable[[str], bytes]) -> None:
    data = attachment.data if attachment.data is not None else read_file(attachment.path)
    maintype, _, subtype = content_type_of(attachment).partition("/")
    name = _CONTROL.sub(" ", attachment.name)
    if (maintype, subtype) == ("message", "rfc822"):
        inner = email.message_from_bytes(data, policy=email.policy.SMTP)
        message.add_attachment(inner, filename=name)
        return
    message.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream", filename=name)
