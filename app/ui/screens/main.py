"""MainScreen: FolderTree | MessageList over Reader, and the status bar.

It turns user actions into requests to the facade and service events into widget updates. Slow
reads (the folder's id vector, a rendered body) run in thread workers, never on the UI loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Tree

from app.domain.events import (
    BodyLoaded,
    ConnectionChanged,
    ErrorReported,
    Event,
    FolderCountsChanged,
    FoldersChanged,
    MessagesChanged,
    RequestDone,
    RequestFailed,
    SyncProgress,
)
from app.domain.models import SEEN, FolderRole, MessageRow, RenderedMessage
from app.domain.requests import LoadBody, OpenFolder, SetFlags
from app.services.api import MailFacade
from app.ui.keymap import bindings
from app.ui.widgets.folder_tree import FolderRef, FolderTree
from app.ui.widgets.message_list import FolderKey, MessageList
from app.ui.widgets.reader import Reader
from app.ui.widgets.status_bar import StatusBar

#: The reader follows the list cursor only once it has rested this long (seconds).
READER_DEBOUNCE = 0.15

MessageKey = tuple[str, str, int]


class MainScreen(Screen[None]):
    """The three panes and the status bar."""

    BINDINGS = bindings("screen")
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]

    def __init__(self, facade: MailFacade, *, now: Callable[[], datetime]) -> None:
        super().__init__()
        self.facade = facade
        self._now = now
        self._open: FolderKey | None = None
        self._wanted: MessageKey | None = None  # the message the reader should show
        self._reader_complete = False  # the reader shows the full body of ``_wanted``
        self._reader_timer: Timer | None = None
        self._body_requested: set[MessageKey] = set()
        self._pending_seen: dict[int, tuple[int, FolderKey]] = {}  # request id -> (row id, folder)
        self._last_pane: Widget | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            yield FolderTree(id="folders")
            with Vertical(id="right"):
                yield MessageList(self.facade.rows, now=self._now, id="messages")
                yield Reader(id="reader")
        yield StatusBar(id="status")

    # --- widgets -------------------------------------------------------------------------------

    @property
    def tree(self) -> FolderTree:
        return self.query_one(FolderTree)

    @property
    def message_list(self) -> MessageList:
        return self.query_one(MessageList)

    @property
    def reader(self) -> Reader:
        return self.query_one(Reader)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    def panes(self) -> list[Widget]:
        return [self.tree, self.message_list, self.reader.body]

    # --- start-up ------------------------------------------------------------------------------

    def on_mount(self) -> None:
        for account in self.facade.accounts:
            self.tree.set_folders(account, self.facade.folders(account))
        self.message_list.focus()
        self.open_default_folder()

    def open_default_folder(self) -> None:
        """Open the default account's Inbox (or its first selectable folder)."""
        if not self.facade.accounts:
            return
        account = self.facade.accounts[0]
        folders = [f for f in self.facade.folders(account) if f.selectable]
        inbox = next((f for f in folders if f.role == FolderRole.INBOX), None)
        inbox = inbox or next((f for f in folders if f.name.upper() == "INBOX"), None)
        chosen = inbox or (folders[0] if folders else None)
        self.open_folder(account, chosen.name if chosen else "INBOX")

    # --- folders -------------------------------------------------------------------------------

    def open_folder(self, account: str, folder: str) -> None:
        """Ask the service to sync the folder first, and show its cached rows at once."""
        key = FolderKey(account, folder)
        self.tree.select_folder(account, folder)
        self.facade.submit(OpenFolder(account=account, folder=folder))
        if key != self._open:
            self._open = key
            self.message_list.index_pending = True
            self.message_list.show_folder(key, ())
        self._load_index(key, None)

    @work(thread=True, exclusive=True, group="message-index")
    def _load_index(self, key: FolderKey, keep_row_id: int | None) -> None:
        ids = self.facade.message_index(key.account, key.folder)
        self.app.call_from_thread(self._index_ready, key, ids, keep_row_id)

    def _index_ready(self, key: FolderKey, ids: Sequence[int], keep_row_id: int | None) -> None:
        if key != self._open:
            return
        self.message_list.index_pending = False
        self.message_list.show_folder(key, ids, keep_row_id)

    @on(FolderTree.FolderOpened)
    def _folder_opened(self, message: FolderTree.FolderOpened) -> None:
        self.open_folder(message.account, message.folder.name)
        self.message_list.focus()

    @on(Tree.NodeSelected)
    def _node_clicked(self, message: Tree.NodeSelected[FolderRef]) -> None:
        ref = message.node.data
        if ref is not None and ref.folder is not None and ref.folder.selectable:
            self.open_folder(ref.account, ref.folder.name)

    # --- messages ------------------------------------------------------------------------------

    @on(MessageList.Highlighted)
    def _row_highlighted(self, message: MessageList.Highlighted) -> None:
        if self._reader_timer is not None:
            self._reader_timer.stop()
        row = message.row
        if row is None:
            self._wanted = None
            self.reader.clear()
            return
        self._reader_timer = self.set_timer(READER_DEBOUNCE, lambda: self.show_message(row, mark_read=False))

    @on(MessageList.Opened)
    def _row_opened(self, message: MessageList.Opened) -> None:
        if self._reader_timer is not None:
            self._reader_timer.stop()
        self.show_message(message.row, mark_read=True)
        self.reader.body.focus()

    def show_message(self, row: MessageRow, *, mark_read: bool) -> None:
        """Show ``row`` in the reader; ``mark_read`` marks it read (optimistically) when unread."""
        key = (row.account, row.folder, row.uid)
        if mark_read and self.message_list.is_unread(row):
            self._mark_seen(row)
        if key == self._wanted and self._reader_complete:
            return
        self._wanted = key
        self._reader_complete = False
        self._render_message(key, row)

    @work(thread=True, exclusive=True, group="reader")
    def _render_message(self, key: MessageKey, row: MessageRow) -> None:
        rendered = self.facade.rendered(*key)
        self.app.call_from_thread(self._message_ready, key, row, rendered)

    def _message_ready(self, key: MessageKey, row: MessageRow, rendered: RenderedMessage | None) -> None:
        if key != self._wanted:
            return
        if rendered is not None:
            self.reader.show_message(key, rendered)
            self._reader_complete = True
            return
        self.reader.show_loading(key, row)
        if key not in self._body_requested:
            self._body_requested.add(key)
            self.facade.submit(LoadBody(account=row.account, folder=row.folder, uid=row.uid))

    def _mark_seen(self, row: MessageRow) -> None:
        request = SetFlags(account=row.account, folder=row.folder, uids=(row.uid,), add=frozenset({SEEN}))
        self.facade.submit(request)
        folder = FolderKey(row.account, row.folder)
        self._pending_seen[request.request_id] = (row.row_id, folder)
        self.message_list.mark_flags(row.row_id, frozenset({SEEN}))
        self._adjust_unread(folder, -1)

    def _adjust_unread(self, folder: FolderKey, delta: int) -> None:
        counts = self.tree.counts(folder.account, folder.folder)
        if counts is not None:
            total, unread = counts
            self.tree.update_counts(folder.account, folder.folder, total, max(0, unread + delta))

    # --- service events ------------------------------------------------------------------------

    def apply_event(self, event: Event) -> None:
        """Reflect one service event on screen."""
        if isinstance(event, ConnectionChanged):
            self.status.set_connection(event.account, event.state, event.detail)
        elif isinstance(event, SyncProgress):
            self.status.set_progress(event.account, event.folder, event.done, event.total)
        elif isinstance(event, ErrorReported):
            self.status.set_error(f"{event.account}: {event.message}" if event.account else event.message)
        elif isinstance(event, FoldersChanged):
            self.tree.set_folders(event.account, list(event.folders))
        elif isinstance(event, FolderCountsChanged):
            self.tree.update_counts(event.account, event.folder, event.total, event.unread)
        elif isinstance(event, MessagesChanged):
            key = FolderKey(event.account, event.folder)
            if key == self._open:
                current = self.message_list.current_row
                self._load_index(key, current.row_id if current else None)
        elif isinstance(event, BodyLoaded):
            key = (event.account, event.folder, event.uid)
            self._body_requested.discard(key)
            if key == self._wanted and not self._reader_complete:
                row = self.message_list.current_row
                if row is not None and (row.account, row.folder, row.uid) == key:
                    self._render_message(key, row)
        elif isinstance(event, RequestFailed):
            self.status.set_error(event.error)
            pending = self._pending_seen.pop(event.request_id, None)
            if pending is not None:
                row_id, folder = pending
                self.message_list.unmark_flags(row_id, frozenset({SEEN}))
                self._adjust_unread(folder, +1)
        elif isinstance(event, RequestDone):
            self._pending_seen.pop(event.request_id, None)

    # --- pane navigation -----------------------------------------------------------------------

    def on_descendant_focus(self) -> None:
        focused = self.focused
        if focused in self.panes():
            self._last_pane = focused

    def _current_pane_index(self) -> int:
        panes = self.panes()
        pane = self.focused if self.focused in panes else self._last_pane
        return panes.index(pane) if pane in panes else 1

    def action_focus_next_pane(self) -> None:
        panes = self.panes()
        panes[(self._current_pane_index() + 1) % len(panes)].focus()

    def action_focus_previous_pane(self) -> None:
        panes = self.panes()
        panes[(self._current_pane_index() - 1) % len(panes)].focus()

    def action_back(self) -> None:
        index = self._current_pane_index()
        if index > 0:
            self.panes()[index - 1].focus()

    def run_pane_action(self, action: str) -> None:
        """Run a pane action (from the command palette) on the pane that last had focus."""
        pane = self.panes()[self._current_pane_index()]
        getattr(pane, f"action_{action}")()
