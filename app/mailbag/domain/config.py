"""The TOML configuration file: loading, validation, and one-line errors naming file, line and key.

Shape (see README)::

    [ui]
    theme = "mailbag-dark"
    [keymap]
    "cursor_down" = "j,down"
    [accounts.work]
    email = "me@example.org"
    [accounts.work.imap]
    host = "imap.example.org"
"""

from __future__ import annotations

import os
import re
import ssl
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from mailbag.domain.oauth2 import OAUTH2_KEYS, PRESETS, OAuth2Config, endpoint_problem

Security = Literal["tls", "starttls", "none"]
#: How a Maildir tree keeps its folders: ``.A.B`` beside the Inbox, or ``A/B/`` beside ``INBOX/``.
MaildirLayout = Literal["maildir++", "nested"]
SECURITY_VALUES: tuple[str, ...] = get_args(Security)

#: Default port by protocol and security ("tls" is implicit TLS; the others use the plain port).
DEFAULT_PORTS: dict[str, tuple[int, int]] = {
    "imap": (993, 143),
    "smtp": (465, 587),
    "pop3": (995, 110),
}


def default_port(protocol: str, security: str) -> int:
    """The usual port of ``protocol`` for ``security``: the implicit-TLS one for "tls", the
    plain one (where STARTTLS is asked for) otherwise."""
    implicit, plain = DEFAULT_PORTS[protocol]
    return implicit if security == "tls" else plain

_TOP_KEYS = ("ui", "keymap", "accounts", "searches")
_UI_KEYS = ("theme", "notify", "threads", "thread_by_subject", "editor", "layout", "address_command")
NOTIFY_CHOICES = ("bell", "desktop", "both", "none")
LAYOUT_CHOICES = ("auto", "columns", "stacked")
_ACCOUNT_KEYS = (
    "email", "name", "default", "signature", "signature_file", "imap", "smtp", "pop3", "maildir",
    "maildir_layout", "oauth2"
)
#: A signature file longer than this is a mistake (a wrong path), not a signature.
MAX_SIGNATURE_BYTES = 64 * 1024
_SERVER_KEYS = (
    "host",
    "port",
    "security",
    "username",
    "password_command",
    "password_env",
    "keyring",
    "oauth2_token_command",
    "auth_mechanism",
    "ca_file",
    "tls_fingerprint",
    "poll_seconds",
    "timeout",
)
#: Keys only an ``[imap]`` table has: how the link is watched and reconnected (seconds).
_IMAP_KEYS = ("keepalive_seconds", "keepalive_timeout", "idle_check_seconds", "reconnect_max_seconds", "compress")
#: Keys only an ``[smtp]`` table has.
_SMTP_KEYS = ("save_sent",)
#: Keys only a ``[pop3]`` table has (it polls every ``poll_interval`` instead of ``poll_seconds``).
_POP3_KEYS = ("leave_on_server", "delete_after_days", "poll_interval")
#: How often a POP3 account is checked unless its ``poll_interval`` says otherwise (seconds).
POP3_POLL_SECONDS = 300


_SHA256 = re.compile(r"[0-9a-f]{64}")


#: SMTP servers that keep a copy of what is sent through them in the Sent folder themselves:
#: one stored by mailbag too would be a second copy (``save_sent``'s default is false there).
_KEEPS_SENT = ("smtp.gmail.com", "smtp.googlemail.com")


def _keeps_sent(host: str) -> bool:
    return host.lower().rstrip(".") in _KEEPS_SENT


class ConfigError(Exception):
    """A mistake in the configuration file. ``str(e)`` is ``"<file>:<line>: <key>: <problem>"``."""

    def __init__(self, path: Path | None, line: int | None, key: str, problem: str) -> None:
        self.path = path
        self.line = line
        self.key = key
        self.problem = problem
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = str(self.path) if self.path is not None else "<config>"
        if self.line is not None:
            where += f":{self.line}"
        return ": ".join(part for part in (where, self.key, self.problem) if part)


