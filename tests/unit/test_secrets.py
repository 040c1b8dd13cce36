import dataclasses
from typing import Any

import pytest

from mailbag.domain.config import ServerConfig
from mailbag.services.secrets import SecretError, resolve_password


def server(**kwargs: Any) -> ServerConfig:
    base = ServerConfig(host="imap.example.org", port=993, security="tls", username="me")
    return dataclasses.replace(base, **kwargs)


async def test_password_command_first_line():
    assert await resolve_password(server(password_command="printf 'hunter2\\nextra\\n'")) == "hunter2"


async def test_password_command_failure_names_status_not_secret():
    with pytest.raises(SecretError) as info:
        await resolve_password(server(password_command="echo oops >&2; exit 3"))
    assert "status 3" in str(info.value) and "oops" in str(info.value)


async def test_password_env(monkeypatch):
    monkeypatch.setenv("MAILBAG_TEST_PW", "s3cret")
    assert await resolve_password(server(password_env="MAILBAG_TEST_PW")) == "s3cret"


async def test_password_env_missing(monkeypatch):
    monkeypatch.delenv("MAILBAG_TEST_PW", raising=False)
    with pytest.raises(SecretError, match="MAILBAG_TEST_PW is not set"):
        await resolve_password(server(password_env="MAILBAG_TEST_PW"))
