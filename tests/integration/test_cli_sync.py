"""`mailbag sync` as a person runs it from a shell or cron, against the private Dovecot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers.messages import make_message


def write_config(path: Path, dovecot, user, *, password: str | None = None, security: str = "tls") -> Path:
    port = dovecot.imaps_port if security == "tls" else dovecot.imap_port
    path.write_text(
        f"""
[accounts.work]
email = "{user.email}"
name = "Test User"

[accounts.work.imap]
host = "{dovecot.host}"
port = {port}
security = "{security}"
username = "{user.name}"
password_env = "MAILBAG_TEST_PASSWORD"
ca_file = "{dovecot.ca_file}"
""",
        encoding="utf-8",
    )
    return path


def run_mailbag(*args: str, password: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MAILBAG_TEST_PASSWORD=password)
    return subprocess.run(
        [sys.executable, "-m", "mailbag", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_sync_fills_cache_and_prints_summary(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(1200)))
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(5000, 5010)), folder="Lists/dev")
    config = write_config(tmp_path / "config.toml", dovecot, mail_user)

    result = run_mailbag("--config", str(config), "sync", "--account", "work", password=mail_user.password)
    assert result.returncode == 0, result.stderr
    assert "INBOX: 1200/1200" in result.stdout
    assert "Lists/dev: 10/10" in result.stdout
    assert "1210 messages cached" in result.stdout
    data_home = Path(os.environ["XDG_DATA_HOME"])
    assert (data_home / "mailbag" / "cache.sqlite3").is_file()
    cache = (data_home / "mailbag" / "cache.sqlite3").read_bytes()
    assert mail_user.password.encode() not in cache

    again = run_mailbag("--config", str(config), "sync", password=mail_user.password)
    assert again.returncode == 0, again.stderr
    assert "1210 messages cached" in again.stdout


def test_sync_fails_loudly_with_wrong_password(dovecot, mail_user, tmp_path):
    config = write_config(tmp_path / "config.toml", dovecot, mail_user)
    result = run_mailbag("--config", str(config), "sync", password="wrong-password")
    assert result.returncode == 1
    assert "sync failed" in result.stderr
    assert "Traceback" not in result.stderr
    assert "wrong-password" not in result.stderr


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_tls_asked_of_a_plain_text_port_says_so_and_leaves_the_cache_alone(dovecot, mail_user, tmp_path, protocol):
    """``security = "tls"`` on a port that talks plain text (one for STARTTLS): the server's
    greeting is no TLS. The error says that, and what to set; it is not taken for a cache that
    cannot be used (the TLS library's error number is EPERM's)."""
    port = dovecot.imap_port if protocol == "imap" else dovecot.pop3_port
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[accounts.work]
email = "{mail_user.email}"

[accounts.work.{protocol}]
host = "{dovecot.host}"
port = {port}
security = "tls"
username = "{mail_user.name}"
password_env = "MAILBAG_TEST_PASSWORD"
ca_file = "{dovecot.ca_file}"
""",
        encoding="utf-8",
    )
    result = run_mailbag("--config", str(config), "sync", password=mail_user.password)
    assert result.returncode == 1, result.stderr
    assert f"work: sync failed: TLS with {dovecot.host}:{port} failed: the server did not answer in TLS" in result.stderr
    assert 'security = "starttls"' in result.stderr
    assert "cache" not in result.stderr