@dataclass(frozen=True)
class ServerConfig:
    """How to reach one server (IMAP, SMTP or POP3) of an account."""

    host: str
    port: int
    security: Security
    username: str
    password_command: str | None = field(default=None, repr=False)  # may hold a secret itself
    password_env: str | None = None
    keyring: bool = False
    #: A command printing an OAuth2 access token: the login is OAUTHBEARER or XOAUTH2.
    oauth2_token_command: str | None = field(default=None, repr=False)
    #: The account's OAuth2 provider, when this server logs in with its device-flow tokens.
    oauth2: OAuth2Config | None = None
    auth_mechanism: str | None = None  # "OAUTHBEARER" | "XOAUTH2": the one to use (else chosen)
    ca_file: Path | None = None
    tls_fingerprint: str | None = None  # "sha256:<64 hex digits>": the certificate must be this one
    poll_seconds: int = 60  # IMAP without IDLE or NOTIFY: how often to ask for changes
    timeout: float = 30.0  # seconds for connecting, the greeting, the TLS handshake and each command
    keepalive_seconds: int = 30  # IMAP: the link is checked (NOOP) after this long without traffic
    keepalive_timeout: int = 20  # IMAP: a check not answered within this long means a dead link
    idle_check_seconds: int = 60  # IMAP: the IDLE connection checks itself after this long silent
    reconnect_max_seconds: int = 120  # IMAP: the longest wait between two reconnect attempts
    compress: bool = True  # IMAP: COMPRESS=DEFLATE (RFC 4978) where the server offers it
    save_sent: bool = True  # SMTP: store a copy of sent mail in Sent (false: the server does)
    leave_on_server: bool = True  # POP3: keep downloaded mail on the server
    delete_after_days: int | None = None  # POP3: ... but remove it this long after the download

    @property
    def uses_oauth2(self) -> bool:
        """Whether the login is with an OAuth2 access token instead of a password."""
        return self.oauth2_token_command is not None or self.oauth2 is not None


@dataclass(frozen=True)
class AccountConfig:
    """One mail account: an address and the servers (or local Maildir) behind it."""

    name: str
    email: str
    display_name: str = ""
    default: bool = False
    signature: str = ""  # added below "-- " to messages written from this account
    imap: ServerConfig | None = None
    smtp: ServerConfig | None = None
    pop3: ServerConfig | None = None
    maildir: Path | None = None  # the local Maildir (of a POP3 account: where its mail goes)
    maildir_layout: MaildirLayout | None = None  # None: found from what the tree holds
    oauth2: OAuth2Config | None = None  # the provider of the device-code flow (``[oauth2]``)

    @property
    def keeps_folders(self) -> bool:
        """True when the account has folders to keep messages in: its IMAP server's, or a local
        Maildir (a POP3 account has one, by default under the data dir, without a ``maildir`` key)."""
        return self.imap is not None or self.pop3 is not None or self.maildir is not None

    @property
    def plaintext(self) -> tuple[str, ...]:
        """The tables (``imap``, ``pop3``, ``smtp``) whose server is reached without TLS."""
        servers = (("imap", self.imap), ("pop3", self.pop3), ("smtp", self.smtp))
        return tuple(name for name, server in servers if server is not None and server.security == "none")


@dataclass(frozen=True)
class UiConfig:
    """Look and feel."""

    theme: str = "mailbag-dark"
    notify: str = "bell"  # new mail: "bell" | "desktop" | "both" | "none"
    threads: bool = False  # open folders in thread view
    thread_by_subject: bool = False  # also join threads whose roots share a subject
    editor: str = ""  # the command that edits a message body; "" for $VISUAL, $EDITOR, else vi
    layout: str = "auto"  # "columns": the list beside the reader; "stacked": above it; "auto": by width
    #: The user's address book, asked as mutt's query_command ("khard email --parsable %s"); "" for none.
    address_command: str = ""


