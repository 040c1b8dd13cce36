"""A cursor move repaints the two rows it changes, not the whole list: less work between a key and
its frame, and fewer bytes over a slow link."""

from __future__ import annotations

from textual.strip import Strip

from tests.ui.test_list_read_ahead import ListApp, show_thousand


async def test_moving_the_cursor_repaints_only_the_rows_it_leaves_and_enters() -> None:
    app = ListApp()
    async with app.run_test(size=(80, 24)) as pilot:
        listing = await show_thousand(app, pilot)
        painted: list[int] = []
        render_line = listing.render_line

        def counting(y: int) -> Strip:
            painted.append(y)
            return render_line(y)

        listing.render_line = counting  # type: ignore[method-assign]
        await pilot.press("j")
        await pilot.pause()
        assert sorted(painted) == [0, 1]

        painted.clear()
        await pilot.press("k")
        await pilot.pause()
        assert sorted(painted) == [0, 1]
        assert listing.cursor == 0
