"""Where passwords come from, and what a failing source may (not) reveal."""

import asyncio
import dataclasses
import logging
from pathlib import Path
from typing import Any

import pytest

from mailbag.domain.config import AccountConfig, ServerConfig
from mailbag.protocols.imap import ImapSettings
from mailbag.services.secrets import SecretError, resolve_password


def server(**kwargs: Any) -> ServerConfig:
    base = ServerConfig(host="imap.example.org", port=993, security="tls", username="me")
    return dataclasses.replace(base, **kwargs)


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


async def test_password_command_first_line() -> None:
    assert await resolve_password(server(password_command="printf 'hunter2\\nextra\\n'")) == "hunter2"


async def test_a_failing_command_is_a_fixed_message_and_its_stderr_goes_nowhere(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SecretError) as info:
        await resolve_password(server(password_command="echo hunter2 >&2; exit 3"))

    assert str(info.value) == "password_command failed (exit status 3)"
    out, err = capfd.readouterr()
    assert "hunter2" not in out + err + caplog.text


async def test_a_timeout_kills_every_process_the_command_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    # The shell starts a child that keeps the output pipe open, then waits for it.
    command = f"sleep 300 & echo $! > {pid_file}; wait"

    with pytest.raises(SecretError, match="did not finish within 0.5 s"):
        # The outer bound only keeps a regression from hanging the run.
        await asyncio.wait_for(resolve_password(server(password_command=command), timeout=0.5), 60)

    child = int(pid_file.read_text())
    for _ in range(100):  # SIGKILL is delivered asynchronously
        if not alive(child):
            break
        await asyncio.sleep(0.02)
    assert not alive(child)


async def test_password_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILBAG_TEST_PW", "s3cret")
    assert await resolve_password(server(password_env="MAILBAG_TEST_PW")) == "s3cret"


async def test_password_env_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAILBAG_TEST_PW", raising=False)
    with pytest.raises(SecretError, match="MAILBAG_TEST_PW is not set"):
        await resolve_password(server(password_env="MAILBAG_TEST_PW"))


async def test_no_source_is_an_error_not_an_empty_password() -> None:
    with pytest.raises(SecretError, match="no password source"):
        await resolve_password(server())


def test_settings_never_show_a_password_in_their_repr() -> None:
    settings = ImapSettings(host="h", port=993, security="tls", username="me", password="hunter2")
    account = AccountConfig(
        name="work", email="me@example.org",
        imap=server(password_command="printf 'hunter2'"), smtp=server(password_env="PW"),
    )
    for shown in (repr(settings), str(settings), repr(account), f"{account}"):
        assert "hunter2" not in shown
    assert "username='me'" in repr(settings) and "password_env='PW'" in repr(account)


def test_an_account_on_the_keyring_where_there_is_none_is_told_so_in_plain_words() -> None:
    from keyring.backends import fail

    from mailbag.services.keyring_entries import NO_KEYRING, missing
    from mailbag.services.secrets import store_in_keyring
    from tests.memory_keyring import keyring_backend

    server = ServerConfig(host="imap.example.org", port=993, security="tls", username="me", keyring=True)
    with keyring_backend(fail.Keyring()):
        assert missing() == NO_KEYRING
        with pytest.raises(SecretError) as read:
            asyncio.run(resolve_password(server))
        with pytest.raises(SecretError) as written:
            store_in_keyring(server, "secret")
    assert str(read.value) == str(written.value) == f"keyring: {NO_KEYRING}"
    assert "pypi" not in str(read.value).lower()  # keyring's own words name Python packages
