"""The ``[accounts.NAME.pop3]`` table: the same keys as ``imap`` plus leave_on_server,
delete_after_days and poll_interval; mistakes named by file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailbag.domain.config import POP3_POLL_SECONDS, ConfigError, parse_config

PATH = Path("config.toml")

POP3 = """\
[accounts.old]
email = "me@example.org"
maildir = "~/Mail/old"
[accounts.old.pop3]
host = "pop.example.org"
security = "starttls"
password_env = "POP_PASSWORD"
"""


def error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, PATH)
    return str(info.value)


def test_a_pop3_account_loads_with_its_defaults() -> None:
    account = parse_config(POP3, PATH).accounts["old"]
    assert account.pop3 is not None and account.imap is None
    assert (account.pop3.port, account.pop3.security, account.pop3.username) == (110, "starttls", "me@example.org")
    assert account.pop3.leave_on_server and account.pop3.delete_after_days is None
    assert account.pop3.poll_seconds == POP3_POLL_SECONDS
    assert account.maildir == Path("~/Mail/old").expanduser()
    tls = parse_config(POP3.replace('security = "starttls"', 'security = "tls"'), PATH).accounts["old"]
    assert tls.pop3 is not None and tls.pop3.port == 995


def test_pop3_keys() -> None:
    config = parse_config(POP3 + "delete_after_days = 14\npoll_interval = 120\n", PATH)
    pop3 = config.accounts["old"].pop3
    assert pop3 is not None and (pop3.delete_after_days, pop3.poll_seconds) == (14, 120)
    gone = parse_config(POP3 + "leave_on_server = false\n", PATH).accounts["old"].pop3
    assert gone is not None and not gone.leave_on_server


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("leave_on_server = false\ndelete_after_days = 3\n",
         "config.toml:9: accounts.old.pop3.delete_after_days: needs leave_on_server = true"),
        ("delete_after_days = -1\n", "config.toml:8: accounts.old.pop3.delete_after_days: -1 is out of range"),
        ('poll_interval = "5m"\n', "config.toml:8: accounts.old.pop3.poll_interval: must be a number of seconds"),
        ("poll_seconds = 60\n", "config.toml:8: accounts.old.pop3.poll_seconds: unknown key"),
        ('leave_on_server = "yes"\n', "config.toml:8: accounts.old.pop3.leave_on_server: must be true or false"),
    ],
)
def test_pop3_mistakes_are_named_by_line_and_key(extra: str, expected: str) -> None:
    assert error(POP3 + extra).startswith(expected)


def test_imap_and_pop3_together_are_refused() -> None:
    text = POP3 + '[accounts.old.imap]\nhost = "imap.example.org"\nkeyring = true\n'
    assert "accounts.old.pop3: an account reads its mail by IMAP or by POP3, not both" in error(text)


def test_pop3_with_smtp_for_sending() -> None:
    text = POP3 + '[accounts.old.smtp]\nhost = "smtp.example.org"\npassword_env = "P"\n'
    account = parse_config(text, PATH).accounts["old"]
    assert account.smtp is not None and account.pop3 is not None
