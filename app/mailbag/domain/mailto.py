"""``mailto:`` links (RFC 6068) as the fields of a new message.

``mailto:ann@example.org,bob@example.org?cc=carol@example.org&subject=Hello&body=Hi`` gives the
recipients, Cc, subject and body; every other header a link names (Bcc, In-Reply-To, ...) is left
out, so a link cannot add a hidden recipient. Values are percent-decoded as UTF-8 and cleaned of
control characters (a header value to one line).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from mailbag.domain.sanitize import clean_line, clean_text


@dataclass(frozen=True, slots=True)
class MailtoFields:
    """What a mailto link fills in."""

    to: str = ""
    cc: str = ""
    subject: str = ""
    body: str = ""


def parse_mailto(url: str) -> MailtoFields:
    """The fields of ``url`` (which starts with ``mailto:``, in any case)."""
    rest = url[len("mailto:") :] if url.lower().startswith("mailto:") else url
    path, _, query = rest.partition("?")
    to = [_decoded(address) for address in path.split(",")]
    cc: list[str] = []
    subject = body = ""
    for pair in query.split("&") if query else []:
        name, _, value = pair.partition("=")
        name = _decoded(name).lower()
        if name == "to":
            to.extend(_decoded(address) for address in value.split(","))
        elif name == "cc":
            cc.extend(_decoded(address) for address in value.split(","))
        elif name == "subject" and not subject:
            subject = _decoded(value)
        elif name == "body" and not body:
            body = clean_text(unquote(value, errors="replace"))
    return MailtoFields(_addresses(to), _addresses(cc), subject, body)


def _decoded(value: str) -> str:
    return clean_line(unquote(value, errors="replace"))


def _addresses(values: list[str]) -> str:
    return ", ".join(value for value in values if value)
