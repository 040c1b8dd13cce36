"""Pilot tests of the folder keys in the folder tree: what is asked, what cancelling leaves, the
requests sent, and what the tree and the status bar show after."""

from __future__ import annotations

from mailbag.domain.events import RequestFailed
from mailbag.domain.requests import CreateFolder, DeleteFolder, FolderRequest, RenameFolder, SubscribeFolder
from mailbag.ui.screens.dialogs import ChoiceDialog, ConfirmDialog
from mailbag.ui.screens.prompt import PromptScreen
from tests.ui.conftest import settle
from tests.ui.helpers import screen_text, status_text


def folder_requests(app) -> list[FolderRequest]:
    return [r for r in app.facade.submitted if isinstance(r, FolderRequest)]


def tree_names(app) -> set[str]:
    return {name for (_account, name) in app.main_screen.folder_tree._folders}


async def on_folder(pilot, folder: str) -> None:
    """Give the tree the focus with its cursor on ``folder`` of the work account."""
    tree = pilot.app.main_screen.folder_tree
    tree.focus()
    tree.select_folder("work", folder)
    await pilot.pause()


async def test_delete_asks_with_the_message_count_and_no_does_nothing(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await on_folder(pilot, "Archive/2025")
        await pilot.press("X")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        assert "Delete the folder Archive/2025 and the 30 messages in it?" in screen_text(app)
        await pilot.press("n")
        await pilot.pause()
        assert folder_requests(app) == []
        assert "Archive/2025" in tree_names(app)
        await pilot.press("X")
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


async def test_a_role_folder_is_deleted_only_after_a_warning_and_the_inbox_never(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await on_folder(pilot, "Sent")
        await pilot.press("X")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        question = app.screen.question  # wrapped on screen at 80 columns
        assert question.startswith("Warning: Sent is the Sent folder") and "the 12 messages in it" in question
        await pilot.press("n")
        await on_folder(pilot, "INBOX")
        await pilot.press("X")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
        assert "The Inbox cannot be deleted" in status_text(app)
        assert folder_requests(app) == []


async def test_a_new_folder_goes_below_the_one_under_the_cursor(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await on_folder(pilot, "Archive")
        await pilot.press("M")
        await pilot.pause()
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


async def test_rename_follows_the_open_folder_and_warns_for_role_folders(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await on_folder(pilot, "lists")
        await pilot.press("enter")  # open it
        await settle(pilot)
        await on_folder(pilot, "lists")
        await pilot.press("E", *["backspace"] * 5, *"news", "enter")
        await pilot.pause()
        (renamed,) = folder_requests(app)
        assert isinstance(renamed, RenameFolder) and (renamed.folder, renamed.new_name) == ("lists", "news")
        assert "news" in tree_names(app) and "lists" not in tree_names(app)
        assert app.main_screen._open is not None and app.main_screen._open.folder == "news"
        await on_folder(pilot, "Drafts")
        await pilot.press("E", "2", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        assert app.screen.question.startswith("Warning: Drafts is the Drafts folder")
        await pilot.press("n")
        await pilot.pause()
        assert len(folder_requests(app)) == 1


async def test_a_refusal_is_shown_with_the_servers_reason(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.facade.answer_folders = False
        await on_folder(pilot, "Archive")
        await pilot.press("X", "y")
        await pilot.pause()
        (request,) = folder_requests(app)
        app.facade.emit(RequestFailed(request.request_id, "DELETE failed: Mailbox has children, delete them first"))
        await pilot.pause()
        assert "Mailbox has children" in status_text(app)
        assert "Archive" in tree_names(app)


async def test_subscribing_asks_which_when_the_server_does_not_say(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await on_folder(pilot, "lists")
        await pilot.press("t")
        await pilot.pause()
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
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.focused is app.main_screen.message_list
        await pilot.press("X", "M", "E", "t")
        await pilot.pause()
        assert folder_requests(app) == [] and not isinstance(app.screen, (ConfirmDialog, PromptScreen))
