"""The list's views: which folder (or virtual folder) is open, read from the cache in a worker,
in which order, flat or in threads."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on, work
from textual.widgets import Tree

from mailbag.domain.models import FolderRole, default_folder
from mailbag.domain.requests import OpenFolder
from mailbag.domain.wording import plural
from mailbag.services.api import ListOrder, SortKey
from mailbag.ui.screens.main.base import MainScreenBase
from mailbag.ui.threads import ThreadLayout
from mailbag.ui.widgets.folder_tree import FolderRef, FolderTree
from mailbag.ui.widgets.message_list import FolderKey


#: While the open folder fills (its first sync), a chunk that only adds rows below a full screen
#: re-reads the list at most this often: each read of a 100,000-row index takes the UI's
#: interpreter for tens of ms, which a key pressed meanwhile would wait for.
FILL_RELOAD_SECONDS = 2.0
#: Folders of the user's own mail, whose rows show the recipients ("To: bob") instead of the sender.
RECIPIENTS_SHOWN = frozenset({FolderRole.SENT, FolderRole.DRAFTS})


class ListViews(MainScreenBase):
    """Opening folders and virtual folders; reading, sorting and threading the list."""

    def note_progress(self, key: FolderKey, done: int, total: int) -> None:
        """A sync's progress: ``key`` fills until ``done`` reaches ``total``."""
        if done < total:
            self._filling.add(key)
        else:
            self._filling.discard(key)

    def syncs_ended(self, account: str) -> None:
        """``account`` syncs no more (done, or cut short): none of its folders is filling."""
        self._filling = {key for key in self._filling if key.account != account}

    def reload_after_change(self, key: FolderKey, added_only: bool) -> None:
        """Messages of ``key`` changed: re-read the open view, at once unless the folder is
        filling, the change only adds rows, and the screen is full already (then in a while:
        the rows it adds are older than those shown)."""
        full = self.message_list.row_count >= self.message_list.size.height
        if added_only and full and key == self._open and key in self._filling:
            if self._fill_timer is None:
                self._fill_timer = self.set_timer(FILL_RELOAD_SECONDS, self.reload)
            return
        self.reload()

    def open_default_folder(self) -> None:
        """Open the default account's Inbox (or its first selectable folder)."""
        if not self.facade.accounts:
            self._post_first_view(False)
            return
        account = self.facade.accounts[0]
        chosen = default_folder(self.facade.folders(account))
        self.open_folder(account, chosen.name if chosen else "INBOX")

    def open_folder(self, account: str, folder: str) -> None:
        """Ask the service to sync the folder first, and show its cached rows at once."""
        key = FolderKey(account, folder)
        self.folder_tree.select_folder(account, folder)
        self.facade.submit(OpenFolder(account=account, folder=folder))
        self._enter_view(key)

    def open_virtual(self, name: str) -> None:
        """Show a virtual folder (the unified inbox, a saved search): rows of several accounts."""
        self.folder_tree.select_virtual(name)
        self._enter_view(FolderKey("", name, virtual=True))

    def _enter_view(self, key: FolderKey) -> None:
        self._leave_search(reload=False)
        if key != self._open:
            self._open = key
            self.message_list.index_pending = True
            self.message_list.show_account = key.virtual and len(self.facade.accounts) > 1
            self.message_list.to_shown = not key.virtual and self._role(key) in RECIPIENTS_SHOWN
            self.message_list.own_addresses = frozenset(
                self.facade.identity(account).email.lower() for account in self.facade.accounts
            )
            self.message_list.show_folder(key, ())
        self.reload()

    def _role(self, key: FolderKey) -> FolderRole:
        """The role of the folder ``key`` names (NONE when the tree does not know it)."""
        for folder in self.facade.folders(key.account):
            if folder.name == key.folder:
                return folder.role
        return FolderRole.NONE

    def reload(self, *, keep_cursor: bool = True) -> None:
        """Re-read the open view (folder, virtual folder or search) from the cache in a worker."""
        if self._fill_timer is not None:
            self._fill_timer.stop()
            self._fill_timer = None
        if self._open is None:
            return
        # Only the newest read may land: an older one still running must not bring back a
        # list from before (new mail would vanish from view).
        self._generation += 1
        if self._search is not None:
            self._search_again()
            return
        current = self.message_list.current_row if keep_cursor else None
        threaded = self._threaded and not self._open.virtual
        if not threaded and not self._open.virtual and current is None:
            ready = self.facade.ready_index(self._open.account, self._open.folder, self._order)
            if ready is not None:  # the first list, read while the UI started: paint it now
                self._index_ready(self._open, ready, None, None, self._generation)
                return
        self._list_read = self._generation
        self._load_index(self._open, current.row_id if current else None, threaded, self._order, self._generation)
        self._show_view()

    def _change_view(self) -> None:
        """Sorting or threading changed: reload (late results of the old view are dropped)."""
        self.reload()

    @work(thread=True, exclusive=True, group="message-index")
    def _load_index(
        self, key: FolderKey, keep_row_id: int | None, threaded: bool, order: ListOrder, generation: int
    ) -> None:
        layout: ThreadLayout | None = None
        ids: Sequence[int]
        if key.virtual:
            ids = self.facade.virtual_index(key.folder, order)
        elif threaded:
            index = self.facade.thread_index(key.account, key.folder, order)
            layout = ThreadLayout(index.row_ids, index.depths)
            ids = layout.all_ids
        else:
            ids = self.facade.message_index(key.account, key.folder, order)
        self.app.call_from_thread(self._index_ready, key, ids, layout, keep_row_id, generation)

    def _index_ready(
        self, key: FolderKey, ids: Sequence[int], layout: ThreadLayout | None, keep_row_id: int | None,
        generation: int,
    ) -> None:
        self._post_first_view(bool(ids))
        if generation == self._list_read:
            self._list_read = None
        if key != self._open or generation != self._generation or self._search is not None:
            return
        if keep_row_id is not None:
            # The cursor may have moved while the index was read: keep it where it is now.
            current = self.message_list.current_row
            if current is not None:
                keep_row_id = current.row_id
            if self._follows_newest(layout):
                keep_row_id = None  # new mail comes in on top, under the cursor
        previous = self.message_list.threads
        if layout is not None and previous is not None and self.message_list.folder == key:
            layout.keep_state_of(previous)
        self.message_list.index_pending = False
        self.message_list.show_folder(key, ids, keep_row_id, layout=layout)
        self._show_view()

    def _follows_newest(self, layout: ThreadLayout | None) -> bool:
        """Whether the cursor should stay on the top row as new mail arrives: it is there, the
        list is newest first, nothing is marked and the user is not reading in the reader
        (like ``tail -f``; anywhere else the cursor keeps its message)."""
        return (
            self.message_list.cursor == 0
            and layout is None
            and self._order == ListOrder()
            and not self.message_list.marked
            and self.focused is not self.reader.body
        )

    def _show_view(self) -> None:
        if self._open is None:
            return
        if self._search is not None:
            count = self.message_list.row_count
            self.status.set_view(f"Search: {self._search} — {plural(count, 'result')}")
            return
        order = f"by {self._order.key}" + (", reversed" if self._order.reverse else "")
        threads = " · threads" if self._threaded and not self._open.virtual else ""
        where = self._open.folder
        if len(self.facade.accounts) > 1 and not self._open.virtual:  # whose INBOX, of several
            where = f"{self._open.account}/{where}"
        self.status.set_view(f"{where} · {order}{threads}")

    @on(FolderTree.FolderOpened)
    def _folder_opened(self, message: FolderTree.FolderOpened) -> None:
        self.open_folder(message.account, message.folder.name)
        self.message_list.focus()

    @on(FolderTree.VirtualOpened)
    def _virtual_opened(self, message: FolderTree.VirtualOpened) -> None:
        self.open_virtual(message.name)
        self.message_list.focus()

    @on(Tree.NodeSelected)
    def _node_clicked(self, message: Tree.NodeSelected[FolderRef]) -> None:
        ref = message.node.data
        if ref is not None and ref.virtual:
            self.open_virtual(ref.virtual)
        elif ref is not None and ref.folder is not None and ref.folder.selectable:
            self.open_folder(ref.account, ref.folder.name)

    def action_threads(self) -> None:
        if self._open is not None and self._open.virtual:
            self.status.set_notice("Thread view works in a folder, not in a virtual folder")
            return
        self._threaded = not self._threaded
        self._leave_search(reload=False)
        self._change_view()

    def action_toggle_all_threads(self) -> None:
        if self.message_list.threads is None:
            self.status.set_notice("Press T for the thread view first")
            return
        self.message_list.toggle_all_threads()

    def action_sort(self) -> None:
        def chosen(key: SortKey | None) -> None:
            if key is not None and key != self._order.key:
                self._order = ListOrder(key, self._order.reverse)
                self._change_view()

        from mailbag.ui.screens.dialogs import SortMenu

        self.app.push_screen(SortMenu(self._order.key), chosen)

    def action_reverse_sort(self) -> None:
        self._order = ListOrder(self._order.key, not self._order.reverse)
        self._change_view()
