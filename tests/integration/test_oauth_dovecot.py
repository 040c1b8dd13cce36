"""Real OAuth2 logins: a private Dovecot whose oauth2 passdb checks tokens with the test
provider, an account signed in through that provider, over IMAP (both mechanisms) and POP3."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailbag.domain.config import AccountConfig, Config, ServerConfig
from mailbag.domain.events import ConnectionChanged, OutboxChanged, RequestDone, SignInCode
from mailbag.domain.models import ConnectionState, OutgoingState
from mailbag.domain.requests import SignIn
from mailbag.protocols.imap import ImapAuthError, ImapClient, ImapSettings
from mailbag.services.imap_account import ImapAccount
from mailbag.services.pop3_account import Pop3Account
from mailbag.store.store import Store
from tests.integration.accounts import Recorder
from tests.integration.outbox_fixtures import new_message, sending
from tests.oauth_fixtures import (  # noqa: F401
    fake_keyring,
    oauth2_config,
    oauth_dovecot,
    oauth_server as server,
    provider,
    provider_user as user,
    signed_in,
)
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.messages import make_message
from tests.servers.oauth_dovecot import OAuthDovecot
from tests.servers.oauth_script import OAuthScript, OAuthSmtp
from tests.servers.token_endpoint import USER_CODE, TokenEndpoint

pytestmark = [pytest.mark.dovecot, pytest.mark.usefixtures("fake_keyring")]




@pytest.mark.parametrize("mechanism", ["OAUTHBEARER", "XOAUTH2"])
async def test_imap_signs_in_to_dovecot_with_the_providers_token(
    oauth_dovecot: OAuthDovecot, provider: TokenEndpoint, user: MailUser, tmp_path: Path, mechanism: str
) -> None:
    signed_in()
    oauth_dovecot.deliver(user.name, make_message(1))
    config = AccountConfig(name="work", email=user.email, imap=server(oauth_dovecot, provider, user, "imap", mechanism))
    store = Store.open(tmp_path / "cache.sqlite3")
    try:
        account = ImapAccount(config, store, Recorder())
        await account.connect()
        await account.sync_folder("INBOX")
        await account.disconnect()
        assert store.counts("work", "INBOX")[0] == 1
    finally:
        store.close()
    assert f"user=<{user.name}>, method={mechanism}" in oauth_dovecot.log_text()


async def test_pop3_signs_in_to_dovecot_with_the_providers_token(
    oauth_dovecot: OAuthDovecot, provider: TokenEndpoint, user: MailUser, tmp_path: Path
) -> None:
    signed_in()
    oauth_dovecot.deliver(user.name, make_message(2))
    config = AccountConfig(name="work", email=user.email, maildir=tmp_path / "Mail",
                           pop3=server(oauth_dovecot, provider, user, "pop3"))
    store = Store.open(tmp_path / "cache.sqlite3")
    try:
        await Pop3Account(config, tmp_path / "Mail", store, Recorder()).sync_once()
        assert store.counts("work", "INBOX")[0] == 1
    finally:
        store.close()
    assert f"user=<{user.name}>, method=OAUTHBEARER" in oauth_dovecot.log_text()


@pytest.mark.parametrize("mechanism", ["OAUTHBEARER", "XOAUTH2"])
async def test_dovecot_refusing_a_token_is_a_refused_login_at_once(
    oauth_dovecot: OAuthDovecot, user: MailUser, mechanism: str
) -> None:
    client = ImapClient(ImapSettings(
        host="localhost", port=oauth_dovecot.imaps_port, security="tls", username=user.name,
        password="not-a-token", ca_file=str(oauth_dovecot.ca_file), timeout=10.0, oauth2=True,
        auth_mechanism=mechanism,
    ), "work")

    with pytest.raises(ImapAuthError, match=r"^login failed: wrong user name or password .*Authentication failed"):
        await client.connect()


async def test_an_account_not_signed_in_is_offered_the_sign_in_and_connects_once_approved(
    oauth_dovecot: OAuthDovecot, provider: TokenEndpoint, user: MailUser, tmp_path: Path
) -> None:
    provider.provider.device_states = ["authorization_pending", "success"]
    imap = server(oauth_dovecot, provider, user, "imap")
    account = AccountConfig(name="work", email=user.email, default=True, imap=imap, oauth2=imap.oauth2)
    async with sending(Config(path=None, accounts={"work": account}), tmp_path) as s:
        refused = await s.events.wait_for_one(ConnectionChanged, lambda e: e.waiting_for_user)
        assert refused.sign_in and "run `mailbag oauth2 work`" in refused.detail

        assert isinstance(await s.answer(SignIn(account="work")), RequestDone)
        assert [(c.account, c.user_code) for c in s.events.of(SignInCode)] == [("work", USER_CODE)]
        await s.events.wait_for_one(ConnectionChanged, lambda e: e.state == ConnectionState.ONLINE)
    assert f"user=<{user.name}>, method=OAUTHBEARER" in oauth_dovecot.log_text()


async def test_a_message_sent_before_the_sign_in_waits_and_goes_once_signed_in(
    dovecot: DovecotServer, provider: TokenEndpoint, tmp_path: Path
) -> None:
    provider.provider.device_states = ["success"]
    smtp = OAuthSmtp(dovecot, OAuthScript(user="me@example.org", tokens=tuple(f"access-{n}" for n in range(1, 50))),
                     tls=True).start()
    oauth2 = oauth2_config(provider)
    account = AccountConfig(
        name="work", email="me@example.org", default=True, maildir=tmp_path / "Mail", oauth2=oauth2,
        smtp=ServerConfig(host="localhost", port=smtp.port, security="tls", username="me@example.org",
                          ca_file=smtp.ca_file, oauth2=oauth2, save_sent=False),
    )
    try:
        async with sending(Config(path=None, accounts={"work": account}), tmp_path) as s:
            await s.send(new_message("me@example.org", ["you@example.test"]), ["you@example.test"])
            waiting = await s.events.wait_for_one(
                OutboxChanged, lambda e: any("not signed in" in m.reason for m in e.messages))
            assert [m.state for m in waiting.messages] == [OutgoingState.QUEUED]  # waiting, not held

            assert isinstance(await s.answer(SignIn(account="work")), RequestDone)
            assert await s.outbox_settles() == []
    finally:
        smtp.stop()
    assert smtp.seen.messages == 1 and [x.token for x in smtp.seen.logins] == [f"access-{provider.provider.issued}"]
