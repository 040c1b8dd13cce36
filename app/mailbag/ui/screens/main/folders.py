"""Folders themselves, from the folder tree's keys and the command palette: make one, rename
it, delete it (asked first, with the number of messages that go with it, and a warning for the
Inbox and the folders mailbag files mail into), subscribe or unsubscribe. The services answer:
done (the status bar says so and the tree follows), or refused with the reason."""

from __future__ import annotations

from mailbag.domain.events import RequestUnsupported
from mailbag.domain.folder_names import typed_name
from mailbag.domain.models import Folder, FolderRole, tells_subscriptions
from mailbag.domain.requests import CreateFolder, DeleteFolder, FolderRequest, RenameFolder, SubscribeFolder
from mailbag.domain.sanitize import clean_line
from mailbag.domain.wording import plural
from mailbag.ui.screens.dialogs import ChoiceDialog, ConfirmDialog
from mailbag.ui.screens.main.base import MainScreenBase
from mailbag.ui.screens.prompt import PromptScreen
from mailbag.ui.widgets.folder_tree import FolderTree

#: What mailbag does with a role folder, said before it is renamed or deleted.
ROLE_USES = {
    FolderRole.INBOX: "the Inbox",
    FolderRole.SENT: "the Sent folder (copies of the mail you send go there)",
    FolderRole.DRAFTS: "the Drafts folder (your drafts are kept there)",
    FolderRole.TRASH: "the Trash (d moves messages there)",
    FolderRole.ARCHIVE: "the Archive (a moves messages there)",
    FolderRole.JUNK: "the Junk folder (! moves messages there)",
}


def delete_question(folder: Folder, count: int, below: int = 0) -> str:
    """What is asked before ``folder`` is deleted: how many messages go with it, how many folders
    are below it, and what the folder is for when it has a role."""
    name = folder.display_name
    under = f" ({plural(below, 'folder')} below it)" if below else ""
    if count:
        question = f"Delete the folder {name} and the {plural(count)} in it{under}? This cannot be undone."
    elif below:
        question = f"Delete the folder {name} (no messages in it; {plural(below, 'folder')} below it)?"
    else:
        question = f"Delete the empty folder {name}?"
    use = ROLE_USES.get(folder.role)
    if use:
        question = f"Warning: {name} is {use}. " + question
    return question


class FolderControl(MainScreenBase):
    """Make, rename, delete and (un)subscribe folders."""

    def _track(self, request: FolderRequest) -> None:
        """Submit a folder request and remember it (a rename, to follow the folder it renames)."""
        self._folder_requests[request.request_id] = request
        self.facade.submit(request)

    def folder_request_answered(self, event: RequestUnsupported) -> bool:
        """Say why a folder request cannot be done; True when ``event`` answered one."""
        if event.request_id not in self._folder_requests:
            return False
        del self._folder_requests[event.request_id]
        self.status.set_error(event.reason)
        return True

    def on_folder_tree_folder_action(self, message: FolderTree.FolderAction) -> None:
        message.stop()
        if not message.account:
            self.status.set_error("Choose an account or one of its folders in the folder tree")
            return
        if message.action == "new_folder":
            self._new_folder(message.account, message.folder)
            return
        if message.folder is None:
            self.status.set_error("Choose a folder in the folder tree (this is the account)")
            return
        folder = self._fresh(message.folder)
        if message.action == "rename_folder":
            self._rename_folder(folder)
        elif message.action == "delete_folder":
            self._delete_folder(folder)
        elif message.action == "subscribe_folder":
            self._subscribe_folder(folder)

    def _fresh(self, folder: Folder) -> Folder:
        """The folder as the services have it now (its counts with the triage just done)."""
        return next((f for f in self.facade.folders(folder.account) if f.name == folder.name), folder)

    def _typed(self, folder: Folder) -> str:
        """``folder``'s name as the user types it: as the tree shows it, without the prefix the
        server keeps the folders under (``INBOX.``; the services put it back)."""
        return typed_name(folder.name, self.facade.folder_prefix(folder.account))

    def _new_folder(self, account: str, under: Folder | None) -> None:
        parent = ""
        if under is not None and under.role != FolderRole.INBOX and under.delimiter:
            typed = self._typed(under)
            if under.holds_folders:
                parent = typed + under.delimiter
            elif under.delimiter in typed:  # beside it, below its parent
                parent = typed.rsplit(under.delimiter, 1)[0] + under.delimiter

        def made(name: str | None) -> None:
            if name and name != parent:
                self._track(CreateFolder(account=account, name=name))
                self.status.set_notice(f"Making folder {name}…")

        self.app.push_screen(PromptScreen(f"New folder in {account}:", parent), made)

    def _rename_folder(self, folder: Folder) -> None:
        shown = self._typed(folder)

        def named(new_name: str | None) -> None:
            if not new_name or new_name in (shown, folder.name):
                return
            request = RenameFolder(account=folder.account, folder=folder.name, new_name=new_name)
            use = ROLE_USES.get(folder.role)
            if folder.role == FolderRole.INBOX:
                count = folder.total
                question = (
                    f"Renaming the Inbox moves its {plural(count)} into a new folder "
                    f"{new_name}; the Inbox stays, empty. Rename?"
                )
            elif use:
                question = f"Warning: {folder.display_name} is {use}. Rename it to {new_name}?"
            else:
                self._track(request)
                return
            self.app.push_screen(ConfirmDialog(question), lambda yes: self._track(request) if yes else None)

        self.app.push_screen(PromptScreen(f"Rename {clean_line(shown)} to:", shown), named)

    def _delete_folder(self, folder: Folder) -> None:
        if folder.role == FolderRole.INBOX:
            self.status.set_error("The Inbox cannot be deleted")
            return
        request = DeleteFolder(account=folder.account, folder=folder.name)

        def answered(yes: bool | None) -> None:
            if yes:
                self._track(request)
                self.status.set_notice(f"Deleting folder {folder.display_name}…")

        prefix = f"{folder.name}{folder.delimiter}" if folder.delimiter else None
        below = sum(1 for f in self.facade.folders(folder.account) if prefix and f.name.startswith(prefix))
        self.app.push_screen(ConfirmDialog(delete_question(folder, folder.total, below)), answered)

    def _subscribe_folder(self, folder: Folder) -> None:
        if self.facade.makes_folders(folder.account):  # local folders: nothing to subscribe to
            self.status.set_error(f"{folder.account}: local folders have no subscriptions")
            return
        if tells_subscriptions(self.facade.folders(folder.account)):
            on = not folder.subscribed
            self._track(SubscribeFolder(account=folder.account, folder=folder.name, subscribe=on))
            return

        def chosen(answer: str | None) -> None:
            if answer is not None:
                self._track(SubscribeFolder(account=folder.account, folder=folder.name, subscribe=answer == "s"))

        choices = (("s", "s", "subscribe"), ("u", "u", "unsubscribe"))
        self.app.push_screen(ChoiceDialog(f"{folder.display_name}:", choices), chosen)

    def folders_changed(self, account: str) -> None:
        """The account's folders changed: a list showing a folder that is gone shows the one it
        was renamed to, else the account's Inbox."""
        shown = self._open
        if shown is None or shown.virtual or shown.account != account:
            return
        names = {f.name for f in self.facade.folders(account)}
        if shown.folder in names:
            return
        for request in self._folder_requests.values():
            if isinstance(request, RenameFolder) and request.folder == shown.folder and request.new_name in names:
                self.open_folder(account, request.new_name)
                return
        self.open_folder(account, "INBOX")
