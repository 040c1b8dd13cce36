"""Adding an account: its logins tried before anything is written, then the config file written.

The setup screen calls these from the UI; :class:`SetupService` runs them on a thread of their
own, so the screen's loop only paints and handles keys.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

from mailbag.domain.config import AccountConfig, Config, ConfigError, ServerConfig
from mailbag.domain.discovery import Found
from mailbag.domain.new_account import NewAccount, with_account
from mailbag.domain.sanitize import clean_line
from mailbag.paths import write_private
from mailbag.protocols.imap import ImapClient, ImapError, ImapSettings
from mailbag.protocols.login import ServerLogin
from mailbag.protocols.pop3.client import Pop3Client
from mailbag.protocols.pop3.errors import Pop3Error
from mailbag.protocols.smtp.client import check_login
from mailbag.protocols.smtp.errors import SmtpError
from mailbag.services.discovery import Discovery
from mailbag.services.loop_thread import LoopThread
from mailbag.services import keyring_entries
from mailbag.services.secrets import SecretError, resolve_password, store_in_keyring
from mailbag.services.setup_api import SetupError

log = logging.getLogger(__name__)
T = TypeVar("T")

#: The time allowed to each server to connect, greet and answer, in a login test (seconds).
CHECK_TIMEOUT = 20.0


def prepare(path: Path, account: NewAccount) -> tuple[str, Config]:
    """The config file's new text with ``account`` added, and the config it makes; SetupError
    when it would not be valid (a clash of names, a value the config refuses)."""
    try:
        existing = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise SetupError([f"{path} cannot be read: {exc}"]) from None
    try:
        return with_account(existing, account, path)
    except (ConfigError, ValueError) as exc:  # a clash of names, a value the config refuses
        raise SetupError([str(exc)]) from None


async def check_logins(account: AccountConfig, typed_password: str | None, typed_smtp: str | None = None) -> None:
    """Log in to the account's servers (IMAP or POP3, and SMTP) at once, then say goodbye;
    SetupError naming each server that failed. ``typed_password`` is the password to use (for
    the keyring, which holds none yet), ``typed_smtp`` the SMTP server's when it has one of its
    own; None: the account's own sources, each asked once (a command that prompts prompts once:
    servers that share a source share its password)."""
    servers = [(k, s) for k, s in (("IMAP", account.imap), ("POP3", account.pop3), ("SMTP", account.smtp)) if s]
    smtp = account.smtp
    own_smtp = typed_smtp is not None or (smtp is not None and _source(smtp) != _source(servers[0][1]))
    asked: dict[tuple[str | None, str | None], str] = {}  # a source's password, asked once

    async def password_of(server: ServerConfig, typed: str | None) -> str:
        if typed is not None:
            return typed
        source = _source(server)
        if source not in asked:
            try:
                asked[source] = await resolve_password(server)
            except SecretError as exc:
                raise SetupError([f"{'SMTP password' if server is smtp and own_smtp else 'password'}: {exc}"]) from None
        return asked[source]

    passwords = [
        await password_of(server, typed_smtp if server is smtp and own_smtp else typed_password)
        for _kind, server in servers
    ]
    results = await asyncio.gather(*(_check(kind, server, p) for (kind, server), p in zip(servers, passwords)))
    problems = [p for p in results if p is not None]
    if problems:
        raise SetupError(problems)


def _source(server: ServerConfig) -> tuple[str | None, str | None]:
    """Where a server's password comes from: its command or variable (both None: the keyring,
    where setup stores one typed password for every server unless told otherwise)."""
    return server.password_command, server.password_env


async def _check(kind: str, server: ServerConfig, password: str) -> str | None:
    """None when the login works, else the problem in one line."""
    server = dataclasses.replace(server, timeout=min(server.timeout, CHECK_TIMEOUT))
    login = ServerLogin.of(server, password)
    try:
        if kind == "IMAP":
            client = ImapClient(ImapSettings.of(server, password), "setup")
            await client.connect()
            await client.logout()
        elif kind == "POP3":
            await (await Pop3Client.open(login)).quit()
        else:
            await check_login(login)
    except (ImapError, Pop3Error, SmtpError) as exc:
        return f"{kind} {server.host}:{server.port}: {clean_line(str(exc))}"
    return None


def save(path: Path, account: NewAccount, typed_password: str | None, typed_smtp: str | None = None) -> Config:
    """Write the config with ``account`` added (0600, all at once) after storing a typed
    password in the keyring (``typed_smtp`` for the SMTP server, when it has its own); the
    config written. SetupError when either fails."""
    text, config = prepare(path, account)
    added = config.accounts[account.name]
    for server in (added.imap, added.pop3, added.smtp):
        typed = typed_smtp if server is added.smtp and typed_smtp is not None else typed_password
        if server is not None and typed is not None:
            try:
                store_in_keyring(server, typed)
            except SecretError as exc:
                raise SetupError([str(exc)]) from None
    try:
        write_private(path, text.encode("utf-8"))
    except OSError as exc:
        raise SetupError([f"{path} cannot be written: {exc.strerror or exc}"]) from None
    log.info("account %s added to %s", account.name, path)
    return config


class SetupService:
    """Discovery, login tests and saving, on a thread of their own (a SetupFacade); each call
    answers with a future the UI can await (``asyncio.wrap_future``)."""

    def __init__(self, discovery: Discovery | None = None) -> None:
        self.discovery = discovery or Discovery()
        self._thread = LoopThread("mailbag-setup")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._thread.stop(5.0)

    def find(self, address: str) -> concurrent.futures.Future[Found]:
        async def run() -> Found:
            try:
                return await self.discovery.find(address)
            except Exception:  # a bug: logged; the form is then filled in by hand
                log.exception("finding the servers of %s failed", address)
                return Found("none")

        return self._thread.run(run())

    def check(
        self, path: Path, account: NewAccount, typed_password: str | None, typed_smtp: str | None = None
    ) -> concurrent.futures.Future[None]:
        """Whether the account would make a valid config, and its logins work."""

        async def run() -> None:
            _, config = prepare(path, account)
            await check_logins(config.accounts[account.name], typed_password, typed_smtp)

        return self._thread.run(_told(run(), "the login test"))

    def save(
        self, path: Path, account: NewAccount, typed_password: str | None, typed_smtp: str | None = None
    ) -> concurrent.futures.Future[Config]:
        return self._thread.run(_told(asyncio.to_thread(save, path, account, typed_password, typed_smtp), "saving"))

    def keyring_missing(self) -> concurrent.futures.Future[str | None]:
        return self._thread.run(_told(asyncio.to_thread(keyring_entries.missing), "looking for the keyring"))


async def _told(step: Awaitable[T], what: str) -> T:
    """``step``, a bug in it logged with its traceback and told as a SetupError in one line."""
    try:
        return await step
    except SetupError:
        raise
    except Exception as exc:
        log.exception("%s failed", what)
        raise SetupError([f"{what} failed: {type(exc).__name__} (details in the log)"]) from None
