"""Quitting while the services still talk: Textual closes the app's screens before its message
queue, so an event the services sent just before (a connection closing, a draft stored) can
reach an app that has no screen any more. It is dropped, and the app ends without an error."""

from __future__ import annotations

from mailbag.domain.events import ConnectionChanged, ErrorReported
from mailbag.domain.models import ConnectionState
from tests.ui.conftest import settle


async def test_an_event_that_comes_once_the_screens_are_closed_is_dropped(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app._close_all()  # Textual's first step of shutting down: every screen closed
        assert app.screen_stack == []
        app.facade.emit(ConnectionChanged(account="work", state=ConnectionState.OFFLINE))
        app.facade.emit(ErrorReported(account="work", message="link closed"))
    # leaving the block handles what is queued, then ends the app: an error there is raised here
    assert app._exception is None
