"""Modified UTF-7 for IMAP mailbox names (RFC 3501 section 5.1.3), also the names of the folders
Dovecot, Courier and offlineimap keep in a Maildir tree."""

from __future__ import annotations

import base64


def encode(name: str) -> str:
    """Encode a mailbox name to modified UTF-7 (``&`` becomes ``&-``, non-ASCII goes base64)."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(raw).decode("ascii").rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def decode(name: str | bytes) -> str:
    """Decode a modified UTF-7 mailbox name; malformed runs are kept as they are."""
    if isinstance(name, bytes):
        name = name.decode("utf-8", errors="replace")
    if "&" not in name:
        return name
    out: list[str] = []
    i = 0
    while i < len(name):
        char = name[i]
        end = name.find("-", i + 1) if char == "&" else -1
        if char != "&" or end < 0:
            out.append(char)
            i += 1
            continue
        chunk = name[i + 1 : end]
        if not chunk:
            out.append("&")
        else:
            try:
                padded = chunk.replace(",", "/") + "=" * (-len(chunk) % 4)
                out.append(base64.b64decode(padded, validate=True).decode("utf-16-be"))
            except (ValueError, UnicodeDecodeError):
                out.append(name[i : end + 1])
        i = end + 1
    return "".join(out)


def decode_strict(name: str) -> str | None:
    """The name ``name`` spells in modified UTF-7 when it is written so exactly (as a server or
    a Maildir tree writes it); None for any other text (UTF-8, or ``R&D`` written as it is)."""
    decoded = decode(name)
    return decoded if decoded != name and encode(decoded) == name else None
