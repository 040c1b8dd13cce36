"""Passwords: from a command, an environment variable or the system keyring. Never logged or cached."""

from __future__ import annotations

import asyncio
import os

from mailbag.domain.config import ServerConfig

KEYRING_SERVICE = "mailbag"


class SecretError(Exception):
    """The password could not be had; the message says from where and why (never the secret)."""


def keyring_username(server: ServerConfig) -> str:
    """The keyring entry name: ``username@host`` under the service ``mailbag``."""
    return f"{server.username}@{server.host}"


async def resolve_password(server: ServerConfig, *, timeout: float = 60.0) -> str:
    """The password for ``server`` from its configured source (empty when none is configured)."""
    if server.password_command:
        return await _from_command(server.password_command, timeout)
    if server.password_env:
        value = os.environ.get(server.password_env)
        if value is None:
            raise SecretError(f"environment variable {server.password_env} is not set")
        return value
    if server.keyring:
        return await asyncio.to_thread(_from_keyring, server)
    return ""


async def _from_command(command: str, timeout: float) -> str:
    proc = await asyncio.create_subprocess_shell(
        command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise SecretError(f"password_command did not finish within {timeout:.0f} s") from None
    if proc.returncode != 0:
        first = err.decode(errors="replace").strip().splitlines()[:1]
        detail = f": {first[0][:200]}" if first else ""
        raise SecretError(f"password_command exited with status {proc.returncode}{detail}")
    lines = out.decode(errors="replace").splitlines()
    if not lines or not lines[0]:
        raise SecretError("password_command printed nothing")
    return lines[0]  # like `pass`: the first line is the password


def _from_keyring(server: ServerConfig) -> str:
    import keyring
    from keyring.errors import KeyringError

    try:
        value = keyring.get_password(KEYRING_SERVICE, keyring_username(server))
    except KeyringError as exc:
        raise SecretError(f"keyring: {exc}") from None
    if value is None:
        raise SecretError(
            f"no keyring entry for service {KEYRING_SERVICE!r}, user {keyring_username(server)!r}"
        )
    return value
