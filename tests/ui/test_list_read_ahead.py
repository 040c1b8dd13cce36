"""The message list reads the pages next to the visible rows in a thread, so moving the cursor
through a big folder does not wait for the cache between a key and its frame."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime

from textual.app import App, ComposeResult
from textual.pilot import Pilot

from mailbag.domain.models import MessageRow
from mailbag.ui.themes import variable_defaults
from mailbag.ui.widgets.message_list import PAGE_SIZE, FolderKey, MessageList

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)


def row(row_id: int) -> MessageRow:
    return MessageRow(row_id=row_id, account="a", folder="INBOX", uid=row_id, flags=frozenset(), date=NOW,
                      size=1000, subject=f"Message {row_id}", sender="Ann", sender_email="ann@example.org",
                      has_attachment=False)


class ListApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.reads: list[tuple[int, bool]] = []  # (first row id, read on the UI thread)

    def read_rows(self, ids: Sequence[int]) -> list[MessageRow]:
        self.reads.append((ids[0], threading.current_thread() is threading.main_thread()))
        return [row(i) for i in ids]

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return variable_defaults()

    def compose(self) -> ComposeResult:
        yield MessageList(self.read_rows, now=lambda: NOW)


async def show_thousand(app: ListApp, pilot: Pilot[None]) -> MessageList:
    """The list, focused, showing row ids 1 to 1000."""
    listing = app.query_one(MessageList)
    listing.show_folder(FolderKey("a", "INBOX"), list(range(1, 1001)))
    listing.focus()
    await pilot.pause()
    return listing


async def test_moving_down_a_big_folder_finds_each_page_already_read() -> None:
    app = ListApp()
    async with app.run_test(size=(80, 24)) as pilot:
        listing = await show_thousand(app, pilot)
        for _ in range(3 * PAGE_SIZE):
            await pilot.press("j")
            await app.workers.wait_for_complete()
        assert listing.cursor == 3 * PAGE_SIZE
        on_ui_thread = [first for first, on_ui in app.reads if on_ui]
        assert on_ui_thread == [1]  # only the first screen, before there was anything to read ahead
        read_ahead = {first for first, on_ui in app.reads if not on_ui}
        assert {PAGE_SIZE + 1, 2 * PAGE_SIZE + 1, 3 * PAGE_SIZE + 1} <= read_ahead
        assert listing.current_row is not None and listing.current_row.row_id == 3 * PAGE_SIZE + 1


async def test_a_page_read_for_an_earlier_list_is_not_shown() -> None:
    app = ListApp()
    async with app.run_test(size=(80, 24)) as pilot:
        listing = await show_thousand(app, pilot)
        for _ in range(PAGE_SIZE - 10):  # near the end of the first page: the next one is read ahead
            await pilot.press("j")
        listing.show_folder(FolderKey("a", "INBOX"), list(range(5001, 6001)), keep_index=PAGE_SIZE + 5)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert listing.current_row is not None and listing.current_row.row_id == 5001 + PAGE_SIZE + 5
