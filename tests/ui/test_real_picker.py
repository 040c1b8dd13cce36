"""The move/copy picker over the real services: folder names are shown as they are."""

from __future__ import annotations

from textual.widgets import OptionList

from mailbag.domain.requests import MoveMessages
from mailbag.ui.app import MailbagApp
from tests.ui.real_services import maildir_config, running, service, simple_message, wait_until

HOSTILE = "[@click=quit]Quit"


def picker_text(app: MailbagApp) -> str:
    """The picker's choices as painted."""
    options = app.screen.query_one(OptionList)
    return "\n".join(options.render_line(y).text for y in range(options.size.height))


async def test_folder_names_in_the_picker_are_text_not_markup(tmp_path):
    config = maildir_config(tmp_path / "Mail", [simple_message(1), simple_message(2)],
                            more={HOSTILE: [], "[b]Bold": []})
    async with running(config, tmp_path / "cache.sqlite3", 2, size=(100, 30)) as (app, pilot, store):
        await pilot.press("m")
        await wait_until(pilot, lambda: app.screen is not app.main_screen, "the picker is open")
        await wait_until(pilot, lambda: "Archive" in picker_text(app), "the picker shows its folders")
        assert HOSTILE in picker_text(app)
        assert "[b]Bold" in picker_text(app)
        await pilot.press("c", "l", "i", "c", "k", "enter")
        await wait_until(pilot, lambda: app.main_screen.message_list.row_count == 1, "moved")
        (move,) = [r for r in service(app).requests if isinstance(r, MoveMessages)]
        assert move.target == HOSTILE
        await wait_until(pilot, lambda: len(store.uids("home", HOSTILE)) == 1, "in the folder")
        assert app.is_running