@dataclass(frozen=True)
class Config:
    """The whole configuration. ``accounts`` keeps the order of the file."""

    path: Path | None
    ui: UiConfig = field(default_factory=UiConfig)
    accounts: dict[str, AccountConfig] = field(default_factory=dict)
    keymap: dict[str, str] = field(default_factory=dict)
    searches: dict[str, str] = field(default_factory=dict)  # saved search name -> query
    #: The line of each table and key in the file, for messages about a value found wrong later.
    lines: Mapping[tuple[str, ...], int] = field(default_factory=dict, compare=False, repr=False)

    def error(self, key: tuple[str, ...], problem: str) -> ConfigError:
        """A ConfigError about ``key`` (e.g. ``("keymap", "quit")``), naming its line."""
        return ConfigError(self.path, line_of(self.lines, key), ".".join(key), problem)

    def default_account(self) -> AccountConfig | None:
        """The account marked ``default = true``, else the first one, else None."""
        for account in self.accounts.values():
            if account.default:
                return account
        return next(iter(self.accounts.values()), None)

    def account_names(self) -> list[str]:
        """Every account's name, the default one first, the rest in the file's order."""
        default = self.default_account()
        names = list(self.accounts)
        if default is not None:
            names.remove(default.name)
            names.insert(0, default.name)
        return names


def load_config(path: Path) -> Config:
    """Read and validate the file at ``path``. Raises ConfigError (never anything else)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, None, "", "file not found") from None
    except IsADirectoryError:
        raise ConfigError(path, None, "", "is a directory, not a file") from None
    except OSError as exc:
        raise ConfigError(path, None, "", f"cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(path, line, "", "not valid UTF-8 text") from None
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> Config:
    """Validate TOML ``text`` (read from ``path``, used in messages). Raises ConfigError."""
    return _Validator(path, KeyLines(text)).config(load_toml(text, path))


def load_toml(text: str, path: Path) -> dict[str, Any]:
    """TOML ``text`` (read from ``path``) as a dict; ConfigError naming the line of a syntax
    error, or of values nested deeper than tomllib reads (it reads them recursively)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, path) from None
    except RecursionError:
        raise ConfigError(path, _too_deep_line(text), "", "values nested too deep to read") from None


#: How deep arrays and inline tables may nest before a line is named as too deep.
_NESTING_NAMED = 100


def _too_deep_line(text: str) -> int | None:
    """The first line where arrays and inline tables nest past :data:`_NESTING_NAMED` (brackets
    in strings counted too: only for naming the line of a file tomllib could not read)."""
    depth = 0
    for number, line in enumerate(text.splitlines(), start=1):
        for char in line:
            depth += char in "[{"
            depth -= char in "]}"
            if depth > _NESTING_NAMED:
                return number
    return None


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)|\s*\(at end of document\)")


def _syntax_error(exc: tomllib.TOMLDecodeError, path: Path) -> ConfigError:
    message = str(exc)
    match = _TOML_POSITION.search(message)
    line: int | None = None
    if match:
        if match.group(1):
            line = int(match.group(1))
            problem = f"{message[: match.start()]} (column {match.group(2)})"
        else:
            problem = f"{message[: match.start()]} (at end of file)"
    else:
        problem = message
    problem = problem[:1].lower() + problem[1:]
    return ConfigError(path, line, "", f"TOML syntax error: {problem}")


