"""OAuth2 in the configuration: a token command per server table, an account's [oauth2]
provider for the device flow (a preset or its own endpoints), and the mechanism to force."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailbag.domain.config import AccountConfig, ConfigError, parse_config
from mailbag.domain.oauth2 import PRESETS

PATH = Path("config.toml")


def account(text: str) -> AccountConfig:
    return parse_config('[accounts.work]\nemail = "me@example.org"\n' + text, PATH).accounts["work"]


def error_for(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        account(text)
    return str(info.value)


def test_a_token_command_makes_the_login_oauth2_and_stays_out_of_reprs() -> None:
    work = account('[accounts.work.imap]\nhost = "h"\noauth2_token_command = "oama access me@example.org"\n')

    assert work.imap is not None and work.imap.uses_oauth2
    assert work.imap.oauth2_token_command == "oama access me@example.org"
    assert "oama" not in repr(work)


def test_an_oauth2_table_signs_in_every_server_without_a_password_source() -> None:
    work = account(
        '[accounts.work.oauth2]\nprovider = "microsoft"\nclient_id = "abc"\n'
        '[accounts.work.imap]\nhost = "outlook.office365.com"\n'
        '[accounts.work.smtp]\nhost = "smtp.office365.com"\nsecurity = "starttls"\npassword_env = "PW"\n'
    )

    assert work.oauth2 is not None
    assert work.imap is not None and work.imap.oauth2 == work.oauth2 and work.imap.uses_oauth2
    assert work.smtp is not None and work.smtp.oauth2 is None and not work.smtp.uses_oauth2
    preset = PRESETS["microsoft"]
    assert work.oauth2.token_endpoint == preset["token_endpoint"]
    assert work.oauth2.scope == preset["scope"] and work.oauth2.client_id == "abc"


def test_a_preset_can_be_overridden_and_the_client_secret_is_never_shown() -> None:
    work = account(
        '[accounts.work.oauth2]\nprovider = "microsoft"\nclient_id = "abc"\nclient_secret = "s3cret"\n'
        'token_endpoint = "https://login.example.org/token"\nscope = "mail"\n'
        '[accounts.work.imap]\nhost = "h"\n'
    )

    assert work.oauth2 is not None
    assert work.oauth2.token_endpoint == "https://login.example.org/token"
    assert work.oauth2.scope == "mail" and work.oauth2.client_secret == "s3cret"
    assert "s3cret" not in repr(work)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/token", "http://localhost/token", "http://[::1]/t"])
def test_plain_http_endpoints_only_on_loopback(url: str) -> None:
    work = account(
        f'[accounts.work.oauth2]\ndevice_authorization_endpoint = "https://x.example/d"\n'
        f'token_endpoint = "{url}"\nclient_id = "abc"\n[accounts.work.imap]\nhost = "h"\n'
    )
    assert work.oauth2 is not None and work.oauth2.token_endpoint == url


@pytest.mark.parametrize(
    "table, expected",
    [
        ('provider = "microsoft"\n', "config.toml:3: accounts.work.oauth2: client_id is missing (or set provider)"),
        ('provider = "gmail"\nclient_id = "a"\n',
         'config.toml:4: accounts.work.oauth2.provider: must be one of microsoft, not "gmail"'),
        ('provider = "microsoft"\nclient_id = "a"\ntoken_endpoint = "http://login.example.org/token"\n',
         'config.toml:6: accounts.work.oauth2.token_endpoint: "http://login.example.org/token" must be an'
         " https:// URL"),
        ('client_id = "a"\ntoken_endpoint = "https://t.example/"\n',
         "config.toml:3: accounts.work.oauth2: device_authorization_endpoint is missing (or set provider)"),
        ('provider = "microsoft"\nclient_id = "a"\nclient = "b"\n',
         "config.toml:6: accounts.work.oauth2.client: unknown key (did you mean \"client_id\"?)"),
    ],
)
def test_oauth2_table_mistakes_name_the_line_and_key(table: str, expected: str) -> None:
    assert error_for(f"[accounts.work.oauth2]\n{table}[accounts.work.imap]\nhost = \"h\"\n") == expected


def test_auth_mechanism_is_checked_and_needs_a_token() -> None:
    work = account('[accounts.work.pop3]\nhost = "h"\noauth2_token_command = "t"\nauth_mechanism = "xoauth2"\n')
    assert work.pop3 is not None and work.pop3.auth_mechanism == "XOAUTH2"

    assert error_for('[accounts.work.imap]\nhost = "h"\nkeyring = true\nauth_mechanism = "xoauth2"\n') == (
        "config.toml:6: accounts.work.imap.auth_mechanism: needs an OAuth2 token: oauth2_token_command,"
        " or the account's [oauth2]"
    )
    assert error_for('[accounts.work.imap]\nhost = "h"\noauth2_token_command = "t"\nauth_mechanism = "plain"\n') == (
        'config.toml:6: accounts.work.imap.auth_mechanism: must be "oauthbearer" or "xoauth2", not "plain"'
    )


def test_a_token_command_is_one_password_source_among_the_others() -> None:
    assert error_for('[accounts.work.imap]\nhost = "h"\npassword_env = "PW"\noauth2_token_command = "t"\n') == (
        "config.toml:6: accounts.work.imap.oauth2_token_command: choose one password source, not"
        " password_env and oauth2_token_command"
    )
