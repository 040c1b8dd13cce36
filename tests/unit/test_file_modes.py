"""Every file mailbag creates is 0600 and every folder 0700, whatever the umask; a config file
with a password_command that others may read is warned about."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mailbag import paths
from mailbag.logsetup import setup_logging
from mailbag.store.store import Store
from tests.unit.cli import environment
from tests.unit.test_damaged_cache import demo_config


def modes(top: Path) -> dict[str, str]:
    """The permission bits of everything under ``top`` (itself included), by relative path."""
    return {
        str(p.relative_to(top)): oct(stat.S_IMODE(p.stat().st_mode)) for p in (top, *top.rglob("*"))
    }


def sync(config: Path, home: Path, umask: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailbag", "--config", str(config), "sync"],
        capture_output=True, text=True, env=environment(home), timeout=60, umask=umask,
    )


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_the_cache_the_log_and_their_folders_are_private(tmp_path: Path, umask: int) -> None:
    config = demo_config(tmp_path)

    result = sync(config, tmp_path, umask)

    assert result.returncode == 0, result.stderr
    data, state = tmp_path / "data", tmp_path / "state"
    assert set(modes(data).values()) | set(modes(state).values()) == {"0o700", "0o600"}
    assert modes(data)["mailbag/cache.sqlite3"] == modes(state)["mailbag/mailbag.log"] == "0o600"
    assert modes(data)["mailbag"] == modes(state)["mailbag"] == "0o700"


def test_an_older_cache_and_log_readable_by_others_are_made_private(tmp_path: Path) -> None:
    config = demo_config(tmp_path)
    data, state = tmp_path / "data" / "mailbag", tmp_path / "state" / "mailbag"
    for folder in (data, state):
        folder.mkdir(parents=True)
        folder.chmod(0o755)
    Store.open(data / "cache.sqlite3").close()
    (state / "mailbag.log").write_text("an older log\n")
    for file in (data / "cache.sqlite3", state / "mailbag.log"):
        file.chmod(0o644)

    assert sync(config, tmp_path, 0o022).returncode == 0

    assert modes(data) == {".": "0o700", "cache.sqlite3": "0o600", "local.sqlite3": "0o600"}
    assert modes(state) == {".": "0o700", "mailbag.log": "0o600"}


def test_in_process_the_store_and_the_log_set_their_modes_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        Store.open(tmp_path / "a" / "cache.sqlite3").close()
        setup_logging(tmp_path / "b" / "mailbag.log")
        paths.private_dir(tmp_path / "c" / "d")
    finally:
        os.umask(old)
    assert modes(tmp_path) == {
        ".": modes(tmp_path)["."],  # pytest's, not ours
        "a": "0o700", "a/cache.sqlite3": "0o600", "a/local.sqlite3": "0o600",
        "b": "0o700", "b/mailbag.log": "0o600",
        "c": "0o700", "c/d": "0o700",
    }


def test_a_read_only_file_stays_read_only_when_made_private(tmp_path: Path) -> None:
    file = tmp_path / "cache.sqlite3"
    file.write_bytes(b"")
    file.chmod(0o444)
    paths.private_file(file)
    assert oct(stat.S_IMODE(file.stat().st_mode)) == "0o400"


def config_with_a_password_command(tmp_path: Path, mode: int) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        '[accounts.work]\nemail = "me@example.org"\nmaildir = "Mail"\n'
        '[accounts.work.smtp]\nhost = "smtp.example.org"\npassword_command = "pass show mail"\n'
    )
    config.chmod(mode)
    return config


def test_a_config_with_a_password_command_readable_by_others_is_warned_about(tmp_path: Path) -> None:
    config = config_with_a_password_command(tmp_path, 0o644)
    warning = (
        f"mailbag: warning: {config} has a password_command and other users can read it;"
        f" chmod 600 {config}"
    )
    result = sync(config, tmp_path, 0o022)
    assert warning in result.stderr.splitlines()

    config.chmod(0o600)
    assert "warning" not in sync(config, tmp_path, 0o022).stderr


def test_a_config_with_an_oauth2_token_command_or_client_secret_is_warned_about_too(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[accounts.work]\nemail = "me@example.org"\nmaildir = "Mail"\n'
        '[accounts.work.oauth2]\nprovider = "microsoft"\nclient_id = "c"\nclient_secret = "s"\n'
        '[accounts.work.smtp]\nhost = "smtp.example.org"\noauth2_token_command = "oama access me"\n'
    )
    config.chmod(0o644)

    assert (
        f"mailbag: warning: {config} has an oauth2_token_command and a client_secret and other users can"
        f" read it; chmod 600 {config}"
    ) in sync(config, tmp_path, 0o022).stderr.splitlines()
