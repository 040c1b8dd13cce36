"""Passwords and OAuth2 access tokens: from a command, an environment variable, the system keyring
or the account's OAuth2 sign-in. Never logged or cached on disk."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import TypeVar

from mailbag.domain.config import ServerConfig
from mailbag.protocols.sasl import NoOAuthMechanism
from mailbag.services.keyring_entries import KEYRING_SERVICE, KeyringFailed, read_entry, write_entry
from mailbag.services.oauth2_tokens import KEEPER, TokenUnavailable
from mailbag.services.piping import end_session

T = TypeVar("T")


class SecretError(Exception):
    """The password could not be had; the message says from where and why (never the secret)."""


def keyring_username(server: ServerConfig) -> str:
    """The keyring entry name: ``username@host`` under the service ``mailbag``."""
    return f"{server.username}@{server.host}"


async def resolve_password(server: ServerConfig, *, timeout: float = 60.0, fresh: bool = False) -> str:
    """The password for ``server`` from its configured source, or its OAuth2 access token
    (``fresh``: not the one held, which the server refused); SecretError when there is none."""
    if server.oauth2_token_command:
        return await _from_command(server.oauth2_token_command, timeout, "oauth2_token_command")
    if server.oauth2 is not None:
        try:
            return await KEEPER.access_token(server.oauth2, fresh=fresh)
        except TokenUnavailable as exc:
            raise SecretError(str(exc)) from None
    if server.password_command:
        return await _from_command(server.password_command, timeout)
    if server.password_env:
        value = os.environ.get(server.password_env)
        if value is None:
            raise SecretError(f"environment variable {server.password_env} is not set")
        return value
    if server.keyring:
        return await asyncio.to_thread(_from_keyring, server)
    raise SecretError("no password source is configured")


async def login_once_more(
    server: ServerConfig,
    secret: str,
    login: Callable[[str], Awaitable[T]],
    refused: type[Exception] | tuple[type[Exception], ...],
) -> T:
    """``login(secret)``; when the server refuses an OAuth2 token (expired early, revoked), once
    more with a fresh one. A refused password is never tried again (servers lock accounts), nor
    a login to a server that takes no OAuth2 at all (no token went out)."""
    try:
        return await login(secret)
    except refused as exc:
        if not server.uses_oauth2 or isinstance(exc.__cause__, NoOAuthMechanism):
            raise
    return await login(await resolve_password(server, fresh=True))


async def _from_command(command: str, timeout: float, key: str = "password_command") -> str:
    """The first line the command prints. Its stderr is discarded (a failing password program may
    print the secret there); it runs in a session of its own, so a timeout ends all it started."""
    proc = await asyncio.create_subprocess_shell(
        command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        await end_session(proc)
        raise SecretError(f"{key} did not finish within {timeout:g} s") from None
    except BaseException:  # the caller gave up (cancelled)
        await end_session(proc)
        raise
    if proc.returncode != 0:
        raise SecretError(f"{key} failed (exit status {proc.returncode})")
    lines = out.decode(errors="replace").splitlines()
    if not lines or not lines[0]:
        raise SecretError(f"{key} printed nothing")
    return lines[0]  # like `pass`: the first line is the password


def _from_keyring(server: ServerConfig) -> str:
    try:
        value = read_entry(keyring_username(server))
    except KeyringFailed as exc:
        raise SecretError(f"keyring: {exc}") from None
    if value is None:
        raise SecretError(
            f"no keyring entry for service {KEYRING_SERVICE!r}, user {keyring_username(server)!r}"
        )
    return value


def store_in_keyring(server: ServerConfig, password: str) -> None:
    """Keep ``password`` in the system keyring under the entry ``server`` reads it from (blocking:
    call it off the UI's loop). SecretError when the keyring refuses or there is none."""
    try:
        write_entry(keyring_username(server), password)
    except KeyringFailed as exc:
        raise SecretError(f"keyring: {exc}") from None
