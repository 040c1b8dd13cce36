"""The autoconfig document, ranking the servers found, and the new account's TOML."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailbag.domain.autoconfig import AutoconfigError, parse_autoconfig
from mailbag.domain.config import parse_config
from mailbag.domain.discovery import ServerChoice, autoconfig_urls, found, split_address
from mailbag.domain.new_account import NewAccount, PasswordSource, suggest_name, toml_string, with_account
from tests.servers.autoconfig import thunderbird_xml

ADDRESS = "ann.lee@example.test"


def test_placeholders_in_usernames_and_host_names_are_filled_in() -> None:
    document = thunderbird_xml([
        {"type": "imap", "hostname": "imap.%EMAILDOMAIN%", "port": "993", "socketType": "SSL",
         "username": "%EMAILLOCALPART%"},
        {"type": "smtp", "hostname": "smtp.example.test", "port": "465", "socketType": "SSL",
         "username": "%EMAILADDRESS%"},
        {"type": "pop3", "hostname": "pop.example.test", "port": "110", "socketType": "plain",
         "username": "box-%EMAILLOCALPART%"},
    ])

    assert parse_autoconfig(document, ADDRESS) == [
        ServerChoice("imap", "imap.example.test", 993, "tls", "ann.lee"),
        ServerChoice("pop3", "pop.example.test", 110, "none", "box-ann.lee"),
        ServerChoice("smtp", "smtp.example.test", 465, "tls", ADDRESS),
    ]


def test_servers_without_a_password_login_or_with_a_bad_host_are_left_out() -> None:
    document = thunderbird_xml([
        {"type": "imap", "hostname": "imap.example.test", "port": "993", "socketType": "SSL",
         "authentication": "OAuth2"},
        {"type": "imap", "hostname": "evil host;rm.test", "port": "993", "socketType": "SSL"},
        {"type": "imap", "hostname": "imap.example.test", "port": "99999", "socketType": "SSL"},
        {"type": "exchange", "hostname": "ews.example.test", "port": "443", "socketType": "SSL"},
    ])

    assert parse_autoconfig(document, ADDRESS) == []


@pytest.mark.parametrize("document", [
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><clientConfig>&a;</clientConfig>',
    b"<html>not found</html>",
    b"not xml at all <",
])
def test_what_is_not_an_autoconfig_document_is_refused(document: bytes) -> None:
    with pytest.raises(AutoconfigError):
        parse_autoconfig(document, ADDRESS)


def test_plain_text_is_never_chosen_and_implicit_tls_comes_first() -> None:
    choices = [
        ServerChoice("imap", "a.test", 143, "none"),
        ServerChoice("imap", "b.test", 143, "starttls"),
        ServerChoice("imap", "c.test", 993, "tls"),
        ServerChoice("smtp", "d.test", 25, "none"),
    ]

    result = found("autoconfig", choices)

    assert result.imap == choices[2]
    assert result.smtp is None


def test_autoconfig_urls_carry_the_address() -> None:
    assert autoconfig_urls("a+b@Example.Test") == [
        "https://autoconfig.example.test/mail/config-v1.1.xml?emailaddress=a%2Bb@Example.Test",
        "https://example.test/.well-known/autoconfig/mail/config-v1.1.xml",
    ]


@pytest.mark.parametrize("address", ["", "ann", "@example.test", "ann@", "ann lee@example.test", "ann@nodot"])
def test_what_is_not_an_address_is_refused(address: str) -> None:
    with pytest.raises(ValueError):
        split_address(address)


def test_account_names_come_from_the_domain_and_do_not_clash() -> None:
    assert suggest_name("me@mail.example.org", []) == "example"
    assert suggest_name("me@example.org", ["example", "example-2"]) == "example-3"


def test_toml_strings_survive_quotes_backslashes_and_controls() -> None:
    value = 'pass show "mail/work" \\ x\ty\x7f'
    assert parse_config(f"[ui]\neditor = {toml_string(value)}\n", Path("c.toml")).ui.editor == value


def test_the_first_account_is_the_default_one_and_the_file_text_is_kept() -> None:
    account = NewAccount(
        name="work", email=ADDRESS, display_name='Ann "the" Lee',
        incoming=ServerChoice("imap", "imap.example.test", 993, "tls", ADDRESS),
        smtp=ServerChoice("smtp", "smtp.example.test", 587, "starttls", ADDRESS),
        password=PasswordSource("command", "pass show mail/work"),
    )

    text, config = with_account("", account, Path("config.toml"))

    added = config.accounts["work"]
    assert added.default and added.display_name == 'Ann "the" Lee'
    assert added.imap is not None and added.imap.password_command == "pass show mail/work"
    assert added.smtp is not None and added.smtp.security == "starttls" and added.smtp.port == 587

    second = NewAccount(
        name="home", email="me@home.test", display_name="", incoming=ServerChoice(
            "pop3", "pop.home.test", 995, "tls", "me"), smtp=None, password=PasswordSource("env", "HOME_PW"),
    )
    more, config = with_account("# mine\n" + text.rstrip("\n"), second, Path("config.toml"))
    assert more.startswith("# mine\n" + text.rstrip("\n") + "\n\n[accounts.home]\n")
    assert not config.accounts["home"].default
    assert config.accounts["home"].pop3 is not None
    assert config.accounts["home"].pop3.password_env == "HOME_PW"


def test_an_smtp_password_of_its_own_goes_to_the_smtp_table_only() -> None:
    account = NewAccount(
        name="work", email=ADDRESS, display_name="",
        incoming=ServerChoice("pop3", "pop.example.test", 995, "tls", ADDRESS),
        smtp=ServerChoice("smtp", "relay.example.test", 587, "starttls", "AKIA-RELAY"),
        password=PasswordSource("command", "pass show mail/work"),
        smtp_password=PasswordSource("command", "pass show mail/relay"),
    )
    _, config = with_account("", account, Path("config.toml"))
    added = config.accounts["work"]
    assert added.pop3 is not None and added.pop3.password_command == "pass show mail/work"
    assert added.smtp is not None and added.smtp.password_command == "pass show mail/relay"
