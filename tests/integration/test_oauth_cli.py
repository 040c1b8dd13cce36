"""``mailbag oauth2 ACCOUNT`` as a user runs it: the code and the URL on the terminal, the
refresh token in the keyring, nothing secret in the log (even with --debug)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.oauth_fixtures import fake_keyring, token_endpoint  # noqa: F401
from tests.servers.token_endpoint import DEVICE_CODE, USER_CODE, TokenEndpoint
from tests.unit.cli import SOURCE, environment

ROOT = SOURCE.parent  # where the tests package is, for the fake keyring backend


def write_config(path: Path, endpoint: TokenEndpoint | None) -> Path:
    text = '[accounts.work]\nemail = "me@example.org"\n'
    if endpoint is not None:
        text += (
            f'[accounts.work.oauth2]\ndevice_authorization_endpoint = "{endpoint.url("/device")}"\n'
            f'token_endpoint = "{endpoint.url("/token")}"\nclient_id = "mailbag-test"\n'
            'scope = "mail offline_access"\n'
        )
    text += '[accounts.work.imap]\nhost = "imap.example.org"\n' + ("" if endpoint else "keyring = true\n")
    path.write_text(text)
    return path


def oauth2(config: Path, home: Path, keyring_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = environment(home)
    env["PYTHONPATH"] += f":{ROOT}"
    env["PYTHON_KEYRING_BACKEND"] = "tests.fake_keyring.FileKeyring"
    env["MAILBAG_TEST_KEYRING"] = str(keyring_file)
    return subprocess.run(
        [sys.executable, "-m", "mailbag", "--debug", "--config", str(config), "oauth2", *args],
        capture_output=True, text=True, env=env, timeout=120,
    )


def test_oauth2_shows_the_code_and_keeps_the_refresh_token(
    tmp_path: Path, fake_keyring: Path, token_endpoint: TokenEndpoint
) -> None:
    token_endpoint.provider.device_states = ["authorization_pending", "authorization_pending", "success"]
    config = write_config(tmp_path / "config.toml", token_endpoint)

    result = oauth2(config, tmp_path, fake_keyring, "work")

    assert result.returncode == 0, result.stderr
    assert "https://login.example.test/device" in result.stdout and USER_CODE in result.stdout
    assert "Signed in" in result.stdout
    assert json.loads(fake_keyring.read_text()) == {"mailbag\0oauth2:work": "refresh-device"}
    log = (tmp_path / "state" / "mailbag" / "mailbag.log").read_text()
    for secret in ("refresh-device", "access-1", DEVICE_CODE):
        assert secret not in log + result.stdout + result.stderr


@pytest.mark.parametrize("state, message", [("expired_token", "the code expired"), ("access_denied", "declined")])
def test_oauth2_that_does_not_end_in_a_sign_in_says_why(
    tmp_path: Path, fake_keyring: Path, token_endpoint: TokenEndpoint, state: str, message: str
) -> None:
    token_endpoint.provider.device_states = ["authorization_pending", state]
    config = write_config(tmp_path / "config.toml", token_endpoint)

    result = oauth2(config, tmp_path, fake_keyring, "work")

    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not fake_keyring.exists()


def test_oauth2_for_an_account_without_a_provider(tmp_path: Path, fake_keyring: Path) -> None:
    config = write_config(tmp_path / "config.toml", None)

    result = oauth2(config, tmp_path, fake_keyring, "work")

    assert result.returncode == 2
    assert "[accounts.work.oauth2]" in result.stderr
    assert oauth2(config, tmp_path, fake_keyring, "home").returncode == 2
