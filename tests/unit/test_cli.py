"""The command line as a user meets it: version, help, and config mistakes without tracebacks."""

import subprocess
import sys
from pathlib import Path

from mailbag import __version__


def mailbag(*args: str, env_home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(env_home),
        "XDG_CONFIG_HOME": str(env_home / "config"),
        "XDG_DATA_HOME": str(env_home / "data"),
        "XDG_STATE_HOME": str(env_home / "state"),
    }
    return subprocess.run(
        [sys.executable, "-m", "mailbag", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_version(tmp_path):
    result = mailbag("--version", env_home=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"mailbag {__version__}"


def test_help_lists_options_and_sync(tmp_path):
    result = mailbag("--help", env_home=tmp_path)
    assert result.returncode == 0
    for word in ("--config", "--demo", "--debug", "sync"):
        assert word in result.stdout


def test_bad_config_names_file_line_and_key_without_traceback(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        '[accounts.work]\nemail = "me@example.org"\n\n[accounts.work.imap]\n'
        'host = "imap.example.org"\nsecurity = "tls"\nprot = 993\n'
    )
    result = mailbag("--config", str(config), "sync", env_home=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{config}:7" in result.stderr
    assert "prot" in result.stderr


def test_missing_config_is_a_clear_error(tmp_path):
    result = mailbag("--config", str(tmp_path / "nope.toml"), env_home=tmp_path)
    assert result.returncode == 2
    assert "nope.toml" in result.stderr and "Traceback" not in result.stderr


def test_unknown_account_for_sync(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        '[accounts.work]\nemail = "me@example.org"\n[accounts.work.imap]\nhost = "127.0.0.1"\nkeyring = true\n'
    )
    result = mailbag("--config", str(config), "sync", "--account", "home", env_home=tmp_path)
    assert result.returncode == 2
    assert "home" in result.stderr


def test_an_unreadable_cache_is_a_clear_error_for_the_ui_and_sync(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        '[accounts.work]\nemail = "me@example.org"\n[accounts.work.imap]\nhost = "127.0.0.1"\nkeyring = true\n'
    )
    cache = tmp_path / "data" / "mailbag" / "cache.sqlite3"
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"this is not a database " * 200)
    for command in ((), ("sync",)):
        result = mailbag("--config", str(config), *command, env_home=tmp_path)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert f"the cache {cache} cannot be read" in result.stderr
        assert cache.read_bytes().startswith(b"this is not a database")  # left as it was
