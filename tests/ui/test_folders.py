"""Pilot tests of the folder keys in the folder tree: what is asked, what cancelling leaves, the
requests sent, and what the tree and the status bar show after."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from mailbag.domain.events import RequestFailed
from mailbag.domain.models import Folder
from mailbag.domain.requests import CreateFolder, DeleteFolder, FolderRequest, RenameFolder, SubscribeFolder
from mailbag.ui.screens.dialogs import ChoiceDialog, ConfirmDialog
from mailbag.ui.screens.prompt import PromptScreen
from mailbag.ui.widgets.folder_tree import MAX_DEPTH
from tests.ui.conftest import settle
from tests.ui.fake_facade import FakeFacade
from tests.ui.helpers import cursor_on_folder, screen_text, status_text
from tests.ui.sample import sample_facade


def folder_requests(app) -> list[FolderRequest]:
    return [r for r in app.facade.submitted if isinstance(r, FolderRequest)]


def tree_names(app) -> set[str]:
    return {name for (_account, name) in app.main_screen.folder_tree._folders}


async def on_folder(pilot, folder: str) -> None:
    """Give the tree the focus with its cursor on ``folder`` of the work account."""
    await cursor_on_folder(pilot, "work", folder)


async def press_on(pilot, folder: str, *keys: str) -> None:
    """Press ``keys`` in the tree with its cursor on ``folder``."""
    await on_folder(pilot, folder)
    await pilot.press(*keys)
    await pilot.pause()


@asynccontextmanager
async def main_screen(make_app) -> AsyncIterator[tuple[Any, Pilot[None]]]:
    """The app (over the fake facade) at 80x24 with its first view painted, and its pilot."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        yield app, pilot


@pytest.mark.parametrize(
    ("folder", "keys", "question", "count"),
    [
        ("Archive/2025", ["X"], "Delete the folder Archive/2025", "and the 30 messages in it?"),
        ("Sent", ["X"], "Warning: Sent is the Sent folder", "the 12 messages in it"),
        ("Archive", ["X"], "Warning: Archive is the Archive", "the 40 messages in it (1 folder below it)?"),
        ("Drafts", ["E", "2", "enter"], "Warning: Drafts is the Drafts folder", ""),
    ],
    ids=["delete", "delete-a-role-folder", "delete-a-folder-with-one-below", "rename-a-role-folder"],
)
async def test_a_question_comes_first_and_no_leaves_the_folder(make_app, folder, keys, question, count):
    async with main_screen(make_app) as (app, pilot):
        await press_on(pilot, folder, *keys)
        assert isinstance(app.screen, ConfirmDialog)
        assert app.screen.question.startswith(question) and count in app.screen.question
        await pilot.press("n")
        await pilot.pause()
        assert folder_requests(app) == []
        assert folder in tree_names(app)


async def test_delete_shows_its_question_escape_cancels_and_yes_deletes(make_app):
    async with main_screen(make_app) as (app, pilot):
        await press_on(pilot, "Archive/2025", "X")
        assert "Delete the folder Archive/2025 and the 30 messages in it?" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert folder_requests(app) == []
        await pilot.press("X", "y")
        await pilot.pause()
        assert folder_requests(app)[-1] == DeleteFolder(
            account="work", folder="Archive/2025", request_id=folder_requests(app)[-1].request_id
        )
        assert "Archive/2025" not in tree_names(app)
        assert "Folder Archive/2025 deleted" in status_text(app)


def with_mbox_folders(sink: Any) -> FakeFacade:
    """The sample mailbox where Archive/2025 and Trash are mbox files (``\\Noinferiors``: no
    folder can be made below them, as on GNU Mailutils)."""
    facade = sample_facade(sink)
    folders = facade._folders["work"]
    for i, folder in enumerate(folders):
        if folder.name in ("Archive/2025", "Trash"):
            folders[i] = dataclasses.replace(folder, attributes=frozenset({"\\NoInferiors"}))
    return facade


@pytest.mark.parametrize("folder, offered", [("Archive/2025", "Archive/"), ("Trash", "")])
async def test_a_new_folder_goes_beside_a_folder_that_holds_none(make_app, folder: str, offered: str):
    async with main_screen(lambda: make_app(with_mbox_folders)) as (app, pilot):
        await press_on(pilot, folder, "M")
        assert isinstance(app.screen, PromptScreen)
        assert app.screen.query_one("#prompt-field", Input).value == offered


async def test_the_inbox_is_never_deleted(make_app):
    async with main_screen(make_app) as (app, pilot):
        await press_on(pilot, "INBOX", "X")
        assert not isinstance(app.screen, ConfirmDialog)
        assert "The Inbox cannot be deleted" in status_text(app)
        assert folder_requests(app) == []


