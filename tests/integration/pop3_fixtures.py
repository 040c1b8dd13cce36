"""Helpers for POP3 accounts against the private Dovecot: configs, the server's count, the
local Maildir's messages."""

from __future__ import annotations

import re
from pathlib import Path

from mailbag.domain.config import AccountConfig, Security, ServerConfig
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.messages import message_id

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>]+>)", re.IGNORECASE | re.MULTILINE)


def pop3_server(dovecot: DovecotServer, user: MailUser, security: Security = "tls", **changes: object) -> ServerConfig:
    port = dovecot.pop3s_port if security == "tls" else dovecot.pop3_port
    values: dict[str, object] = dict(
        host="localhost", port=port, security=security, username=user.name,
        password_command=f"printf '%s\\n' '{user.password}'", ca_file=dovecot.ca_file,
    )
    values.update(changes)
    return ServerConfig(**values)  # type: ignore[arg-type]


def pop3_account(
    dovecot: DovecotServer, user: MailUser, maildir: Path, security: Security = "tls", **changes: object
) -> AccountConfig:
    return AccountConfig(
        name="old", email=user.email, default=True, maildir=maildir,
        pop3=pop3_server(dovecot, user, security, **changes),
    )


def on_server(dovecot: DovecotServer, user: MailUser) -> int:
    """How many messages the user's INBOX holds on the server."""
    out = dovecot.doveadm("mailbox", "status", "-u", user.name, "messages", "INBOX")
    return int(out.split("=")[1])


def local_ids(root: Path) -> list[str]:
    """The Message-IDs of every message file in the Maildir tree (every folder), sorted."""
    ids: list[str] = []
    for sub in ("new", "cur"):
        for path in root.glob(f"**/{sub}/*"):
            ids += message_ids(path.read_bytes()) or [f"(none: {path.name})"]
    return sorted(ids)


def message_ids(raw: bytes) -> list[str]:
    """The Message-ID of a message, as a list (empty without one)."""
    match = _MESSAGE_ID.search(raw)
    return [match.group(1).decode()] if match else []


def expected_ids(numbers: range) -> list[str]:
    return sorted(message_id(i) for i in numbers)
