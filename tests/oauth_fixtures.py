"""Fixtures for OAuth2 tests: a fake keyring (a file, shared with ``mailbag`` subprocesses) and
the local token endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from mailbag.domain.oauth2 import OAuth2Config
from mailbag.services.keyring_entries import KEYRING_SERVICE
from mailbag.services.oauth2_tokens import KEEPER
from mailbag.domain.config import ServerConfig
from tests.fake_keyring import BACKEND, FileKeyring
from tests.servers.dovecot import MailUser
from tests.servers.oauth_dovecot import OAuthDovecot
from tests.servers.token_endpoint import TokenEndpoint

CLIENT_ID = "mailbag-test-client"


@pytest.fixture
def fake_keyring(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The keyring is a file of its own (here and in any ``mailbag`` the test starts)."""
    path = tmp_path_factory.mktemp("keyring") / "keyring.json"
    monkeypatch.setenv("MAILBAG_TEST_KEYRING", str(path))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", BACKEND)
    previous = keyring.get_keyring()
    keyring.set_keyring(FileKeyring())
    KEEPER.forget()
    yield path
    keyring.set_keyring(previous)
    KEEPER.forget()


@pytest.fixture
def token_endpoint() -> Iterator[TokenEndpoint]:
    endpoint = TokenEndpoint().start()
    yield endpoint
    endpoint.stop()


def oauth2_config(endpoint: TokenEndpoint, account: str = "work") -> OAuth2Config:
    return OAuth2Config(
        account=account, device_authorization_endpoint=endpoint.url("/device"),
        token_endpoint=endpoint.url("/token"), client_id=CLIENT_ID, scope="mail offline_access",
    )


def signed_in(account: str = "work", refresh_token: str = "refresh-0") -> None:
    """The account's refresh token in the (fake) keyring, as ``mailbag oauth2`` leaves it."""
    keyring.set_password(KEYRING_SERVICE, f"oauth2:{account}", refresh_token)


@pytest.fixture(scope="module")
def provider() -> Iterator[TokenEndpoint]:
    """The test provider, shared by a module's tests (and by its Dovecot)."""
    endpoint = TokenEndpoint().start()
    yield endpoint
    endpoint.stop()


@pytest.fixture(scope="module")
def oauth_dovecot(provider: TokenEndpoint) -> Iterator[OAuthDovecot]:
    """A private Dovecot that takes the provider's tokens (see :class:`OAuthDovecot`)."""
    server = OAuthDovecot(provider.url("/introspect"))
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def provider_user(oauth_dovecot: OAuthDovecot, provider: TokenEndpoint) -> MailUser:
    """A new user of that Dovecot, whom the provider's tokens name."""
    user = oauth_dovecot.add_user()
    provider.provider.owner = user.name
    return user


def oauth_server(dovecot: OAuthDovecot, provider: TokenEndpoint, user: MailUser, protocol: str,
                 mechanism: str | None = None) -> ServerConfig:
    """The ``[imap]`` or ``[pop3]`` table of ``user`` on ``dovecot``, signing in with ``provider``."""
    return ServerConfig(
        host="localhost", port=dovecot.imaps_port if protocol == "imap" else dovecot.pop3s_port,
        security="tls", username=user.name, ca_file=dovecot.ca_file,
        oauth2=oauth2_config(provider), auth_mechanism=mechanism,
    )
