"""The folder tree: virtual folders on top, then one root per account with its folders nested
by their delimiter, and unread counts."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from mailbag.domain.models import Folder, tells_subscriptions
from mailbag.domain.sanitize import clean_line
from mailbag.services.api import VirtualFolder
from mailbag.ui.keymap import bindings


#: The Outbox's node (a FolderRef's ``virtual`` name no saved search can take: it has a control).
OUTBOX = "\x00outbox"
#: How many levels of folders the tree shows below an account. A folder nested deeper (a hostile
#: server's, thousands deep: the tree's drawing recursed past Python's limit and the screen hung)
#: hangs from its ancestor at that level, named by the rest of its path.
MAX_DEPTH = 32


@dataclass(frozen=True, slots=True)
class FolderRef:
    """What a tree node stands for: an account root (folder None), a folder, or a virtual folder
    (``virtual`` is its name; account empty)."""

    account: str
    folder: Folder | None = None
    virtual: str = ""


def folder_label(folder: Folder, *, unsubscribed: bool = False) -> Text:
    """``Inbox 12``: the leaf name (literal text; below :data:`MAX_DEPTH`, the rest of the path),
    the unread count, bold when unread > 0; a folder not subscribed to is dim."""
    parts = folder.name.split(folder.delimiter) if folder.delimiter else [folder.name]
    leaf = folder.leaf if len(parts) <= MAX_DEPTH + 1 else (folder.delimiter or "").join(parts[MAX_DEPTH:])
    name = clean_line(leaf) or folder.display_name
    style = "dim" if unsubscribed else ""
    if folder.unread > 0:
        return Text(f"{name} {folder.unread}", style=f"bold {style}".strip())
    return Text(name, style=style)


class FolderTree(Tree[FolderRef]):
    """Accounts and their folders, in the order the service gives (Inbox, special-use, names)."""

    BINDINGS = bindings("pane") + bindings("tree")

    DEFAULT_CSS = """
    FolderTree {
        background: $panel;
        scrollbar-size-vertical: 1;
    }
    """

    class FolderOpened(Message):
        """The user opened a folder."""

        def __init__(self, account: str, folder: Folder) -> None:
            super().__init__()
            self.account = account
            self.folder = folder

    class VirtualOpened(Message):
        """The user opened a virtual folder (the unified inbox or a saved search)."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    class OutboxOpened(Message):
        """The user opened the Outbox."""

    class FolderAction(Message):
        """A key asked to make, rename, delete or (un)subscribe a folder: ``action`` is the key
        table's action; ``folder`` the folder under the cursor (None on an account's root)."""

        def __init__(self, action: str, account: str, folder: Folder | None) -> None:
            super().__init__()
            self.action = action
            self.account = account
            self.folder = folder

    def __init__(self, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(Text("mailbag"), name=name, id=id)
        self.show_root = False
        self.guide_depth = 2
        self._accounts: dict[str, TreeNode[FolderRef]] = {}
        self._folders: dict[tuple[str, str], TreeNode[FolderRef]] = {}
        self._virtual: dict[str, TreeNode[FolderRef]] = {}
        self._outbox: TreeNode[FolderRef] | None = None
        self._subscriptions: set[str] = set()  # accounts whose server says what is subscribed
        # the folder the cursor goes to once it has a row: (account, folder), ("", virtual name)
        self._wanted: tuple[str, str] | None = None

    def set_virtual_folders(self, folders: list[VirtualFolder]) -> None:
        """Show the virtual folders at the top of the tree, in the given order."""
        for node in self._virtual.values():
            node.remove()
        self._virtual.clear()
        for position, folder in enumerate(folders):
            glyph = "◆ " if folder.kind == "inboxes" else "⌕ "
            node = self.root.add(
                Text(glyph + clean_line(folder.name)), FolderRef("", virtual=folder.name),
                before=position, allow_expand=False,
            )
            self._virtual[folder.name] = node
        self._place_cursor()

    def set_outbox(self, count: int) -> None:
        """Show the Outbox at the top while it holds messages (``count``), with their number."""
        if count == 0:
            if self._outbox is not None:
                self._outbox.remove()
                self._outbox = None
            return
        label = Text(f"✉ Outbox {count}", style="bold")
        if self._outbox is None:
            self._outbox = self.root.add(
                label, FolderRef("", virtual=OUTBOX), before=0, allow_expand=False
            )
        else:
            self._outbox.set_label(label)

    def select_virtual(self, name: str) -> None:
        """Move the cursor to a virtual folder, as select_folder does to a folder."""
        self._wanted = ("", name)
        self._place_cursor()

    def set_folders(self, account: str, folders: list[Folder]) -> None:
        """Replace one account's folders, keeping the cursor on the same folder when possible."""
        selected = self.selected_folder()
        account_node = self._accounts.get(account)
        if account_node is None:
            account_node = self.root.add(Text(clean_line(account), style="bold"), FolderRef(account), expand=True)
            self._accounts[account] = account_node
        else:
            for key in [k for k in self._folders if k[0] == account]:
                del self._folders[key]
            account_node.remove_children()
        if tells_subscriptions(folders):  # only then are unsubscribed folders shown dim
            self._subscriptions.add(account)
        else:
            self._subscriptions.discard(account)
        for folder in folders:
            parent = self._parent_node(account_node, folder)
            node = parent.add(self._label(folder), FolderRef(account, folder), expand=True, allow_expand=False)
            self._folders[(account, folder.name)] = node
        for node in self._folders.values():
            if node.children:
                node.allow_expand = True
        if selected is not None and self._wanted is None:
            self._wanted = selected
        self._place_cursor()

    def _parent_node(self, account_node: TreeNode[FolderRef], folder: Folder) -> TreeNode[FolderRef]:
        """The node ``folder`` hangs from: its parent's, or its ancestor's at :data:`MAX_DEPTH`;
        an ancestor the server did not list is shown too, not selectable."""
        if not folder.delimiter or folder.delimiter not in folder.name:
            return account_node
        parts = folder.name.split(folder.delimiter)
        node = account_node
        for depth in range(1, min(len(parts) - 1, MAX_DEPTH) + 1):
            name = folder.delimiter.join(parts[:depth])
            found = self._folders.get((folder.account, name))
            if found is None:
                ghost = Folder(folder.account, name, folder.delimiter, attributes=frozenset({"\\Noselect"}))
                found = node.add(folder_label(ghost), FolderRef(folder.account, ghost), expand=True)
                self._folders[(folder.account, name)] = found
            node = found
        return node

    def update_counts(self, account: str, folder: str, total: int, unread: int) -> None:
        """New counts for one folder, as the service has them."""
        node = self._folders.get((account, folder))
        if node is None or node.data is None or node.data.folder is None:
            return
        if (node.data.folder.total, node.data.folder.unread) == (total, unread):
            return
        updated = replace(node.data.folder, total=total, unread=unread)
        node.data = FolderRef(account, updated)
        node.set_label(self._label(updated))

    def _label(self, folder: Folder) -> Text:
        """The folder's label; dim when the server says which folders are subscribed and this one
        is not, except the Inbox, which always exists and some servers leave unsubscribed."""
        unsubscribed = (
            folder.account in self._subscriptions and folder.selectable and not folder.subscribed
            and not folder.is_inbox
        )
        return folder_label(folder, unsubscribed=unsubscribed)

    def counts(self, account: str, folder: str) -> tuple[int, int] | None:
        """(total, unread) as shown, or None for an unknown folder."""
        node = self._folders.get((account, folder))
        if node is None or node.data is None or node.data.folder is None:
            return None
        return node.data.folder.total, node.data.folder.unread

    def select_folder(self, account: str, folder: str) -> None:
        """Move the cursor to a folder: now if the tree shows it, else as soon as it does (the
        folders listed, the rows laid out: on the tree's mount, idle and resize)."""
        self._wanted = (account, folder)
        self._place_cursor()

    def _place_cursor(self) -> None:
        """Put the cursor on the folder asked for once its node has its row; until then keep it
        asked for, so that a tree filled or rebuilt later still gets its cursor there."""
        if self._wanted is None:
            return
        account, name = self._wanted
        node = self._folders.get(self._wanted) if account else self._virtual.get(name)
        # Tree lays its rows out lazily; reading last_line lays them out now, so that the
        # node's line is that of the tree as it is, not -1 nor that of the nodes replaced
        if node is None or self.last_line < 0 or node.line < 0:
            return
        self.move_cursor(node)
        if self.cursor_node is node:
            self._wanted = None

    def on_mount(self) -> None:
        self._place_cursor()

    def on_idle(self) -> None:
        self._place_cursor()

    def on_resize(self) -> None:
        self._place_cursor()

    def selected_folder(self) -> tuple[str, str] | None:
        node = self.cursor_node
        if node is None or node.data is None or node.data.folder is None:
            return None
        return node.data.account, node.data.folder.name

    # --- actions (from the key table) ---------------------------------------------------------

    def action_first(self) -> None:
        self.cursor_line = 0

    def action_last(self) -> None:
        self.cursor_line = self.last_line

    def _ask(self, action: str) -> None:
        """Post a FolderAction for the account or folder under the cursor."""
        node = self.cursor_node
        data = node.data if node is not None else None
        if data is None or not data.account:
            self.post_message(self.FolderAction(action, "", None))
            return
        self.post_message(self.FolderAction(action, data.account, data.folder))

    def action_new_folder(self) -> None:
        self._ask("new_folder")

    def action_rename_folder(self) -> None:
        self._ask("rename_folder")

    def action_delete_folder(self) -> None:
        self._ask("delete_folder")

    def action_subscribe_folder(self) -> None:
        self._ask("subscribe_folder")

    def action_open(self) -> None:
        node = self.cursor_node
        if node is None or node.data is None:
            return
        if node is self._outbox:
            self.post_message(self.OutboxOpened())
            return
        if node.data.virtual:
            self.post_message(self.VirtualOpened(node.data.virtual))
            return
        folder = node.data.folder
        if folder is None or not folder.selectable:
            node.toggle()
            return
        self.post_message(self.FolderOpened(node.data.account, folder))
