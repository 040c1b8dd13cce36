"""A sync's progress in the status bar: a stream of it shows its latest figure, and once the
sync has ended no figure held back comes out after the end."""

from __future__ import annotations

from mailbag.domain.events import ConnectionChanged, SyncProgress
from mailbag.domain.models import ConnectionState
from mailbag.ui.pacing import PACE_SECONDS
from tests.ui.conftest import settle
from tests.ui.helpers import status_text


async def test_a_stream_of_progress_shows_its_latest_figure(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.facade.emit(ConnectionChanged(account="work", state=ConnectionState.SYNCING))
        for done in (256, 512, 768):
            app.facade.emit(SyncProgress(account="work", folder="INBOX", done=done, total=10_000))
            await pilot.pause()
        assert "work syncing INBOX" in status_text(app)
        await pilot.pause(PACE_SECONDS * 2)
        assert "work syncing INBOX 768/10000" in status_text(app)


async def test_progress_held_back_is_not_shown_once_the_sync_has_ended(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.facade.emit(ConnectionChanged(account="work", state=ConnectionState.SYNCING))
        app.facade.emit(SyncProgress(account="work", folder="INBOX", done=256, total=10_000))
        await pilot.pause()
        app.facade.emit(SyncProgress(account="work", folder="INBOX", done=512, total=10_000))
        await pilot.pause()  # shown within the pace of the one before: held back
        app.facade.emit(SyncProgress(account="work", folder="INBOX", done=10_000, total=10_000))
        app.facade.emit(ConnectionChanged(account="work", state=ConnectionState.ONLINE))
        await pilot.pause(PACE_SECONDS * 2)
        assert "work online" in status_text(app)
        assert "512" not in status_text(app) and "syncing" not in status_text(app)
