"""The folder tree puts its cursor on the folder asked for, however late its rows are laid out:
the folder keys (M, E, X, t) act on the open folder and the open folder is highlighted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from textual.app import App, ComposeResult
from textual.pilot import Pilot

from mailbag.domain.models import Folder, FolderRole
from mailbag.services.api import VirtualFolder
from mailbag.ui.widgets.folder_tree import FolderTree

FOLDERS = [
    Folder("work", "INBOX", role=FolderRole.INBOX),
    Folder("work", "Archive"),
    Folder("work", "Archive/2025"),
    Folder("work", "Sent", role=FolderRole.SENT),
]


class TreeApp(App[None]):
    """The folder tree alone, as the main screen holds it."""

    def compose(self) -> ComposeResult:
        yield FolderTree()


@asynccontextmanager
async def shown_tree() -> AsyncIterator[tuple[FolderTree, Pilot[None]]]:
    """The folder tree running alone, with the pilot that drives it."""
    app = TreeApp()
    async with app.run_test(size=(40, 12)) as pilot:
        yield app.query_one(FolderTree), pilot


def cursor_row(tree: FolderTree) -> str:
    """The label of the row the cursor is on, as the tree shows it ('' when on no row)."""
    node = tree.get_node_at_line(tree.cursor_line) if tree.cursor_line >= 0 else None
    return str(node.label) if node is not None else ""


async def test_a_folder_chosen_before_the_tree_has_it_gets_the_cursor_once_it_comes():
    async with shown_tree() as (tree, pilot):
        tree.select_folder("work", "Archive/2025")  # the folder opened before the folders are listed
        await pilot.pause()
        tree.set_folders("work", FOLDERS)
        await pilot.pause()
        assert tree.selected_folder() == ("work", "Archive/2025")
        assert cursor_row(tree) == "2025"


async def test_a_folder_chosen_while_the_tree_is_rebuilt_gets_the_cursor_on_its_row():
    async with shown_tree() as (tree, pilot):
        tree.set_folders("work", FOLDERS)
        # the folders listed again (a sync) once the screen is refreshed, before the tree lays
        # out the new rows: the folder chosen meanwhile is on none of them yet
        tree.call_after_refresh(tree.set_folders, "work", FOLDERS)
        tree.select_folder("work", "Sent")
        await pilot.pause()
        await pilot.pause()
        assert tree.selected_folder() == ("work", "Sent")
        assert cursor_row(tree) == "Sent"


async def test_a_virtual_folder_chosen_before_the_tree_shows_it_gets_the_cursor():
    async with shown_tree() as (tree, pilot):
        tree.set_folders("work", FOLDERS)
        tree.select_virtual("All inboxes")  # opened before the virtual folders are listed
        await pilot.pause()
        tree.set_virtual_folders([VirtualFolder("All inboxes", "", kind="inboxes")])
        await pilot.pause()
        assert cursor_row(tree) == "◆ All inboxes"
