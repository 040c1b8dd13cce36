"""A cursor move repaints the two rows it changes, not the whole list: less work between a key and
its frame, and fewer bytes over a slow link."""

from __future__ import annotations

from typing import Any

import pytest
from textual.strip import Strip

from mailbag.ui.widgets.message_list import FolderKey, MessageList
from tests.ui.test_list_read_ahead import ListApp, show_thousand


def count_painted(listing: MessageList, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The screen rows of ``listing`` painted from now on, in order."""
    painted: list[int] = []
    render_line = listing.render_line

    def counting(y: int) -> Strip:
        painted.append(y)
        return render_line(y)

    monkeypatch.setattr(listing, "render_line", counting)
    return painted


async def test_moving_the_cursor_repaints_only_the_rows_it_leaves_and_enters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = ListApp()
    async with app.run_test(size=(80, 24)) as pilot:
        listing = await show_thousand(app, pilot)
        painted = count_painted(listing, monkeypatch)
        await pilot.press("j")
        await pilot.pause()
        assert sorted(painted) == [0, 1]

        painted.clear()
        await pilot.press("k")
        await pilot.pause()
        assert sorted(painted) == [0, 1]
        assert listing.cursor == 0


async def test_in_a_scrolled_list_a_cursor_move_repaints_the_rows_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Further down the list the two rows are still repainted by the move itself, not only when
    something else (the reader, a scroll) repaints the list later."""
    app = ListApp()
    async with app.run_test(size=(80, 24)) as pilot:
        listing = await show_thousand(app, pilot)
        await pilot.press("G")
        await pilot.pause()
        height = listing.scrollable_content_region.height
        assert listing.scroll_offset.y > 0 and listing.cursor == 999
        painted = count_painted(listing, monkeypatch)
        await pilot.press("k")
        await pilot.pause()
        assert listing.cursor == 998
        assert sorted(painted) == [height - 2, height - 1]


def bar_column(app: ListApp) -> list[tuple[str, bool]]:
    """The screen's last column, top to bottom: (character, drawn reversed) per row."""
    rows = []
    for strip in app.screen._compositor.render_strips():
        cell = strip.crop(strip.cell_length - 1, strip.cell_length)
        segment = next(iter(cell))
        rows.append((segment.text, bool(segment.style and segment.style.reverse)))
    return rows


async def test_the_scrollbar_follows_the_list_but_is_redrawn_only_when_it_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = ListApp()
    async with app.run_test(size=(80, 24)) as pilot:
        listing = app.query_one(MessageList)
        listing.show_folder(FolderKey("a", "INBOX"), list(range(1, 100_001)))
        listing.focus()
        await pilot.pause()
        bar = listing.vertical_scrollbar
        await pilot.press(*["j"] * 30)  # the list starts to scroll
        top = bar_column(app)
        assert top[0][1] and not top[-1][1]  # the thumb is at the top

        redraws: list[int] = []
        refresh = bar.refresh

        def counting_refresh(*args: Any, **kwargs: Any) -> Any:
            redraws.append(1)
            return refresh(*args, **kwargs)

        monkeypatch.setattr(bar, "refresh", counting_refresh)
        await pilot.press(*["j"] * 40)  # scrolls the list by 40 more rows of 100,000
        await pilot.pause()
        assert listing.scroll_y > 0 and bar.position == listing.scroll_y
        assert redraws == [] and bar_column(app) == top

        await pilot.press("G")
        await pilot.pause()
        assert bar.position == listing.scroll_y == listing.max_scroll_y
        bottom = bar_column(app)
        assert bottom[-1][1] and not bottom[0][1]  # the thumb went to the bottom
