"""Fixtures for OAuth2 tests: a fake keyring (a file, shared with ``mailbag`` subprocesses) and
the local token endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from mailbag.domain.oauth2 import OAuth2Config
from mailbag.services.oauth2_tokens import KEEPER, KEYRING_SERVICE
from tests.fake_keyring import BACKEND, FileKeyring
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
