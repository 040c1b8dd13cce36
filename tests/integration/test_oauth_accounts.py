"""Accounts that sign in with OAuth2 (the device flow's tokens, or a token command), through the
services: an access token the server refuses is refreshed and the login tried once more (never
again), and no token ever reaches the log (at debug level), the cache or the local store."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from mailbag.domain.config import AccountConfig, ServerConfig
from mailbag.domain.models import OutgoingState
from mailbag.services.backend import AuthenticationFailed
from mailbag.services.imap_account import ImapAccount
from mailbag.services.pop3_account import Pop3Account
from mailbag.protocols.pop3.errors import Pop3LoginRefused
from mailbag.store.store import Store
from tests.integration.accounts import Recorder
from tests.integration.outbox_fixtures import config_of, new_message, sending, sending_account
from tests.oauth_fixtures import fake_keyring, oauth2_config, signed_in, token_endpoint  # noqa: F401
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.oauth_script import OAuthImap, OAuthPop3, OAuthScript, OAuthSmtp
from tests.servers.token_endpoint import TokenEndpoint

pytestmark = [pytest.mark.dovecot, pytest.mark.usefixtures("fake_keyring")]

USER = "me@example.org"
SECRETS = ("access-1", "access-2", "refresh-0")


def oauth_server(scripted: OAuthImap | OAuthPop3 | OAuthSmtp, endpoint: TokenEndpoint) -> ServerConfig:
    return ServerConfig(
        host="localhost", port=scripted.port, security="tls", username=USER, ca_file=scripted.ca_file,
        oauth2=oauth2_config(endpoint),
    )


def account(kind: str, server: OAuthImap | OAuthPop3, endpoint: TokenEndpoint, tmp_path: Path) -> AccountConfig:
    """The OAuth2 account of ``kind`` ("imap" or "pop3") on ``server``."""
    if kind == "imap":
        return AccountConfig(name="work", email=USER, imap=oauth_server(server, endpoint))
    return AccountConfig(name="work", email=USER, maildir=tmp_path / "Mail", pop3=oauth_server(server, endpoint))


@contextmanager
def started(kind: str, dovecot: DovecotServer, script: OAuthScript) -> Iterator[OAuthImap | OAuthPop3]:
    """A scripted IMAP or POP3 server playing ``script``, stopped on leaving."""
    server = (OAuthImap if kind == "imap" else OAuthPop3)(dovecot, script, tls=True).start()
    try:
        yield server
    finally:
        server.stop()


async def log_in(kind: str, config: AccountConfig, tmp_path: Path) -> None:
    """Connect (IMAP) or download once (POP3), as a session of ``config``'s account would."""
    if kind == "imap":
        await connect_imap(config, tmp_path)
    else:
        await sync_pop3(config, tmp_path)


REFUSED = {"imap": AuthenticationFailed, "pop3": Pop3LoginRefused}


@pytest.fixture
def imap(dovecot: DovecotServer, request: pytest.FixtureRequest) -> Iterator[OAuthImap]:
    server = OAuthImap(dovecot, request.param, tls=True).start()
    yield server
    server.stop()


@pytest.fixture
def pop3(dovecot: DovecotServer, request: pytest.FixtureRequest) -> Iterator[OAuthPop3]:
    server = OAuthPop3(dovecot, request.param, tls=True).start()
    yield server
    server.stop()


@pytest.fixture
def smtp(dovecot: DovecotServer, request: pytest.FixtureRequest) -> Iterator[OAuthSmtp]:
    server = OAuthSmtp(dovecot, request.param, tls=True).start()
    yield server
    server.stop()


async def connect_imap(config: AccountConfig, tmp_path: Path) -> None:
    """Connect ``config``'s IMAP account and leave (its cache under ``tmp_path``)."""
    store = Store.open(tmp_path / "cache.sqlite3")
    try:
        account = ImapAccount(config, store, Recorder())
        await account.connect()
        await account.disconnect()
    finally:
        store.close()