def _show(value: Any) -> str:
    """A value as TOML would spell it, for messages."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- where is a key? ---------------------------------------------------------------------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_BASIC_KEY = re.compile(r'"((?:[^"\\]|\\.)*)"')
_LITERAL_KEY = re.compile(r"'([^']*)'")


def _parse_key(text: str, pos: int) -> tuple[list[str], int] | None:
    """Parse a (dotted) TOML key at ``pos``; return its parts and the position after it."""
    parts: list[str] = []
    while True:
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        for pattern in (_BARE_KEY, _BASIC_KEY, _LITERAL_KEY):
            match = pattern.match(text, pos)
            if match:
                part = match.group(1) if pattern is not _BARE_KEY else match.group(0)
                if pattern is _BASIC_KEY:
                    part = _unescape_basic(part)
                parts.append(part)
                pos = match.end()
                break
        else:
            return None
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        if pos < len(text) and text[pos] == ".":
            pos += 1
            continue
        return parts, pos


def _unescape_basic(value: str) -> str:
    try:
        return str(tomllib.loads(f'k = "{value}"')["k"])
    except tomllib.TOMLDecodeError:
        return value


def line_of(lines: Mapping[tuple[str, ...], int], key: tuple[str, ...]) -> int | None:
    """The line of ``key``, else of its nearest enclosing table or key."""
    while key:
        if key in lines:
            return lines[key]
        key = key[:-1]
    return None


class KeyLines:
    """Line numbers of tables and keys in TOML text, found by scanning it (tomllib gives none)."""

    def __init__(self, text: str) -> None:
        self.lines: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        in_multiline: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if in_multiline:
                if line.count(in_multiline) % 2 == 1:
                    in_multiline = None
                continue
            stripped = line.lstrip()
            if stripped.startswith("["):
                array = stripped.startswith("[[")
                parsed = _parse_key(stripped, 2 if array else 1)
                if parsed:
                    table = tuple(parsed[0])
                    self.lines.setdefault(table, number)
                continue
            parsed = _parse_key(stripped, 0)
            if not parsed or not stripped[parsed[1] :].startswith("="):
                continue
            key = table + tuple(parsed[0])
            self.lines.setdefault(key, number)
            rest = stripped[parsed[1] + 1 :]
            for quote in ('"""', "'''"):
                if rest.count(quote) % 2 == 1:
                    in_multiline = quote
                    break

    def line_of(self, key: tuple[str, ...]) -> int | None:
        """The line of ``key``, else of its nearest enclosing table or key."""
        return line_of(self.lines, key)


# --- validation -------------------------------------------------------------------------------


