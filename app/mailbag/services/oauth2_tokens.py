"""OAuth2 tokens of the device-code flow: the refresh token in the system keyring, the access
token in memory only, refreshed shortly before it expires (or at once when a server refused it).

The keyring entry is service ``mailbag``, user ``oauth2:ACCOUNT``. Nothing here writes a token
anywhere else: not the cache, the local store, or a log line.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable

from mailbag.domain.oauth2 import OAuth2Config
from mailbag.services import oauth2_http
from mailbag.services.keyring_entries import KeyringFailed, read_entry, write_entry
from mailbag.services.oauth2_http import DeviceCode, OAuth2Error, Tokens

log = logging.getLogger(__name__)#: An access token this close to its expiry is refreshed before it is used (seconds).
REFRESH_MARGIN = 120.0


class TokenUnavailable(Exception):
    """No access token could be had; the message says why and what to do (never a token)."""


def keyring_user(config: OAuth2Config) -> str:
    """The keyring user name of an account's refresh token."""
    return f"oauth2:{config.account}"


class TokenKeeper:
    """Access tokens by account, refreshed from the keyring's refresh token when due. Safe to
    use from several threads and event loops: one refresh per account at a time."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str, str], Tokens] = {}
        self._locks: dict[tuple[str, str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    async def access_token(self, config: OAuth2Config, *, fresh: bool = False) -> str:
        """A usable access token; ``fresh`` asks for a new one (the server refused the last)."""
        return await asyncio.to_thread(self._access_token, config, fresh)

    def keep(self, config: OAuth2Config, tokens: Tokens) -> None:
        """Store what a sign-in got: the refresh token in the keyring, the access token here."""
        if tokens.refresh_token is None:
            raise TokenUnavailable("the provider sent no refresh token (is offline access in the scope?)")
        with self._lock(config):
            _keyring_set(config, tokens.refresh_token)
            self._tokens[_key(config)] = tokens

    def forget(self) -> None:
        """Drop every access token held in memory."""
        with self._guard:
            self._tokens.clear()

    def _access_token(self, config: OAuth2Config, fresh: bool) -> str:
        key = _key(config)
        with self._lock(config):
            held = self._tokens.get(key)
            if held is not None and not fresh and held.expires_at - REFRESH_MARGIN > time.time():
                return held.access_token
            refresh_token = _keyring_get(config)
            try:
                tokens = oauth2_http.refresh(config, refresh_token)
            except OAuth2Error as exc:
                if exc.code == "invalid_grant":
                    raise TokenUnavailable(
                        f"the OAuth2 sign-in of {config.account} has expired or was revoked:"
                        f" run `mailbag oauth2 {config.account}`"
                    ) from None
                raise TokenUnavailable(f"OAuth2 token refresh failed: {exc}") from None
            if tokens.refresh_token is not None and tokens.refresh_token != refresh_token:
                _keyring_set(config, tokens.refresh_token)  # the provider rotated it
            self._tokens[key] = tokens
            log.info("oauth2: access token of %s refreshed", config.account)
            return tokens.access_token

    def _lock(self, config: OAuth2Config) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(_key(config), threading.Lock())


#: The keeper the services share (one process, one set of access tokens).
KEEPER = TokenKeeper()


async def sign_in(
    config: OAuth2Config,
    show: Callable[[DeviceCode], None],
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    keeper: TokenKeeper = KEEPER,
) -> None:
    """The device-code flow: get a code, ``show`` it (with the URL where to enter it), poll the
    token endpoint until the user has approved, and keep the tokens. Raises OAuth2Error."""
    device = await asyncio.to_thread(oauth2_http.request_device_code, config)
    show(device)
    interval = device.interval
    deadline = time.monotonic() + device.expires_in
    while True:
        await sleep(interval)
        answer = await asyncio.to_thread(oauth2_http.poll_once, config, device)
        if isinstance(answer, Tokens):
            await asyncio.to_thread(keeper.keep, config, answer)
            return
        if answer == "slow_down":
            interval += oauth2_http.SLOW_DOWN_STEP
        if time.monotonic() > deadline:
            raise OAuth2Error("the code expired before it was entered; start again", "expired_token")


def _key(config: OAuth2Config) -> tuple[str, str, str]:
    return (config.account, config.token_endpoint, config.client_id)


def _keyring_get(config: OAuth2Config) -> str:
    try:
        value = read_entry(keyring_user(config))
    except KeyringFailed as exc:
        raise TokenUnavailable(f"keyring: {exc}") from None
    if not value:
        raise TokenUnavailable(f"not signed in to OAuth2: run `mailbag oauth2 {config.account}`")
    return value


def _keyring_set(config: OAuth2Config, refresh_token: str) -> None:
    try:
        write_entry(keyring_user(config), refresh_token)
    except KeyringFailed as exc:
        raise TokenUnavailable(f"keyring: cannot store the refresh token: {exc}") from None
