"""The OAuth2 sign-in offered in the app: a refused login that wants it says which key signs in;
the key shows the provider's address and code as they come and closes once signed in."""

from __future__ import annotations

import pytest

from mailbag.domain.events import ConnectionChanged, RequestDone, RequestFailed, SignInCode
from mailbag.domain.models import ConnectionState
from mailbag.domain.requests import SignIn
from mailbag.ui.screens.sign_in import SignInScreen
from tests.ui.conftest import settle
from tests.ui.helpers import screen_text, status_text

REFUSED = "login refused: OAuth2 token for work: not signed in to OAuth2: run `mailbag oauth2 work`"


def refused(app, *, sign_in: bool = True) -> None:
    app.facade.emit(ConnectionChanged(account="work", state=ConnectionState.ERROR, detail=REFUSED,
                                      waiting_for_user=True, sign_in=sign_in))


async def press_sign_in(app, pilot) -> SignIn:
    """A refused login that wants the sign-in, then A: the SignIn request sent."""
    await settle(pilot)
    refused(app)
    await pilot.press("I")
    await pilot.pause()
    (request,) = [r for r in app.facade.submitted if isinstance(r, SignIn)]
    return request


async def test_a_refused_sign_in_offers_the_key_and_shows_the_code_until_signed_in(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        refused(app)
        await pilot.pause()
        assert "work login refused (I to sign in)" in status_text(app)

        await pilot.press("I")
        await pilot.pause()
        (request,) = [r for r in app.facade.submitted if isinstance(r, SignIn)]
        assert request.account == "work" and isinstance(app.screen, SignInScreen)
        assert "asking the provider for a code" in screen_text(app)

        app.facade.emit(SignInCode(request.request_id, "work", "WDJB-MJHT", "https://login.example.test/device",
                                   expires_in=900))
        await pilot.pause()
        text = screen_text(app)
        assert "https://login.example.test/device" in text and "WDJB-MJHT" in text and "15 minutes" in text

        app.facade.emit(RequestDone(request.request_id))
        await pilot.pause()
        assert not isinstance(app.screen, SignInScreen)
        assert "Signed in work; connecting" in status_text(app)


async def test_a_sign_in_that_fails_says_why(make_app):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        request = await press_sign_in(app, pilot)
        app.facade.emit(RequestFailed(request.request_id, "sign-in of work: the sign-in was declined"))
        await pilot.pause()
        assert not isinstance(app.screen, SignInScreen)
        assert "the sign-in was declined" in status_text(app)


async def test_a_password_login_refused_is_not_offered_a_sign_in(make_app):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        refused(app, sign_in=False)
        await pilot.pause()
        assert "work login refused ($ to retry)" in status_text(app)
        await pilot.press("I")
        await pilot.pause()
        assert not any(isinstance(r, SignIn) for r in app.facade.submitted)
        assert "No account waits for an OAuth2 sign-in" in status_text(app)


@pytest.mark.parametrize("approved", [False, True], ids=["expired", "approved"])
async def test_escape_closes_the_code_and_leaves_the_sign_in_going_to_its_end(make_app, approved):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        request = await press_sign_in(app, pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SignInScreen)
        expired = RequestFailed(request.request_id, "sign-in of work: the code expired before it was entered")
        app.facade.emit(RequestDone(request.request_id) if approved else expired)
        await pilot.pause()
        assert ("Signed in work; connecting" if approved else "the code expired") in status_text(app)


async def test_the_key_again_while_a_sign_in_runs_says_so_and_starts_no_second_one(make_app):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        first = await press_sign_in(app, pilot)
        await pilot.press("I")  # on the code's screen
        await pilot.pause()
        await pilot.press("escape", "I")  # the screen closed, the sign-in still waits for the provider
        await pilot.pause()
        assert [r for r in app.facade.submitted if isinstance(r, SignIn)] == [first]
        assert not isinstance(app.screen, SignInScreen)
        assert "Sign-in for work already in progress" in status_text(app)

        app.facade.emit(RequestFailed(first.request_id, "sign-in of work: the code expired before it was entered"))
        await pilot.pause()
        assert "the code expired" in status_text(app)
        await pilot.press("I")  # that one is over: the key starts another
        await pilot.pause()
        second = [r for r in app.facade.submitted if isinstance(r, SignIn)]
        assert len(second) == 2 and isinstance(app.screen, SignInScreen)