class _Validator:
    def __init__(self, path: Path, lines: KeyLines) -> None:
        self.path = path
        self.lines = lines

    def error(self, key: tuple[str, ...], problem: str) -> ConfigError:
        return ConfigError(self.path, self.lines.line_of(key), ".".join(key), problem)

    def check_keys(self, table: dict[str, Any], where: tuple[str, ...], allowed: tuple[str, ...]) -> None:
        for key in table:
            if key not in allowed:
                import difflib  # only for this message: kept off the start-up path

                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = f' (did you mean "{close[0]}"?)' if close else f" (known keys: {', '.join(allowed)})"
                raise self.error(where + (key,), f"unknown key{hint}")

    def table(self, value: Any, key: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(key, "must be a table")
        return value

    def string(self, table: dict[str, Any], key: tuple[str, ...], required: bool = False) -> str | None:
        value = table.get(key[-1])
        if value is None:
            if required:
                raise self.error(key, "required key is missing")
            return None
        if not isinstance(value, str):
            raise self.error(key, "must be a string")
        if not value.strip():
            raise self.error(key, "must not be empty")
        return value

    def choice(self, table: dict[str, Any], key: tuple[str, ...], choices: tuple[str, ...]) -> str | None:
        """A string that must be one of ``choices`` (None when the key is not there)."""
        value = self.string(table, key)
        if value is not None and value not in choices:
            raise self.error(key, f'must be one of {", ".join(choices)}, not "{value}"')
        return value

    def boolean(self, table: dict[str, Any], key: tuple[str, ...]) -> bool:
        value = table.get(key[-1], False)
        if not isinstance(value, bool):
            raise self.error(key, "must be true or false")
        return value

    def path_value(self, table: dict[str, Any], key: tuple[str, ...]) -> Path | None:
        value = self.string(table, key)
        return Path(value).expanduser() if value is not None else None

    def config(self, raw: dict[str, Any]) -> Config:
        self.check_keys(raw, (), _TOP_KEYS)
        ui = self.ui(self.table(raw.get("ui", {}), ("ui",)))
        keymap = self.keymap(self.table(raw.get("keymap", {}), ("keymap",)))
        accounts_raw = self.table(raw.get("accounts", {}), ("accounts",))
        accounts: dict[str, AccountConfig] = {}
        for name, value in accounts_raw.items():
            key = ("accounts", name)
            if not name.strip():
                raise self.error(key, "an account name must not be empty")
            accounts[name] = self.account(name, self.table(value, key))
        self.check_own_maildirs(accounts)
        defaults = [name for name, account in accounts.items() if account.default]
        if len(defaults) > 1:
            raise self.error(
                ("accounts", defaults[1], "default"),
                f"more than one account has default = true ({', '.join(defaults)})",
            )
        searches = self.searches(self.table(raw.get("searches", {}), ("searches",)))
        return Config(
            path=self.path, ui=ui, accounts=accounts, keymap=keymap, searches=searches,
            lines=self.lines.lines,
        )

    def check_own_maildirs(self, accounts: dict[str, AccountConfig]) -> None:
        """Two accounts on one Maildir would each show (and move, and delete) the other's mail as
        its own, and each of two POP3 accounts would settle the other's downloads."""
        owner: dict[str, str] = {}
        for name, account in accounts.items():
            if account.maildir is None:
                continue
            where = os.path.normpath(os.path.abspath(account.maildir))
            if where in owner:
                raise self.error(
                    ("accounts", name, "maildir"),
                    f"{account.maildir} is the maildir of account {owner[where]} too; give each account its own",
                )
            owner[where] = name

    def ui(self, table: dict[str, Any]) -> UiConfig:
        self.check_keys(table, ("ui",), _UI_KEYS)
        defaults = UiConfig()
        theme = self.string(table, ("ui", "theme"))
        notify = self.choice(table, ("ui", "notify"), NOTIFY_CHOICES)
        layout = self.choice(table, ("ui", "layout"), LAYOUT_CHOICES)
        threads = self.boolean(table, ("ui", "threads")) if "threads" in table else False
        by_subject = (
            self.boolean(table, ("ui", "thread_by_subject"))
            if "thread_by_subject" in table
            else False
        )
        return UiConfig(
            editor=self.string(table, ("ui", "editor")) or "",
            address_command=self.string(table, ("ui", "address_command")) or "",
            theme=theme if theme is not None else defaults.theme,
            notify=notify if notify is not None else defaults.notify,
            threads=threads,
            thread_by_subject=by_subject,
            layout=layout if layout is not None else defaults.layout,
        )

    def searches(self, table: dict[str, Any]) -> dict[str, str]:
        """``[searches]``: name = "query" (shown as virtual folders)."""
        searches: dict[str, str] = {}
        for name, value in table.items():
            query = self.string(table, ("searches", name), required=True)
            assert query is not None
            if not name.strip() or not query.strip():
                raise self.error(("searches", name), "a saved search needs a name and a query")
            searches[name] = query
        return searches

    def keymap(self, table: dict[str, Any]) -> dict[str, str]:
        keymap: dict[str, str] = {}
        for binding_id, value in table.items():
            key = ("keymap", binding_id)
            if isinstance(value, list) and all(isinstance(item, str) for item in value):
                value = ",".join(value)
            if not isinstance(value, str):
                raise self.error(key, 'must be a string of comma-separated keys, e.g. "j,down"')
            keys = [item.strip() for item in value.split(",")]
            if not value.strip() or not all(keys):
                raise self.error(key, f'"{value}" is not a comma-separated list of keys')
            keymap[binding_id] = ",".join(keys)
        return keymap

    def account(self, name: str, table: dict[str, Any]) -> AccountConfig:
        where = ("accounts", name)
        self.check_keys(table, where, _ACCOUNT_KEYS)
        email = self.string(table, where + ("email",), required=True)
        assert email is not None
        if "@" not in email:
            raise self.error(where + ("email",), f'"{email}" is not an email address')
        oauth2 = self.oauth2(name, table["oauth2"]) if "oauth2" in table else None
        servers: dict[str, ServerConfig | None] = {}
        for protocol in ("imap", "smtp", "pop3"):
            value = table.get(protocol)
            servers[protocol] = (
                self.server(protocol, self.table(value, where + (protocol,)), where + (protocol,), email, oauth2)
                if value is not None
                else None
            )
        maildir = self.path_value(table, where + ("maildir",))
        if servers["imap"] is None and servers["pop3"] is None and maildir is None:
            raise self.error(where, "an account needs an [imap] or [pop3] table, or a maildir path")
        if servers["imap"] is not None and servers["pop3"] is not None:
            raise self.error(where + ("pop3",), "an account reads its mail by IMAP or by POP3, not both")
        return AccountConfig(
            name=name,
            email=email,
            signature=self.signature(table, where),
            display_name=self.string(table, where + ("name",)) or "",
            default=self.boolean(table, where + ("default",)),
            imap=servers["imap"],
            smtp=servers["smtp"],
            pop3=servers["pop3"],
            maildir=maildir,
            maildir_layout=self.choice(table, where + ("maildir_layout",), get_args(MaildirLayout)),  # type: ignore[arg-type]
            oauth2=oauth2,
        )

    def oauth2(self, name: str, value: Any) -> OAuth2Config:
        """``[accounts.NAME.oauth2]``: a ``provider`` preset and/or the endpoints, client and scope."""
        where = ("accounts", name, "oauth2")
        table = self.table(value, where)
        self.check_keys(table, where, OAUTH2_KEYS)
        provider = self.string(table, where + ("provider",))
        if provider is not None and provider not in PRESETS:
            raise self.error(where + ("provider",), f'must be one of {", ".join(PRESETS)}, not "{provider}"')
        values = dict(PRESETS.get(provider or "", {}))
        for key in OAUTH2_KEYS[1:]:
            given = self.string(table, where + (key,))
            if given is not None:
                values[key] = given
        for key in ("device_authorization_endpoint", "token_endpoint", "client_id"):
            if not values.get(key):
                raise self.error(where, f"{key} is missing (or set provider)")
        for key in ("device_authorization_endpoint", "token_endpoint"):
            if (problem := endpoint_problem(values[key])) is not None:
                raise self.error(where + (key,), problem)
        return OAuth2Config(
            account=name,
            device_authorization_endpoint=values["device_authorization_endpoint"],
            token_endpoint=values["token_endpoint"],
            client_id=values["client_id"],
            scope=values.get("scope", ""),
            client_secret=values.get("client_secret"),
        )

    def signature(self, table: dict[str, Any], where: tuple[str, ...]) -> str:
        """``signature`` (the text) or ``signature_file`` (read now), not both."""
        text = table.get("signature")
        if text is not None and not isinstance(text, str):
            raise self.error(where + ("signature",), "must be a string")
        path = self.path_value(table, where + ("signature_file",))
        if path is None:
            return text or ""
        if text is not None:
            raise self.error(where + ("signature_file",), "choose signature or signature_file, not both")
        key = where + ("signature_file",)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise self.error(key, f"no such file: {path}") from None
        except OSError as exc:
            raise self.error(key, f"cannot read {path}: {exc.strerror or exc}") from None
        if len(data) > MAX_SIGNATURE_BYTES:
            raise self.error(key, f"{path} is larger than {MAX_SIGNATURE_BYTES // 1024} KB")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise self.error(key, f"{path} is not UTF-8 text") from None

    def server(
        self, protocol: str, table: dict[str, Any], where: tuple[str, ...], email: str,
        oauth2: OAuth2Config | None = None,
    ) -> ServerConfig:
        if protocol == "pop3":
            allowed = tuple(k for k in _SERVER_KEYS if k != "poll_seconds") + _POP3_KEYS
        else:
            allowed = _SERVER_KEYS + (_SMTP_KEYS if protocol == "smtp" else _IMAP_KEYS)
        self.check_keys(table, where, allowed)
        host = self.string(table, where + ("host",), required=True)
        assert host is not None
        security = table.get("security", "tls")
        if security not in SECURITY_VALUES:
            raise self.error(
                where + ("security",),
                f"must be one of {', '.join(SECURITY_VALUES)}, not {_show(security)}",
            )
        port = self.port(table, where, protocol, security)
        password_command = self.string(table, where + ("password_command",))
        password_env = self.string(table, where + ("password_env",))
        keyring = self.boolean(table, where + ("keyring",))
        token_command = self.string(table, where + ("oauth2_token_command",))
        if self.password_sources(where, password_command, password_env, keyring, token_command):
            oauth2 = None  # the table's own source wins over the account's [oauth2]
        elif oauth2 is None:
            raise self.error(
                where, "no password source: set password_command, password_env or keyring = true"
                " (or oauth2_token_command, or give the account an [oauth2] table)"
            )
        mechanism = self.auth_mechanism(table, where, token_command is not None or oauth2 is not None)
        ca_file = self.ca_file(table, where)
        fingerprint = self.fingerprint(table, where + ("tls_fingerprint",), security)
        if protocol == "pop3":
            poll_seconds = self.number(table, where + ("poll_interval",), POP3_POLL_SECONDS, 5, 86400)
        else:
            poll_seconds = self.number(table, where + ("poll_seconds",), 60, 5, 3600)
        leave, days = self.retention(table, where)
        timeout = self.timeout(table, where)
        return ServerConfig(
            host=host,
            port=port,
            poll_seconds=poll_seconds,
            timeout=timeout,
            keepalive_seconds=self.number(table, where + ("keepalive_seconds",), 30, 5, 3600),
            keepalive_timeout=self.number(table, where + ("keepalive_timeout",), 20, 1, 600),
            idle_check_seconds=self.number(table, where + ("idle_check_seconds",), 60, 10, 1800),
            reconnect_max_seconds=self.number(table, where + ("reconnect_max_seconds",), 120, 5, 3600),
            compress=self.boolean(table, where + ("compress",)) if "compress" in table else True,
            security=security,
            username=self.string(table, where + ("username",)) or email,
            password_command=password_command,
            password_env=password_env,
            keyring=keyring,
            oauth2_token_command=token_command,
            oauth2=oauth2,
            auth_mechanism=mechanism,
            ca_file=ca_file,
            tls_fingerprint=fingerprint,
            save_sent=self.boolean(table, where + ("save_sent",)) if "save_sent" in table else not _keeps_sent(host),
            leave_on_server=leave,
            delete_after_days=days,
        )

    def port(self, table: dict[str, Any], where: tuple[str, ...], protocol: str, security: str) -> int:
        """The table's port, or the protocol's usual one for ``security``."""
        port = table.get("port")
        if port is None:
            return default_port(protocol, security)
        if isinstance(port, bool) or not isinstance(port, int):
            raise self.error(where + ("port",), "must be a number")
        if not 1 <= port <= 65535:
            raise self.error(where + ("port",), f"{port} is out of range (1..65535)")
        return port

    def password_sources(
        self, where: tuple[str, ...], password_command: str | None, password_env: str | None,
        keyring: bool, token_command: str | None,
    ) -> bool:
        """Whether the table names a password source; naming more than one is an error (shown
        at the one written last)."""
        sources = [
            key
            for key, present in (
                ("password_command", password_command is not None),
                ("password_env", password_env is not None),
                ("keyring", keyring),
                ("oauth2_token_command", token_command is not None),
            )
            if present
        ]
        if len(sources) > 1:
            last = max(sources, key=lambda key: self.lines.line_of(where + (key,)) or 0)
            raise self.error(
                where + (last,),
                f"choose one password source, not {' and '.join(sources)}",
            )
        return bool(sources)

    def ca_file(self, table: dict[str, Any], where: tuple[str, ...]) -> Path | None:
        ca_file = self.path_value(table, where + ("ca_file",))
        try:
            problem = "" if ca_file is None or ca_file.is_file() else "is not a file" if ca_file.exists() else "no such file"
        except OSError as exc:  # a name too long, say
            problem = f"cannot be read ({exc.strerror or exc})"
        if problem:
            raise self.error(where + ("ca_file",), f"{problem}: {ca_file}")
        if ca_file is not None and (unusable := _ca_file_problem(ca_file)):
            raise self.error(where + ("ca_file",), unusable)
        return ca_file

    def retention(self, table: dict[str, Any], where: tuple[str, ...]) -> tuple[bool, int | None]:
        """POP3's ``leave_on_server`` and ``delete_after_days`` (which needs the first)."""
        leave = self.boolean(table, where + ("leave_on_server",)) if "leave_on_server" in table else True
        if "delete_after_days" not in table:
            return leave, None
        days = self.number(table, where + ("delete_after_days",), 0, 0, 36500, unit="days")
        if not leave:
            raise self.error(
                where + ("delete_after_days",),
                "needs leave_on_server = true (with false, mail is removed once downloaded)",
            )
        return leave, days

    def timeout(self, table: dict[str, Any], where: tuple[str, ...]) -> float:
        timeout = table.get("timeout", 30)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise self.error(where + ("timeout",), "must be a number of seconds")
        if not 1 <= timeout <= 600:
            raise self.error(where + ("timeout",), f"{timeout} is out of range (1..600)")
        return float(timeout)

    def fingerprint(self, table: dict[str, Any], key: tuple[str, ...], security: str) -> str | None:
        """A certificate pin, ``sha256:`` and 64 hex digits (colons between pairs allowed),
        as ``sha256:`` and the digits in lower case."""
        value = self.string(table, key)
        if value is None:
            return None
        if security == "none":
            raise self.error(key, 'needs TLS: security = "none" has no certificate to pin')
        kind, _, digits = value.strip().partition(":")
        digits = digits.replace(":", "").lower()
        if kind.lower() != "sha256" or not _SHA256.fullmatch(digits):
            raise self.error(key, 'must be "sha256:" and the 64 hex digits of the certificate\'s SHA-256')
        return f"sha256:{digits}"

    def auth_mechanism(self, table: dict[str, Any], where: tuple[str, ...], oauth2: bool) -> str | None:
        """``auth_mechanism``: the OAuth2 SASL mechanism to use instead of the preferred one."""
        value = self.string(table, where + ("auth_mechanism",))
        if value is None:
            return None
        key = where + ("auth_mechanism",)
        if value.upper() not in ("OAUTHBEARER", "XOAUTH2"):
            raise self.error(key, f'must be "oauthbearer" or "xoauth2", not "{value}"')
        if not oauth2:
            raise self.error(key, "needs an OAuth2 token: oauth2_token_command, or the account's [oauth2]")
        return value.upper()

    def number(
        self, table: dict[str, Any], key: tuple[str, ...], default: int, low: int, high: int,
        unit: str = "seconds",
    ) -> int:
        """A whole number in ``low..high`` (``default`` when the key is absent)."""
        value = table.get(key[-1], default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be a number of {unit}")
        if not low <= value <= high:
            raise self.error(key, f"{value} is out of range ({low}..{high})")
        return value


def _ca_file_problem(path: Path) -> str | None:
    """Why the file ``path`` cannot serve as a ``ca_file`` (it cannot be read, or holds no
    certificate in PEM form: a DER file, a key, anything else), if it cannot."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # without the system's CAs: only the file is read
    try:
        context.load_verify_locations(cafile=str(path))
    except OSError as exc:  # ssl.SSLError too
        return ca_file_unusable(path, exc)
    return None


def ca_file_unusable(path: Path, exc: OSError) -> str:
    """Why the ``ca_file`` at ``path`` could not be loaded (``exc``, from OpenSSL or the file
    system), in words that say what it must be."""
    if isinstance(exc, ssl.SSLError):
        return (f"{path} holds no certificate mailbag can read ({exc.reason or exc}); it must be PEM text"
                " (-----BEGIN CERTIFICATE-----)")
    return f"cannot read {path}: {exc.strerror or exc}"
