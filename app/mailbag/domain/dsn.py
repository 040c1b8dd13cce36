"""Delivery status reports (RFC 3464, RFC 6533) as text: why a message bounced, per recipient;
read receipts (RFC 8098): whether the message was opened; and abuse reports (RFC 5965): what
kind, about which message.

``message/delivery-status`` holds one block of fields about the report, then one block per
recipient (Final-Recipient, Action, Status, Diagnostic-Code, ...). The reader shows each recipient
with what happened, the status code with its meaning (RFC 3463) and the server's own words.
"""

from __future__ import annotations

import email.parser
import email.policy
import re
from email.message import Message

from mailbag.domain.mime_structure import MimePart
from mailbag.domain.payload import payload_text

_ACTIONS = {
    "failed": "not delivered",
    "delayed": "delayed, still trying",
    "delivered": "delivered",
    "relayed": "passed on to a server that sends no reports",
    "expanded": "delivered, and passed on to other addresses",
}
_DISPOSITIONS = {
    "displayed": "opened (shown to the recipient)",
    "deleted": "deleted without being read",
    "dispatched": "sent on (printed, faxed or forwarded) without being read",
    "processed": "processed without being shown",
    "denied": "the recipient declined to send a receipt",
    "failed": "no receipt could be made",
}
_CLASSES = {"2": "success", "4": "temporary failure", "5": "permanent failure"}
_SUBJECTS = {
    "0": "other",
    "1": "address problem",
    "2": "mailbox problem",
    "3": "mail system problem",
    "4": "network or routing problem",
    "5": "mail protocol problem",
    "6": "message content problem",
    "7": "security or policy problem",
}
_DETAILS = {
    "1.1": "no such mailbox",
    "1.2": "no such domain",
    "1.3": "bad address syntax",
    "1.6": "the mailbox has moved",
    "1.10": "the domain accepts no mail",
    "2.1": "the mailbox is disabled",
    "2.2": "the mailbox is full",
    "2.3": "the message is too long for the mailbox",
    "3.4": "the message is too big for the mail system",
    "4.1": "no answer from the server",
    "4.2": "the connection broke",
    "4.4": "no route to the destination",
    "4.6": "mail loop",
    "4.7": "delivery time expired",
    "7.1": "delivery not authorised, message refused",
    "7.26": "the sender's authentication checks failed",
}
_STATUS = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})")
_BLANK_LINE = re.compile(r"\r?\n[ \t]*\r?\n")
_FOLD = re.compile(r"\r?\n[ \t]+")
_MAX_RECIPIENTS = 1000

Fields = dict[str, str]


#: Fields one of which a delivery report's blocks hold (RFC 3464 2.2, 2.3).
_REPORT_FIELDS = frozenset({"reporting-mta", "final-recipient", "original-recipient", "action", "status",
                            "arrival-date", "original-envelope-id", "diagnostic-code"})
#: The most of a report's own text shown where it holds no report fields.
_MAX_PROSE = 8192


def delivery_status_text(part: MimePart) -> str:
    """The report in ``part`` (message/delivery-status or message/global-delivery-status). One
    that holds none of a report's fields (a server that labels its notice so) is shown as the
    text it is."""
    text = payload_text(part)
    blocks = _parse_blocks(text)
    if not any(_REPORT_FIELDS & block.keys() for block in blocks):
        prose = text.strip()
        return f"[-- Delivery report --]\n{prose[:_MAX_PROSE]}" if prose else "[-- Delivery report (empty) --]"
    about, recipients = blocks[0], blocks[1:]
    if "final-recipient" in about or "action" in about:  # no per-message block
        about, recipients = {}, blocks
    reporter = _value(about.get("reporting-mta", ""))
    lines = [f"[-- Delivery report from {reporter} --]" if reporter else "[-- Delivery report --]"]
    for fields in recipients[:_MAX_RECIPIENTS]:
        lines.extend(_recipient_lines(fields))
    if len(recipients) > _MAX_RECIPIENTS:
        lines.append(f"... and {len(recipients) - _MAX_RECIPIENTS} more recipients")
    return "\n".join(lines)


