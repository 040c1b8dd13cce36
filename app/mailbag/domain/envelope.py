"""A message's bytes made ready for the outbox: its header checked, its envelope read, Bcc taken
out, the header fields every sent message needs added. Works on the bytes, so the body (attachments and all)
goes out exactly as it was written.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from email.utils import formatdate

from mailbag.domain.headers import address_pairs, decode_bytes, decode_words

_LINE_END = re.compile(rb"\r\n|\r|\n")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_FIELD_NAME = re.compile(rb"[\x21-\x39\x3b-\x7e]+:")
#: What may not appear in an address of the envelope (it would break the SMTP command).
_BAD_ADDRESS = re.compile(r"[\x00-\x20\x7f<>()\[\],;:\\\"]")


class EnvelopeError(ValueError):
    """The message cannot be sent as it is; ``str()`` says why in one line."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """A message ready for the outbox."""

    raw: bytes  # CRLF line ends, no Bcc field, with Date and Message-ID
    sender: str  # the From address ("" when there is none)
    recipients: tuple[str, ...]  # To, Cc and Bcc addresses, each once, in order
    subject: str
    message_id: str


def prepare(raw: bytes, *, domain: str, strip_bcc: bool = False) -> Prepared:
    """Check ``raw``'s header and make it ready to send: CRLF line ends, a Date and a Message-ID
    (``<...@``the From address's domain, else ``domain>``) added when missing. The recipients are read from To, Cc and Bcc. With
    ``strip_bcc`` (``sendmail -t``) the Bcc field is taken out; without it a Bcc field is refused
    (the caller should have taken it out). Raises EnvelopeError."""
    head, body = split_header(raw)
    fields = _fields(head)
    bcc = [value for name, value in fields if name == "bcc"]
    if bcc and not strip_bcc:
        raise EnvelopeError("the message still has a Bcc field: it would show every Bcc recipient")
    kept = [(name, value, line) for name, value, line in _raw_fields(head) if name != "bcc"]
    values = {name: _readable(value) for name, value in fields}
    recipients = _addresses([_readable(v) for n, v in fields if n in ("to", "cc", "bcc")])
    senders = _addresses([values["from"]]) if "from" in values else ()
    extra: list[bytes] = []
    if "date" not in values:
        extra.append(b"Date: " + formatdate(time.time(), localtime=True).encode() + b"\r\n")
    message_id = values.get("message-id", "").strip()
    if not message_id:
        domains = [ascii_domain(senders[0].rpartition("@")[2]) if senders else "", ascii_domain(domain)]
        own = next((d for d in domains if d and d.isascii()), "localhost")
        message_id = f"<{uuid.uuid4().hex}@{own}>"
        extra.append(b"Message-ID: " + message_id.encode() + b"\r\n")
    out = b"".join(line for _name, _value, line in kept) + b"".join(extra)
    return Prepared(
        raw=out + b"\r\n" + _LINE_END.sub(b"\r\n", body),
        sender=senders[0] if senders else "",
        recipients=recipients,
        subject=decode_words(values.get("subject", "")),
        message_id=message_id,
    )


def ascii_domain(domain: str) -> str:
    """``domain`` in its ASCII form (IDNA: ``bücher.example`` -> ``xn--bcher-kva.example``); as it
    is when it is ASCII already, or when IDNA cannot write it."""
    if domain.isascii():
        return domain
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def envelope_address(address: str) -> str:
    """``address`` as the envelope carries it: its domain in ASCII (see :func:`ascii_domain`),
    so that only a local part beyond ASCII needs SMTPUTF8."""
    local, at, domain = address.rpartition("@")
    return f"{local}{at}{ascii_domain(domain)}" if at else address


def check_address(address: str) -> str:
    """``address`` if it can go in the envelope (``local@domain``, no spaces or controls), else
    EnvelopeError."""
    if "@" not in address or _BAD_ADDRESS.search(address) or address.startswith("@"):
        raise EnvelopeError(f"not an email address: {address!r}")
    return address


def split_header(raw: bytes) -> tuple[bytes, bytes]:
    """The header block (without the empty line) and the body."""
    match = _HEADER_END.search(raw)
    if match is None:
        return raw, b""
    return raw[: match.start()], raw[match.end() :]


def _raw_fields(head: bytes) -> list[tuple[str, str, bytes]]:
    """Each header field: its lower-case name, its unfolded value, and its lines (CRLF ends).

    A CR or LF inside a field (one that does not end a line followed by a continuation), a NUL,
    and a line that is neither a field nor a continuation are refused: they would let a value
    carry a header field of its own."""
    if b"\x00" in head:
        raise EnvelopeError("the header holds a NUL byte")
    if re.search(rb"\r(?!\n)", head):
        raise EnvelopeError("a header field holds a bare CR (a header injection?)")
    fields: list[tuple[str, str, bytes]] = []
    for number, line in enumerate(head.replace(b"\r\n", b"\n").split(b"\n"), start=1):
        if line[:1] in (b" ", b"\t") and fields:
            name, text, lines = fields[-1]
            fields[-1] = (name, text + _text(line), lines + line + b"\r\n")
        elif _FIELD_NAME.match(line):
            field_name, _, value = line.partition(b":")
            fields.append((field_name.decode("ascii").lower(), _text(value), line + b"\r\n"))
        elif line or number > 1:
            shown = line[:40].decode("utf-8", "replace")
            raise EnvelopeError(f"header line {number} is not a header field: {shown!r}")
    return fields


def _fields(head: bytes) -> list[tuple[str, str]]:
    return [(name, value) for name, value, _lines in _raw_fields(head)]


def _text(value: bytes) -> str:
    return value.decode("utf-8", "surrogateescape")


def _readable(value: str) -> str:
    """A field's value as text: UTF-8 (RFC 6532), else the 8-bit bytes of an older mailer read
    as the reader reads them (Windows-1252), never a byte that no text can hold."""
    return value if value.isascii() else decode_bytes(value.encode("utf-8", "surrogateescape"), None)


def _addresses(values: list[str]) -> tuple[str, ...]:
    """The addresses in these To/Cc/Bcc/From values, each once, in order; EnvelopeError for one
    that cannot go in the envelope."""
    found: dict[str, None] = {}
    for _name, address in (pair for v in values for pair in address_pairs(decode_words(v))):
        if address:
            found.setdefault(check_address(address), None)
    return tuple(found)


def message_id_of(raw: bytes) -> str:
    """The Message-ID of ``raw`` ("" when it has none)."""
    head, _body = split_header(raw)
    for name, value in _fields(head):
        if name == "message-id":
            return value.strip()
    return ""
