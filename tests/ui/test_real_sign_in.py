"""The OAuth2 sign-in in the app over the real services: an IMAP account on a Dovecot that
takes only the provider's tokens, not signed in yet. The status bar offers the sign-in, its key
shows the provider's code, and once the provider says yes the account connects and its mail
shows."""

from __future__ import annotations

import pytest

from mailbag.domain.config import AccountConfig, Config
from mailbag.ui.screens.sign_in import SignInScreen
from tests.oauth_fixtures import (  # noqa: F401
    fake_keyring,
    oauth_dovecot,
    oauth_server,
    provider,
    provider_user,
)
from tests.servers.dovecot import MailUser
from tests.servers.messages import make_message
from tests.servers.oauth_dovecot import OAuthDovecot
from tests.servers.token_endpoint import USER_CODE, TokenEndpoint
from tests.ui.helpers import screen_text, status_text
from tests.ui.real_services import running, wait_until

pytestmark = [pytest.mark.dovecot, pytest.mark.usefixtures("fake_keyring")]


async def test_the_sign_in_key_shows_the_code_and_the_account_connects_once_approved(
    oauth_dovecot: OAuthDovecot, provider: TokenEndpoint, provider_user: MailUser, tmp_path
) -> None:
    provider.provider.interval = 1  # the code stays on screen for a poll or two
    provider.provider.device_states = ["authorization_pending", "success"]
    oauth_dovecot.deliver(provider_user.name, make_message(1))
    imap = oauth_server(oauth_dovecot, provider, provider_user, "imap")
    account = AccountConfig(name="work", email=provider_user.email, default=True, imap=imap, oauth2=imap.oauth2)
    config = Config(path=None, accounts={"work": account})
    async with running(config, tmp_path / "cache.sqlite3", 0) as (app, pilot, store):
        await wait_until(pilot, lambda: "work login refused (I to sign in)" in status_text(app), "the offer")

        await pilot.press("I")
        await wait_until(pilot, lambda: USER_CODE in screen_text(app), "the code on screen")
        assert "https://login.example.test/device" in screen_text(app)

        await wait_until(pilot, lambda: not isinstance(app.screen, SignInScreen), "the sign-in ended")
        await wait_until(pilot, lambda: app.main_screen.message_list.row_count == 1, "the Inbox's message")
        assert "refused" not in status_text(app)
    assert f"user=<{provider_user.name}>, method=OAUTHBEARER" in oauth_dovecot.log_text()