async def test_a_new_folder_goes_below_the_one_under_the_cursor(make_app):
    async with main_screen(make_app) as (app, pilot):
        await press_on(pilot, "Archive", "M")
        assert isinstance(app.screen, PromptScreen) and "New folder in work:" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert folder_requests(app) == []
        await pilot.press("M", *"2026", "enter")
        await pilot.pause()
        (made,) = folder_requests(app)
        assert isinstance(made, CreateFolder) and made.name == "Archive/2026"
        assert "Archive/2026" in tree_names(app)
        assert "Folder Archive/2026 created" in status_text(app)


async def test_rename_follows_the_open_folder(make_app):
    async with main_screen(make_app) as (app, pilot):
        await press_on(pilot, "lists", "enter")  # open it
        await settle(pilot)
        await press_on(pilot, "lists", "E", *["backspace"] * 5, *"news", "enter")
        (renamed,) = folder_requests(app)
        assert isinstance(renamed, RenameFolder) and (renamed.folder, renamed.new_name) == ("lists", "news")
        assert "news" in tree_names(app) and "lists" not in tree_names(app)
        assert app.main_screen._open is not None and app.main_screen._open.folder == "news"


async def test_a_refusal_is_shown_with_the_servers_reason(make_app):
    async with main_screen(make_app) as (app, pilot):
        app.facade.answer_folders = False
        await press_on(pilot, "Archive", "X", "y")
        (request,) = folder_requests(app)
        app.facade.emit(RequestFailed(request.request_id, "DELETE failed: Mailbox has children, delete them first"))
        await pilot.pause()
        assert "Mailbox has children" in status_text(app)
        assert "Archive" in tree_names(app)


async def test_subscribing_asks_which_when_the_server_does_not_say(make_app):
    async with main_screen(make_app) as (app, pilot):
        await press_on(pilot, "lists", "t")
        assert isinstance(app.screen, ChoiceDialog)
        await pilot.press("u")
        await pilot.pause()
        (request,) = folder_requests(app)
        assert isinstance(request, SubscribeFolder) and (request.folder, request.subscribe) == ("lists", False)
        assert "Unsubscribed from lists" in status_text(app)
        app.facade.local_accounts.add("work")  # a Maildir account
        await pilot.press("t")
        await pilot.pause()
        assert not isinstance(app.screen, ChoiceDialog) and len(folder_requests(app)) == 1
        assert "local folders have no subscriptions" in status_text(app)


async def test_the_folder_keys_belong_to_the_tree(make_app):
    async with main_screen(make_app) as (app, pilot):
        assert app.focused is app.main_screen.message_list
        await pilot.press("X", "M", "E", "t")
        await pilot.pause()
        assert folder_requests(app) == [] and not isinstance(app.screen, (ConfirmDialog, PromptScreen))


def test_deleting_an_empty_folder_asks_without_counting_messages() -> None:
    from mailbag.domain.models import Folder
    from mailbag.ui.screens.main.folders import delete_question

    assert delete_question(Folder("a", "Later"), 0) == "Delete the empty folder Later?"
    assert delete_question(Folder("a", "Lists"), 0, 1) == (
        "Delete the folder Lists (no messages in it; 1 folder below it)?")
    assert delete_question(Folder("a", "Lists"), 2, 3) == (
        "Delete the folder Lists and the 2 messages in it (3 folders below it)? This cannot be undone.")
    assert delete_question(Folder("a", "Later"), 1) == (
        "Delete the folder Later and the 1 message in it? This cannot be undone.")


def with_a_folder_nested_thousands_deep(sink: Any) -> FakeFacade:
    """The sample mailbox, and a folder 2,000 levels down (a hostile server's)."""
    facade = sample_facade(sink)
    facade.add_folder(Folder("work", "/".join(["deep"] * 2000), "/", total=1, unread=1))
    return facade


async def test_a_folder_nested_thousands_deep_hangs_below_the_last_level_the_tree_shows(make_app):
    # The tree drew itself recursively, past Python's limit: the screen hung for good.
    deep = "/".join(["deep"] * 2000)
    async with main_screen(lambda **kw: make_app(with_a_folder_nested_thousands_deep, **kw)) as (app, pilot):
        await on_folder(pilot, deep)
        node = app.main_screen.folder_tree._folders[("work", deep)]
        ancestors = 0
        while node.parent is not None and ancestors < 3000:
            node, ancestors = node.parent, ancestors + 1
        assert ancestors == MAX_DEPTH + 2  # below the root, the account and 32 levels of folders
        node = app.main_screen.folder_tree._folders[("work", deep)]
        assert str(node.label) == "/".join(["deep"] * (2000 - MAX_DEPTH)) + " 1"
        await pilot.press("enter")
        await pilot.pause()
        assert app.main_screen.folder_tree.selected_folder() == ("work", deep)