def receipt_text(part: MimePart) -> str:
    """A read receipt (message/disposition-notification, RFC 8098): what became of the message."""
    blocks = _blocks(part)
    fields = blocks[0] if blocks else {}
    reporter = _value(fields.get("reporting-ua", ""))
    lines = [f"[-- Read receipt from {reporter} --]" if reporter else "[-- Read receipt --]"]
    recipient = _value(fields.get("final-recipient") or fields.get("original-recipient") or "") or "(recipient unknown)"
    disposition = fields.get("disposition", "")
    kind = disposition.partition(";")[2].strip().split("/")[0].strip().lower()
    what = _DISPOSITIONS.get(kind, kind)
    lines.append(f"{recipient}: {what}" if what else recipient)
    if "automatic" in disposition.partition(";")[0].lower():
        lines.append("  Sent automatically by the recipient's mail program")
    if fields.get("original-message-id"):
        lines.append(f"  Message: {fields['original-message-id']}")
    return "\n".join(lines)


def status_meaning(code: str) -> str:
    """What an enhanced status code (``5.1.1``) means, e.g. "permanent failure: no such mailbox"."""
    match = _STATUS.match(code)
    if not match:
        return ""
    kind, subject, detail = match.groups()
    meaning = _DETAILS.get(f"{subject}.{detail}") or _SUBJECTS.get(subject, "")
    return f"{_CLASSES[kind]}: {meaning}" if meaning else _CLASSES[kind]


def _recipient_lines(fields: Fields) -> list[str]:
    recipient = _value(fields.get("final-recipient") or fields.get("original-recipient") or "") or "(recipient unknown)"
    action = fields.get("action", "").strip().lower()
    what = _ACTIONS.get(action, action)
    lines = [f"{recipient}: {what}" if what else recipient]
    status = fields.get("status", "").strip()
    if status:
        meaning = status_meaning(status)
        lines.append(f"  Status: {status} ({meaning})" if meaning else f"  Status: {status}")
    for name, label in (
        ("diagnostic-code", "Diagnostic"),
        ("remote-mta", "Remote server"),
        ("last-attempt-date", "Last attempt"),
        ("will-retry-until", "Retrying until"),
    ):
        if fields.get(name):
            lines.append(f"  {label}: {_value(fields[name])}")
    return lines


#: The fields of an abuse report shown, in this order, with their labels.
_FEEDBACK_FIELDS = (
    ("user-agent", "Reported by"),
    ("arrival-date", "Arrived"),
    ("source-ip", "Source IP"),
    ("original-mail-from", "Sender"),
    ("original-rcpt-to", "Recipient"),
    ("reported-domain", "Domain"),
    ("reported-uri", "URI"),
    ("authentication-results", "Authentication"),
)


def feedback_text(part: MimePart) -> str:
    """An abuse report (message/feedback-report, RFC 5965): its kind and what it is about; the
    message reported is the part after it, shown as an attached message."""
    blocks = _blocks(part)
    fields = blocks[0] if blocks else {}
    kind = fields.get("feedback-type", "").split(";")[0].strip()
    lines = [f"[-- Abuse report: {kind} --]" if kind else "[-- Abuse report --]"]
    lines.extend(f"  {label}: {fields[name]}" for name, label in _FEEDBACK_FIELDS if fields.get(name))
    return "\n".join(lines)


def _value(field: str) -> str:
    """A typed field's value without its type: ``rfc822; bob@example.net`` -> ``bob@example.net``."""
    kind, semicolon, rest = field.partition(";")
    if semicolon and re.fullmatch(r"\s*[A-Za-z0-9-]+\s*", kind):
        return rest.strip()
    return field.strip()


def _blocks(part: MimePart) -> list[Fields]:
    """The report's blocks of fields."""
    return _parse_blocks(payload_text(part))


def _parse_blocks(text: str) -> list[Fields]:
    parser = email.parser.HeaderParser(policy=email.policy.compat32)
    blocks = [_fields(parser.parsestr(chunk.strip("\r\n"))) for chunk in _BLANK_LINE.split(text)]
    return [block for block in blocks if block]


def _fields(block: Message) -> Fields:
    fields: Fields = {}
    for name, value in block.raw_items():
        text = value if isinstance(value, str) else str(value)
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        fields.setdefault(name.strip().lower(), _FOLD.sub(" ", text).strip())
    return fields
