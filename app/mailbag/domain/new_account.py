"""An account made by the setup screen, as the config file's TOML text.

The text is appended to the file as it is (its comments and layout stay), and the whole is
validated with the config's own parser before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mailbag.domain.config import Config, parse_config
from mailbag.domain.discovery import ServerChoice, split_address

PasswordKind = Literal["keyring", "command", "env"]
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class PasswordSource:
    """Where the password comes from: the keyring, a command's output, or an environment variable
    (``value`` is the command or the variable's name)."""

    kind: PasswordKind
    value: str = ""


@dataclass(frozen=True)
class NewAccount:
    """What the setup screen asked for."""

    name: str  # the account's key in [accounts]
    email: str
    display_name: str
    incoming: ServerChoice  # kind "imap" or "pop3"
    smtp: ServerChoice | None
    password: PasswordSource
    ca_file: str = ""
    #: The SMTP server's own password (of the same kind), when it is not that of the other.
    smtp_password: PasswordSource | None = None


def valid_account_name(name: str) -> bool:
    return bool(_BARE_KEY.match(name))


def suggest_name(address: str, taken: Iterable[str]) -> str:
    """An account name from the address's domain (``example`` for me@mail.example.org), one not
    yet ``taken`` (``example-2`` ...)."""
    _, domain = split_address(address)
    labels = [label for label in domain.split(".") if label]
    base = labels[-2] if len(labels) >= 2 else labels[0]
    base = re.sub(r"[^A-Za-z0-9_-]", "-", base).lower() or "mail"
    taken = set(taken)
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def account_toml(account: NewAccount, *, default: bool) -> str:
    """The ``[accounts.NAME]`` tables of ``account``."""
    name = account.name
    lines = [f"[accounts.{name}]", f"email = {toml_string(account.email.strip())}"]
    if account.display_name.strip():
        lines.append(f"name = {toml_string(account.display_name.strip())}")
    if default:
        lines.append("default = true")
    for server in (account.incoming, account.smtp):
        if server is None:
            continue
        lines += ["", f"[accounts.{name}.{server.kind}]"]
        lines += [
            f"host = {toml_string(server.host)}",
            f"port = {server.port}",
            f"security = {toml_string(server.security)}",
            f"username = {toml_string(server.username)}",
        ]
        source = account.smtp_password if server.kind == "smtp" and account.smtp_password else account.password
        if source.kind == "keyring":
            lines.append("keyring = true")
        elif source.kind == "command":
            lines.append(f"password_command = {toml_string(source.value)}")
        else:
            lines.append(f"password_env = {toml_string(source.value)}")
        if account.ca_file.strip():
            lines.append(f"ca_file = {toml_string(account.ca_file.strip())}")
    return "\n".join(lines) + "\n"


def with_account(existing: str, account: NewAccount, path: Path) -> tuple[str, Config]:
    """The config text ``existing`` (may be empty) with ``account`` appended, and the config it
    makes. The first account is the default one. Raises ConfigError (the config's own checks,
    naming the line) when the result is not a valid config."""
    before = parse_config(existing, path) if existing.strip() else Config(path=path)
    if account.name in before.accounts:
        raise ValueError(f"an account named {account.name!r} exists already")
    text = existing
    if text and not text.endswith("\n"):
        text += "\n"
    if text.strip():
        text += "\n"
    text += account_toml(account, default=not before.accounts)
    return text, parse_config(text, path)


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string."""
    out = ['"']
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)
