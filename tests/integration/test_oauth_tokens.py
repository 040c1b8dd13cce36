"""OAuth2 tokens against a local provider: the device-code flow (the code shown, the polling
states), the refresh token kept in the keyring, access tokens refreshed before they expire and
when a server refuses one."""

from __future__ import annotations

import keyring
import pytest

from mailbag.services import oauth2_http
from mailbag.services.oauth2_http import DeviceCode, OAuth2Error
from mailbag.services.keyring_entries import KEYRING_SERVICE
from mailbag.services.oauth2_tokens import KEEPER, TokenUnavailable, sign_in
from tests.memory_keyring import MemoryKeyring, keyring_backend
from tests.oauth_fixtures import CLIENT_ID, fake_keyring, oauth2_config, signed_in, token_endpoint  # noqa: F401
from tests.servers.token_endpoint import DEVICE_CODE, USER_CODE, TokenEndpoint

pytestmark = pytest.mark.usefixtures("fake_keyring")


class Waits:
    """Stands in for asyncio.sleep: keeps how long the flow would have waited."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def stored_refresh_token(account: str = "work") -> str | None:
    return keyring.get_password(KEYRING_SERVICE, f"oauth2:{account}")


async def test_the_device_flow_shows_the_code_polls_until_approved_and_keeps_the_token(
    token_endpoint: TokenEndpoint,
) -> None:
    token_endpoint.provider.device_states = ["authorization_pending", "slow_down", "authorization_pending", "success"]
    token_endpoint.provider.interval = 1
    shown: list[DeviceCode] = []
    waits = Waits()

    await sign_in(oauth2_config(token_endpoint), shown.append, sleep=waits)

    assert [(d.user_code, d.verification_uri) for d in shown] == [(USER_CODE, "https://login.example.test/device")]
    assert waits.seconds == [1, 1, 6, 6]  # slow_down: 5 s more from then on (RFC 8628 3.5)
    assert stored_refresh_token() == "refresh-device"
    polls = [form for path, form in token_endpoint.provider.requests if path == "/token"]
    assert len(polls) == 4
    assert all(f["device_code"] == DEVICE_CODE and f["client_id"] == CLIENT_ID for f in polls)
    assert dict(token_endpoint.provider.requests[0][1]) == {"client_id": CLIENT_ID, "scope": "mail offline_access"}
    # The access token of the sign-in is used at once, without a refresh.
    assert await KEEPER.access_token(oauth2_config(token_endpoint)) == "access-1"
    assert token_endpoint.provider.grants("refresh_token") == 0


@pytest.mark.parametrize(
    "state, message", [("expired_token", "the code expired"), ("access_denied", "the sign-in was declined")]
)
async def test_an_expired_or_declined_code_ends_the_flow_and_stores_nothing(
    token_endpoint: TokenEndpoint, state: str, message: str
) -> None:
    token_endpoint.provider.device_states = ["authorization_pending", state]

    with pytest.raises(OAuth2Error, match=message):
        await sign_in(oauth2_config(token_endpoint), lambda _code: None, sleep=Waits())

    assert stored_refresh_token() is None


async def test_an_access_token_is_kept_until_it_is_due_and_refreshed_on_demand(token_endpoint: TokenEndpoint) -> None:
    signed_in()
    config = oauth2_config(token_endpoint)

    assert await KEEPER.access_token(config) == "access-1"
    assert await KEEPER.access_token(config) == "access-1"
    assert await KEEPER.access_token(config, fresh=True) == "access-2"  # the server refused access-1
    refreshes = [f for p, f in token_endpoint.provider.requests if f.get("grant_type") == "refresh_token"]
    assert [f["refresh_token"] for f in refreshes] == ["refresh-0", "refresh-0"]


async def test_a_token_about_to_expire_is_refreshed_before_it_is_used(token_endpoint: TokenEndpoint) -> None:
    signed_in()
    token_endpoint.provider.expires_in = 60  # under the refresh margin
    config = oauth2_config(token_endpoint)

    assert await KEEPER.access_token(config) == "access-1"
    assert await KEEPER.access_token(config) == "access-2"


async def test_a_rotated_refresh_token_replaces_the_old_one_in_the_keyring(token_endpoint: TokenEndpoint) -> None:
    signed_in()
    token_endpoint.provider.rotate = True

    await KEEPER.access_token(oauth2_config(token_endpoint))

    assert stored_refresh_token() == "refresh-1"
    KEEPER.forget()
    assert await KEEPER.access_token(oauth2_config(token_endpoint)) == "access-2"


async def test_a_revoked_sign_in_says_how_to_sign_in_again(token_endpoint: TokenEndpoint) -> None:
    signed_in(refresh_token="revoked")

    with pytest.raises(TokenUnavailable, match=r"has expired or was revoked: run `mailbag oauth2 work`"):
        await KEEPER.access_token(oauth2_config(token_endpoint))


async def test_without_a_sign_in_it_says_how_to_sign_in(token_endpoint: TokenEndpoint) -> None:
    with pytest.raises(TokenUnavailable, match=r"not signed in to OAuth2: run `mailbag oauth2 work`"):
        await KEEPER.access_token(oauth2_config(token_endpoint))
    assert token_endpoint.provider.requests == []


async def test_an_answer_of_arrays_nested_thousands_deep_is_refused_by_name(token_endpoint: TokenEndpoint) -> None:
    # The JSON parser raised RecursionError, which nothing caught.
    signed_in()
    token_endpoint.provider.raw_answer = b"[" * 100_000
    with pytest.raises(TokenUnavailable, match="the token endpoint answered without an access token"):
        await KEEPER.access_token(oauth2_config(token_endpoint))


def test_an_endpoint_that_is_not_https_is_never_asked() -> None:
    with pytest.raises(OAuth2Error, match="must be an https:// URL"):
        oauth2_http.post_form("http://login.example.org/token", {"grant_type": "refresh_token"})


def test_the_providers_error_text_is_cleaned() -> None:
    error = oauth2_http._refusal({"error": "bad\x1b[31m", "error_description": "evil\x07\nline"}, "x")
    assert "\x1b" not in str(error) and "\x07" not in str(error) and "\n" not in str(error)


class LockedKeyring(MemoryKeyring):
    """A keyring whose backend fails with an error of its own (as a locked D-Bus collection)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("the login collection is locked")


async def test_a_keyring_that_cannot_keep_the_token_ends_the_sign_in_with_its_reason(
    token_endpoint: TokenEndpoint,
) -> None:
    token_endpoint.provider.device_states = ["success"]
    with keyring_backend(LockedKeyring()):
        with pytest.raises(TokenUnavailable, match="cannot store the refresh token: RuntimeError: the login collection"):
            await sign_in(oauth2_config(token_endpoint), lambda device: None, sleep=Waits())