async def sync_pop3(config: AccountConfig, tmp_path: Path) -> None:
    """One download of ``config``'s POP3 account into ``tmp_path``."""
    store = Store.open(tmp_path / "cache.sqlite3")
    try:
        await Pop3Account(config, tmp_path / "Mail", store, Recorder()).sync_once()
    finally:
        store.close()


def assert_no_secret_in(caplog: pytest.LogCaptureFixture, *directories: Path) -> None:
    """No token in a log record (at debug level) or in any file under ``directories``."""
    assert not any(s in caplog.text for s in SECRETS)
    for directory in directories:
        for path in directory.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert not any(s.encode() in data for s in SECRETS), path


@pytest.mark.parametrize("imap", [OAuthScript(tokens=("access-2",))], indirect=True)
async def test_imap_a_refused_token_is_refreshed_and_tried_once_more(
    imap: OAuthImap, token_endpoint: TokenEndpoint, tmp_path: Path, caplog: pytest.LogCaptureFixture,
    xdg_dirs: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    signed_in()
    config = AccountConfig(name="work", email=USER, imap=oauth_server(imap, token_endpoint))
    store = Store.open(tmp_path / "cache.sqlite3")
    try:
        account = ImapAccount(config, store, Recorder())
        await account.connect()
        assert [f.name for f in store.folders("work")] == ["INBOX"]
        await account.disconnect()
    finally:
        store.close()

    assert [x.token for x in imap.seen.logins] == ["access-1", "access-2"]
    assert token_endpoint.provider.grants("refresh_token") == 2
    assert_no_secret_in(caplog, tmp_path, xdg_dirs)


@pytest.mark.parametrize("kind", ["imap", "pop3"])
async def test_a_token_refused_twice_is_a_refused_login_not_a_loop(
    kind: str, dovecot: DovecotServer, token_endpoint: TokenEndpoint, tmp_path: Path
) -> None:
    signed_in()
    with started(kind, dovecot, OAuthScript(tokens=("never",))) as server:
        with pytest.raises(REFUSED[kind], match="Authentication failed"):
            await log_in(kind, account(kind, server, token_endpoint, tmp_path), tmp_path)

    assert len(server.seen.logins) == 2


def token_command(scripted: OAuthImap | OAuthPop3 | OAuthSmtp) -> ServerConfig:
    """A server table whose token comes from ``oauth2_token_command``."""
    return replace(oauth_server(scripted, TokenEndpoint()), oauth2=None, oauth2_token_command="echo from-command")


@pytest.mark.parametrize("kind", ["imap", "pop3"])
async def test_imap_and_pop3_with_a_token_command(kind: str, dovecot: DovecotServer, tmp_path: Path) -> None:
    with started(kind, dovecot, OAuthScript(tokens=("from-command",))) as server:
        table = token_command(server)
        config = (AccountConfig(name="work", email=USER, imap=table) if kind == "imap" else
                  AccountConfig(name="work", email=USER, maildir=tmp_path / "Mail", pop3=table))
        await log_in(kind, config, tmp_path)

    assert [(x.mechanism, x.token) for x in server.seen.logins] == [("OAUTHBEARER", "from-command")]


@pytest.mark.parametrize("smtp", [OAuthScript(tokens=("from-command",))], indirect=True)
async def test_smtp_with_a_token_command(
    dovecot: DovecotServer, mail_user: MailUser, smtp: OAuthSmtp, tmp_path: Path
) -> None:
    account = sending_account(dovecot, mail_user, replace(token_command(smtp), save_sent=False))
    async with sending(config_of(account), tmp_path) as s:
        await s.send(new_message(mail_user, ["a@example.test"]), ["a@example.test"])
        assert await s.outbox_settles() == []

    assert [(x.mechanism, x.token) for x in smtp.seen.logins] == [("OAUTHBEARER", "from-command")]
    assert smtp.seen.messages == 1


async def test_imap_without_a_sign_in_the_refused_login_says_what_to_run(
    dovecot: DovecotServer, token_endpoint: TokenEndpoint, tmp_path: Path
) -> None:
    imap = OAuthImap(dovecot, OAuthScript(), tls=True).start()
    store = Store.open(tmp_path / "cache.sqlite3")
    try:
        config = AccountConfig(name="work", email=USER, imap=oauth_server(imap, token_endpoint))
        with pytest.raises(AuthenticationFailed, match=r"OAuth2 token for work: .*run `mailbag oauth2 work`"):
            await ImapAccount(config, store, Recorder()).connect()
    finally:
        store.close()
        imap.stop()
    assert imap.seen.logins == []


@pytest.mark.parametrize("pop3", [OAuthScript(tokens=("access-2",))], indirect=True)
async def test_pop3_a_refused_token_is_refreshed_and_tried_once_more(
    pop3: OAuthPop3, token_endpoint: TokenEndpoint, tmp_path: Path, caplog: pytest.LogCaptureFixture,
    xdg_dirs: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    signed_in()
    config = AccountConfig(name="work", email=USER, maildir=tmp_path / "Mail", pop3=oauth_server(pop3, token_endpoint))
    await sync_pop3(config, tmp_path)

    assert [x.token for x in pop3.seen.logins] == ["access-1", "access-2"]
    assert pop3.seen.count("QUIT") == 1
    assert_no_secret_in(caplog, tmp_path, xdg_dirs)


@pytest.mark.parametrize("smtp", [OAuthScript(tokens=("access-2",))], indirect=True)
async def test_smtp_a_refused_token_is_refreshed_and_the_message_sent(
    dovecot: DovecotServer, mail_user: MailUser, smtp: OAuthSmtp, token_endpoint: TokenEndpoint,
    tmp_path: Path, caplog: pytest.LogCaptureFixture, xdg_dirs: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    signed_in()
    account = sending_account(dovecot, mail_user, replace(oauth_server(smtp, token_endpoint), save_sent=False))
    async with sending(config_of(account), tmp_path) as s:
        await s.send(new_message(mail_user, ["a@example.test"]), ["a@example.test"])
        assert await s.outbox_settles() == []

    assert [x.token for x in smtp.seen.logins] == ["access-1", "access-2"]
    assert smtp.seen.messages == 1
    assert_no_secret_in(caplog, tmp_path, xdg_dirs)


@pytest.mark.parametrize(("kind", "greeting"), [("imap", "CAPABILITY"), ("pop3", "CAPA")])
async def test_a_server_without_oauth2_is_not_tried_twice(
    kind: str, greeting: str, dovecot: DovecotServer, token_endpoint: TokenEndpoint, tmp_path: Path
) -> None:
    signed_in()
    with started(kind, dovecot, OAuthScript(mechanisms=("PLAIN",))) as server:
        with pytest.raises(REFUSED[kind], match="offers no OAUTHBEARER or XOAUTH2"):
            await log_in(kind, account(kind, server, token_endpoint, tmp_path), tmp_path)

    assert token_endpoint.provider.grants("refresh_token") == 1  # no fresh token asked for
    assert server.seen.logins == []
    assert [c.split()[-1] for c in server.seen.commands].count(greeting) == 1  # one connection (IMAP's are tagged)


@pytest.mark.parametrize("smtp", [OAuthScript(mechanisms=("PLAIN",))], indirect=True)
async def test_an_smtp_server_without_oauth2_is_not_tried_twice_and_the_message_waits(
    dovecot: DovecotServer, mail_user: MailUser, smtp: OAuthSmtp, token_endpoint: TokenEndpoint, tmp_path: Path
) -> None:
    signed_in()
    account = sending_account(dovecot, mail_user, replace(oauth_server(smtp, token_endpoint), save_sent=False))
    async with sending(config_of(account), tmp_path) as s:
        await s.send(new_message(mail_user, ["a@example.test"]), ["a@example.test"])
        (left,) = await s.outbox_settles()

    assert left.state is OutgoingState.HELD and "offers no OAUTHBEARER or XOAUTH2" in left.reason, left
    assert token_endpoint.provider.grants("refresh_token") == 1  # no fresh token asked for
    assert smtp.seen.logins == [] and smtp.seen.messages == 0
    assert smtp.seen.count("EHLO") == 1  # one connection (implicit TLS)
