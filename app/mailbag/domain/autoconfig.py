"""The Thunderbird autoconfig document (config-v1.1.xml): the servers it lists for an address.

Only what mailbag can use is taken: IMAP, POP3 and SMTP servers that log in with a password
(``password-cleartext``, which over TLS is the usual AUTH PLAIN), over SSL, STARTTLS or plain
text (plain text is listed but never chosen by itself). The document comes from the network:
a DOCTYPE (entities) is refused, and host names and ports are checked before use.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from mailbag.domain.config import Security
from mailbag.domain.discovery import Kind, ServerChoice, fill_username, split_address
from mailbag.domain.sanitize import clean_line

#: A larger document is not an autoconfig document.
MAX_DOCUMENT = 256 * 1024

_SOCKET_TYPES: dict[str, Security] = {"SSL": "tls", "TLS": "tls", "STARTTLS": "starttls", "PLAIN": "none"}
_KINDS: dict[str, Kind] = {"imap": "imap", "pop3": "pop3", "smtp": "smtp"}
_PASSWORD_AUTH = frozenset({"password-cleartext", "plain"})
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")


class AutoconfigError(ValueError):
    """The document is not a usable autoconfig document."""


def parse_autoconfig(data: bytes, address: str) -> list[ServerChoice]:
    """The servers the document lists, usernames filled in for ``address``, in its order."""
    if len(data) > MAX_DOCUMENT:
        raise AutoconfigError("the autoconfig document is too large")
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise AutoconfigError("the autoconfig document declares a DOCTYPE")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise AutoconfigError(f"the autoconfig document is not XML: {exc}") from None
    if root.tag != "clientConfig":
        raise AutoconfigError("not an autoconfig document (no clientConfig)")
    _, domain = split_address(address)
    choices = []
    for provider in root.iter("emailProvider"):
        for element in list(provider.iter("incomingServer")) + list(provider.iter("outgoingServer")):
            choice = _server(element, address, domain)
            if choice is not None:
                choices.append(choice)
    return choices


def _server(element: ET.Element, address: str, domain: str) -> ServerChoice | None:
    kind = _KINDS.get((element.get("type") or "").strip().lower())
    security = _SOCKET_TYPES.get(_text(element, "socketType").upper())
    host = _text(element, "hostname").replace("%EMAILDOMAIN%", domain).lower().rstrip(".")
    auth = {a.text.strip().lower() for a in element.iter("authentication") if a.text}
    if kind is None or security is None or not _HOST.match(host):
        return None
    if auth and not auth & _PASSWORD_AUTH:
        return None  # OAuth2 only, say: not a password login
    try:
        port = int(_text(element, "port"))
    except ValueError:
        return None
    if not 0 < port < 65536:
        return None
    username = clean_line(fill_username(_text(element, "username"), address))
    return ServerChoice(kind, host, port, security, username)


def _text(element: ET.Element, tag: str) -> str:
    child = element.find(tag)
    return (child.text or "").strip() if child is not None else ""
