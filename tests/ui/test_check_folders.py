"""The UI asks the accounts to look at their folders when the user turns to them: on focusing the
folder tree, and when the terminal gets the focus back."""

from __future__ import annotations

from textual import events

from mailbag.domain.requests import CheckFolders
from mailbag.ui.widgets.folder_tree import FolderTree
from tests.ui.conftest import settle


def checks(app) -> list[str]:
    return sorted(r.account for r in app.facade.submitted if isinstance(r, CheckFolders))


async def test_focusing_the_folder_tree_checks_every_account(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        before = checks(app)
        await pilot.press("shift+tab")  # from the list to the tree
        await pilot.pause()
        assert isinstance(app.focused, FolderTree)
        assert checks(app) == sorted(before + list(app.facade.accounts))
        await pilot.press("tab", "shift+tab")  # away and back: once more
        await pilot.pause()
        assert len(checks(app)) == len(before) + 2 * len(app.facade.accounts)


async def test_the_terminal_getting_the_focus_back_checks_every_account(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        before = checks(app)
        app.post_message(events.AppFocus())
        await pilot.pause()
        assert checks(app) == sorted(before + list(app.facade.accounts))
