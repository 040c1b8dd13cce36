"""A draft made into the RFC 5322 bytes that are sent, and the envelope's recipients.

Built with the standard library's ``email`` package (policy SMTP: CRLF line ends, RFC 2047 words
for non-ASCII headers, RFC 2231 for non-ASCII file names). Nothing typed into a field can add a
header: a line break or other control character in any header field is refused with a
:class:`ComposeError` naming the field. Bcc never appears in the bytes that are sent; it is in
the envelope only. Attachments given by path are read here: call this off the UI's loop.

An address's domain beyond ASCII (``bücher.example``) goes out in its ASCII form (IDNA,
``xn--bcher-kva.example``). An address with letters beyond ASCII before the ``@`` (``jörg@...``),
or a message id beyond ASCII (replying to such a message), makes the header one of RFC 6532:
written in UTF-8 (policy SMTPUTF8), to be sent with SMTPUTF8 (RFC 6531), which the SMTP client
asks of the server (and refuses the message by name when it is not offered). A subject holding what looks like
an encoded word (``=?utf-8?q?...?=``, typed, or kept from a broken one replied to) is encoded whole,
so that it arrives as written. A message forwarded as an attachment goes as its bytes, unchanged.
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
from email.generator import BytesGenerator
from email.header import Header
from email.message import EmailMessage
from io import BytesIO
from pathlib import Path

from mailbag.domain.compose import Draft, DraftAttachment, split_addresses
from mailbag.domain.envelope import ascii_domain
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
    """A fresh Message-ID on the domain of the From address (in its ASCII form)."""
    found = split_addresses(from_text)
    domain = found[0].email.rpartition("@")[2] if found and "@" in found[0].email else ""
    domain = ascii_domain(_CONTROL.sub("", domain))
    if not domain.isascii() or not _ADDR_SPEC.match(f"id@{domain}"):
        domain = "mailbag.invalid"
    return email.utils.make_msgid(domain=domain)


def parse_field(name: str, text: str) -> list[Address]:
    """The addresses of an address field, each in the form that is sent (see the module's text);
    ComposeError for one that is not an address, or cannot be sent."""
    _refuse_controls(name, text)
    if not text.strip():
        return []
    addresses = split_addresses(text)
    if not addresses or len(addresses) < _pieces(text):
        raise ComposeError(name, f'"{text.strip()}" is not a list of email addresses')
    for address in addresses:
        if not _ADDR_SPEC.match(address.email):
            shown = address.email or address.name
            raise ComposeError(name, f'"{shown}" is not an email address')
    return [Address(a.name, _sendable(name, a.email)) for a in addresses]


def _pieces(text: str) -> int:
    """How many non-empty pieces ``text`` is cut into by its commas outside double quotes (those
    with an even number of quotes after them), in one pass: a reply to all of a list of
    thousands is no slower to send than another."""
    count, quotes_after, filled = 0, text.count('"'), False
    for char in text:
        if char == '"':
            quotes_after -= 1
        elif char == "," and quotes_after % 2 == 0:
            count += filled
            filled = False
            continue
        filled = filled or not char.isspace()
    return count + filled


def _sendable(name: str, addr_spec: str) -> str:
    """``addr_spec`` with its domain in ASCII (IDNA); ComposeError for a domain IDNA cannot
    write. A local part beyond ASCII is kept (see the module's text)."""
    local, _, domain = addr_spec.rpartition("@")
    sendable = f"{local}@{ascii_domain(domain)}"
    if not domain.isascii() and not (sendable.rpartition("@")[2].isascii() and _ADDR_SPEC.match(sendable)):
        raise ComposeError(name, f'"{addr_spec}": "{domain}" is not a domain name')
    return sendable


class _EncodedWhole(str):
    """A header value that goes out as RFC 2047 words from end to end (a header object, in the
    ``email`` policy's terms: it folds itself), where the policy would take the encoded words it
    holds for ones to decode."""

    name: str

    def __new__(cls, name: str, text: str) -> _EncodedWhole:
        value = super().__new__(cls, text)
        value.name = name
        return value

    def fold(self, *, policy: email.policy.Policy) -> str:
        encoded = Header(str(self), "utf-8", header_name=self.name).encode(linesep=policy.linesep)
        return f"{self.name}: {encoded}{policy.linesep}"


def _refuse_controls(name: str, text: str) -> None:
    if _CONTROL.search(text):
        raise ComposeError(name, "line breaks and control characters are not allowed")


def _header_addresses(name: str, addresses: list[Address]) -> str:
    from email.errors import HeaderParseError
    from email.headerregistry import Address as HeaderAddress

    shown: list[str] = []
    for a in addresses:
        try:
            # Checked as the email package reads an address (it refuses one beyond ASCII before
            # the @, which it writes, given the two halves).
            local, _, domain = a.email.rpartition("@")
            HeaderAddress(addr_spec=a.email if local.isascii() else f"x@{domain}")
            address = HeaderAddress(display_name=_unmistakable(a.name), username=local, domain=domain)
        except (ValueError, HeaderParseError):  # "a@example..org": the email package's stricter reading
            raise ComposeError(name, f'"{a.email}" is not an email address') from None
        shown.append(str(address) if a.name else address.addr_spec)
    return ", ".join(shown)


def _unmistakable(name: str) -> str:
    """A display name as it goes into the header, ``=?`` written ``= ?``: the email package
    reads ``=?...?=`` as an encoded word even inside quotes, and a broken one quoted from a
    hostile message (``=?iIn-Reply-To: <so-8859-1?Q?J=FCrgen?=``) ended the build, or went out
    unquoted, its ``<`` read as an address's start."""
    return name.replace("=?", "= ?")


def _needs_utf8(addresses: list[Address], message_ids: list[str]) -> bool:
    """Whether a header with these addresses and message ids is one of RFC 6532 (UTF-8)."""
    return not all(a.email.isascii() for a in addresses) or not all(i.isascii() for i in message_ids)


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

    ids = [message_id, draft.in_reply_to, *draft.references]
    utf8 = _needs_utf8([*senders, *to, *cc, *bcc], ids)
    message = EmailMessage(policy=email.policy.SMTPUTF8 if utf8 else email.policy.SMTP)
    message["From"] = _header_addresses("From", senders)
    if to:
        message["To"] = _header_addresses("To", to)
    if cc:
        message["Cc"] = _header_addresses("Cc", cc)
    if bcc and not for_sending:
        message["Bcc"] = _header_addresses("Bcc", bcc)
    message["Subject"] = _EncodedWhole("Subject", draft.subject) if "=?" in draft.subject else draft.subject
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

    recipients: dict[str, str] = {}  # lower case -> as written, the first of each
    for address in (*to, *cc, *bcc):
        recipients.setdefault(address.email.lower(), address.email)
    return Outgoing(_as_bytes(message), tuple(recipients.values()), message_id)


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
        _attach_message(message, data, name)
        return
    message.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream", filename=name)


def _attach_message(message: EmailMessage, data: bytes, name: str) -> None:
    """Attach the message ``data`` as it is (message/rfc822): parsed and written again, a message
    as received (8-bit header bytes, a broken encoded word) could not be written, or changed."""
    if message.get_content_type() != "multipart/mixed":
        message.make_mixed()
    part = EmailMessage(policy=message.policy)
    part["Content-Type"] = "message/rfc822"
    part["Content-Transfer-Encoding"] = "7bit" if data.isascii() else "8bit"  # RFC 2046 5.2.1: no other
    part.add_header("Content-Disposition", "attachment", filename=name)
    crlf = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    part.set_payload(crlf.decode("ascii", "surrogateescape"))  # written back byte for byte (_Writer)
    message.attach(part)


class _Writer(BytesGenerator):
    """The standard library's writer of a message's bytes, except that a message/rfc822 part held
    as text (bytes decoded with ``surrogateescape``, see :func:`_attach_message`) is written back
    byte for byte, where the standard one takes it for ASCII (and fails on an 8-bit byte)."""

    def _encode(self, s: str) -> bytes:
        return s.encode("ascii", "surrogateescape")


def _as_bytes(message: EmailMessage) -> bytes:
    out = BytesIO()
    _Writer(out, policy=message.policy).flatten(message)
    return out.getvalue()
