"""A folder that a first sync fills chunk by chunk: the list shows the newest rows at once and
reads the growing folder again only now and then, never once per chunk, and has every row once
the sync is over."""

from __future__ import annotations

from array import array
from collections.abc import Sequence

import pytest

from mailbag.domain.events import ConnectionChanged, MessagesChanged, SyncProgress
from mailbag.domain.models import ConnectionState
from mailbag.services.api import ListOrder
from mailbag.ui.screens.main import views
from tests.ui.conftest import settle
from tests.ui.fake_facade import FakeFacade
from tests.ui.helpers import status_text

TOTAL = 2000
CHUNK = 300


class FillingFacade(FakeFacade):
    """A folder of TOTAL messages of which the cache holds the newest ``cached``; counts reads
    of the folder's index."""

    def __init__(self, sink) -> None:
        super().__init__(sink)
        self.add_big_folder("work", "Huge", TOTAL)
        self.everything = self._index[("work", "Huge")]
        self.cached = 0  # never opened: the sync has not written a row yet
        self.index_reads = 0

    def message_index(self, account: str, folder: str, order: ListOrder = ListOrder()) -> Sequence[int]:
        self.index_reads += 1
        self._index[("work", "Huge")] = array("q", self.everything[: self.cached])
        return super().message_index(account, folder, order)

    def chunk_written(self, done: int) -> None:
        """What a sync reports once the cache holds ``done`` messages."""
        added, self.cached = done - self.cached, done
        self.emit(SyncProgress("work", "Huge", done, TOTAL))
        self.emit(MessagesChanged("work", "Huge", added=added))


async def test_a_filling_folder_is_read_again_once_the_sync_is_over_not_per_chunk(
    make_app, monkeypatch
):
    monkeypatch.setattr(views, "FILL_RELOAD_SECONDS", 600.0)  # not within this test
    app = make_app(FillingFacade)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        facade: FillingFacade = app.facade
        listing = app.main_screen.message_list
        assert listing.row_count == 0
        facade.emit(ConnectionChanged("work", ConnectionState.SYNCING))
        facade.chunk_written(CHUNK)
        await settle(pilot)
        assert listing.row_count == CHUNK  # the newest rows, at once
        reads = facade.index_reads

        for done in range(2 * CHUNK, TOTAL, CHUNK):
            facade.chunk_written(done)
            await pilot.pause()
        await settle(pilot)
        assert facade.index_reads == reads  # no read per chunk
        assert listing.row_count == CHUNK and listing.current_row.subject == f"Message {TOTAL}"
        assert f"syncing Huge {TOTAL - TOTAL % CHUNK}/{TOTAL}" in status_text(app)

        facade.chunk_written(TOTAL)
        await settle(pilot)
        assert listing.row_count == TOTAL
        assert facade.index_reads == reads + 1


async def test_a_folder_whose_sync_stops_part_way_still_shows_what_came(make_app, monkeypatch):
    monkeypatch.setattr(views, "FILL_RELOAD_SECONDS", 0.2)
    app = make_app(FillingFacade)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        facade: FillingFacade = app.facade
        listing = app.main_screen.message_list
        facade.chunk_written(CHUNK)
        await settle(pilot)
        assert listing.row_count == CHUNK
        facade.chunk_written(2 * CHUNK)  # the sync's last word: the link drops after it
        for _ in range(50):
            await pilot.pause(0.1)
            await app.workers.wait_for_complete()
            if listing.row_count == 2 * CHUNK:
                break
        assert listing.row_count == 2 * CHUNK


@pytest.mark.parametrize("change", [{"removed": 1}, {"changed": 1}])
async def test_a_change_other_than_new_rows_shows_at_once_while_the_folder_fills(
    make_app, monkeypatch, change
):
    monkeypatch.setattr(views, "FILL_RELOAD_SECONDS", 600.0)
    app = make_app(FillingFacade)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        facade: FillingFacade = app.facade
        facade.chunk_written(CHUNK)
        facade.chunk_written(2 * CHUNK)
        await settle(pilot)
        reads = facade.index_reads
        facade.emit(MessagesChanged("work", "Huge", **change))
        await settle(pilot)
        assert facade.index_reads == reads + 1


async def test_new_rows_show_at_once_once_the_sync_was_cut_short(make_app, monkeypatch):
    monkeypatch.setattr(views, "FILL_RELOAD_SECONDS", 600.0)
    app = make_app(FillingFacade)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        facade: FillingFacade = app.facade
        listing = app.main_screen.message_list
        facade.emit(ConnectionChanged("work", ConnectionState.SYNCING))
        facade.chunk_written(CHUNK)
        await settle(pilot)
        facade.chunk_written(2 * CHUNK)  # then the link drops: the sync never ends
        facade.emit(ConnectionChanged("work", ConnectionState.ERROR, "connection lost"))
        await settle(pilot)
        assert listing.row_count == CHUNK
        facade.cached = 2 * CHUNK + 1  # new mail, synced after the reconnect
        facade.emit(MessagesChanged("work", "Huge", added=1))
        await settle(pilot)
        assert listing.row_count == 2 * CHUNK + 1
