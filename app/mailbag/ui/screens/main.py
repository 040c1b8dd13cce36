"""MainScreen: FolderTree | MessageList over Reader, the status bar and the search field.

It turns user actions into requests to the facade and service events into widget updates. Slow
reads (the folder's id vector, threads, a search, a rendered body) run in thread workers, never on
the UI loop. Triage is optimistic: flags change and moved rows vanish at once; a refused request
or an ``ActionRolledBack`` puts the view back from the cache.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Tree

from mailbag.domain.events import (
    ActionApplied,
    ActionRolledBack,
    BodyLoaded,
    ConnectionChanged,
    ErrorReported,
    Event,
    FolderCountsChanged,
    FoldersChanged,
    MessagesChanged,
    NewMail,
    RequestDone,
    RequestFailed,
    SearchResults,
    SyncProgress,
)
from mailbag.domain.models import FLAGGED, SEEN, FolderRole, MessageRow, RenderedMessage, default_folder
from mailbag.domain.requests import (
    CheckFolders,
    DeleteMessages,
    LoadBody,
    MoveMessages,
    OpenFolder,
    Request,
    RetryAccount,
    Search,
    SetFlags,
)
from mailbag.services.api import ListOrder, MailFacade, SearchOutcome, SortKey
from mailbag.ui.keymap import PRIORITY_ACTIONS, bindings
from mailbag.ui.threads import ThreadLayout
from mailbag.ui.widgets.folder_tree import FolderRef, FolderTree
from mailbag.ui.widgets.message_list import FolderKey, MessageList
from mailbag.ui.widgets.reader import Reader, ReaderBody
from mailbag.ui.widgets.search_bar import SearchBar
from mailbag.ui.widgets.status_bar import StatusBar

#: The reader follows the list cursor only once it has rested this long (seconds).
READER_DEBOUNCE = 0.15
#: Local search runs once typing has paused this long (seconds).
SEARCH_DEBOUNCE = 0.15
#: Up to this many target rows are read on the UI loop; more are read in a thread first.
SYNC_TARGETS = 2000

MessageKey = tuple[str, str, int]


@dataclass(frozen=True, slots=True)
class _Pending:
    """An optimistic change awaiting its request's answer: what to undo if the request fails."""

    row_ids: list[int]
    folder: FolderKey
    unread_delta: int
    removed: bool


class MainScreen(Screen[None]):
    """The three panes and the status bar."""

    BINDINGS = bindings("screen")
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]

    class FirstView(Message):
        """The first list read has landed (posted once): ``has_rows`` says whether the cache
        had rows to paint, or whether they can only come from the server."""

        def __init__(self, has_rows: bool) -> None:
            super().__init__()
            self.has_rows = has_rows

    def __init__(
        self,
        facade: MailFacade,
        *,
        now: Callable[[], datetime],
        bell: bool = True,
        threads: bool = False,
    ) -> None:
        super().__init__()
        self._bell = bell  # ring the terminal bell on new mail
        self._order = ListOrder()
        self._threaded = threads
        self._generation = 0  # bumped when the view changes, so late worker results are dropped
        self._hidden: set[int] = set()  # rows moved/deleted here, not yet gone from the cache
        self._pending: dict[int, _Pending] = {}  # request id -> optimistic change
        self._search: str | None = None  # the query whose results the list shows
        self._search_requests: set[int] = set()  # the server searches of the shown query
        self._search_error = False  # the status bar shows a search error
        self._server_matches: list[int] = []  # rows the server search added to the view
        self._search_timer: Timer | None = None
        self.facade = facade
        self._now = now
        self._open: FolderKey | None = None
        self._wanted: MessageKey | None = None  # the message the reader should show
        self._reader_complete = False  # the reader shows the full body of ``_wanted``
        self._reader_timer: Timer | None = None
        self._body_requests: dict[int, MessageKey] = {}  # LoadBody request id -> its message
        self._last_pane: Widget | None = None
        self._first_view_posted = False

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            yield FolderTree(id="folders")
            with Vertical(id="right"):
                yield MessageList(self.facade.rows, now=self._now, id="messages")
                yield Reader(id="reader")
        yield StatusBar(id="status")
        yield SearchBar(id="search")

    # --- widgets -------------------------------------------------------------------------------

    @property
    def folder_tree(self) -> FolderTree:
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

    @property
    def search_bar(self) -> SearchBar:
        return self.query_one(SearchBar)

    def panes(self) -> list[Widget]:
        return [self.folder_tree, self.message_list, self.reader.body]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys that open a text field run as they arrive (so that what is typed next lands in
        the field), except while a text field has the focus: there they are text."""
        if action in PRIORITY_ACTIONS and isinstance(self.focused, Input):
            return False
        return True

    # --- start-up ------------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.folder_tree.set_virtual_folders(self.facade.virtual_folders())
        for account in self.facade.accounts:
            self.folder_tree.set_folders(account, self.facade.folders(account))
        self.message_list.focus()
        self.open_default_folder()

    def _post_first_view(self, has_rows: bool) -> None:
        if not self._first_view_posted:
            self._first_view_posted = True
            self.post_message(self.FirstView(has_rows))

    def open_default_folder(self) -> None:
        """Open the default account's Inbox (or its first selectable folder)."""
        if not self.facade.accounts:
            self._post_first_view(False)
            return
        account = self.facade.accounts[0]
        chosen = default_folder(self.facade.folders(account))
        self.open_folder(account, chosen.name if chosen else "INBOX")

    # --- folders and views ----------------------------------------------------------------------

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
            self._hidden.clear()
            self.message_list.index_pending = True
            self.message_list.show_account = key.virtual and len(self.facade.accounts) > 1
            self.message_list.show_folder(key, ())
        self.reload()

    def reload(self, *, keep_cursor: bool = True) -> None:
        """Re-read the open view (folder, virtual folder or search) from the cache in a worker."""
        if self._open is None:
            return
        # Only the newest read may land: an older one still running must not bring back a
        # list from before (new mail would vanish from view).
        self._generation += 1
        if self._search is not None:
            self._run_search(self._search, self._open, self._generation)
            return
        current = self.message_list.current_row if keep_cursor else None
        threaded = self._threaded and not self._open.virtual
        if not threaded and not self._open.virtual and not self._hidden and current is None:
            ready = self.facade.ready_index(self._open.account, self._open.folder, self._order)
            if ready is not None:  # the first list, read while the UI started: paint it now
                self._index_ready(self._open, ready, None, None, frozenset(), self._generation)
                return
        self._load_index(
            self._open, current.row_id if current else None, threaded, self._order,
            frozenset(self._hidden), self._generation,
        )
        self._show_view()

    def _change_view(self) -> None:
        """Sorting or threading changed: reload (late results of the old view are dropped)."""
        self.reload()

    @work(thread=True, exclusive=True, group="message-index")
    def _load_index(
        self, key: FolderKey, keep_row_id: int | None, threaded: bool, order: ListOrder,
        hidden: frozenset[int], generation: int,
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
        gone: frozenset[int] = frozenset()
        if hidden:
            present = hidden.intersection(ids)
            gone = hidden - present
            if present and layout is not None:
                layout = layout.without(present)
                ids = layout.all_ids
            elif present:
                ids = array("q", (row_id for row_id in ids if row_id not in present))
        self.app.call_from_thread(self._index_ready, key, ids, layout, keep_row_id, gone, generation)

    def _index_ready(
        self, key: FolderKey, ids: Sequence[int], layout: ThreadLayout | None, keep_row_id: int | None,
        gone: frozenset[int], generation: int,
    ) -> None:
        self._post_first_view(bool(ids))
        if key != self._open or generation != self._generation or self._search is not None:
            return
        self._hidden -= gone
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
            self.status.set_view(f"Search: {self._search} — {count} result{'' if count == 1 else 's'}")
            return
        order = f"by {self._order.key}" + (", reversed" if self._order.reverse else "")
        threads = " · threads" if self._threaded and not self._open.virtual else ""
        self.status.set_view(f"{self._open.folder} · {order}{threads}")

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

    # --- search --------------------------------------------------------------------------------

    def action_search(self) -> None:
        self.search_bar.open(self._search or "")

    @on(SearchBar.Changed)
    def _search_typed(self, message: SearchBar.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        if not self.search_bar.is_open:  # a key that arrived just after Esc or Enter
            return
        query = message.value.strip()
        self._search_timer = self.set_timer(SEARCH_DEBOUNCE, lambda: self._start_search(query))

    def _start_search(self, query: str) -> None:
        if self._open is None:
            return
        if not query:  # the field was emptied (or opened afresh): back to the folder, field open
            self._leave_search(reload=True, close_bar=False)
            return
        self._generation += 1
        self._run_search(query, self._open, self._generation)

    @on(SearchBar.Submitted)
    def _search_submitted(self, message: SearchBar.Submitted) -> None:
        message.stop()
        if self._search_timer is not None:
            self._search_timer.stop()
        query = message.value.strip()
        self.search_bar.close()
        self.message_list.focus()
        if not query or self._open is None:
            self._leave_search(reload=True)
            return
        self._generation += 1
        self._run_search(query, self._open, self._generation)
        key = self._open
        # A virtual folder spans accounts: each one's server searches all its folders, as the
        # local search does.
        requests = (
            [Search(account=account, query=query) for account in self.facade.accounts]
            if key.virtual
            else [Search(account=key.account, query=query, folder=key.folder)]
        )
        self._search_requests = {request.request_id for request in requests}
        self._server_matches = []
        for request in requests:
            self.facade.submit(request)

    @on(SearchBar.Closed)
    def _search_closed(self) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        if self._search_error:
            self.status.clear_error()
        self.message_list.focus()
        self._leave_search(reload=True)

    @work(thread=True, exclusive=True, group="search")
    def _run_search(self, query: str, key: FolderKey, generation: int) -> None:
        if key.virtual:
            outcome = self.facade.local_search(query)
        else:
            outcome = self.facade.local_search(query, account=key.account, folder=key.folder)
        self.app.call_from_thread(self._search_ready, query, key, outcome, generation)

    def _search_ready(self, query: str, key: FolderKey, outcome: SearchOutcome, generation: int) -> None:
        if key != self._open or generation != self._generation:
            return
        if outcome.error:
            self.status.set_error(f"search: {outcome.error}")
            self._search_error = True
            return
        same = self._search == query
        current = self.message_list.current_row if same else None
        self._search = query
        local = set(outcome.row_ids)
        found = list(outcome.row_ids) + [row_id for row_id in self._server_matches if row_id not in local]
        rows = [row_id for row_id in found if row_id not in self._hidden]
        self.message_list.index_pending = False
        self.message_list.show_folder(key, rows, current.row_id if current else None)
        self._show_view()

    def _merge_search_results(self, row_ids: Sequence[int]) -> None:
        shown = self.message_list.ids
        known = set(shown)
        extra = [row_id for row_id in row_ids if row_id not in known and row_id not in self._hidden]
        self._server_matches.extend(extra)
        if extra and self._open is not None:
            current = self.message_list.current_row
            self.message_list.show_folder(self._open, list(shown) + extra, current.row_id if current else None)
            self._show_view()

    def _leave_search(self, *, reload: bool, close_bar: bool = True) -> None:
        self._search_error = False
        if close_bar:
            self.search_bar.close()
        self._search_requests = set()
        self._server_matches = []
        if self._search is None:
            return
        self._search = None
        self._generation += 1
        if reload:
            self.reload()

    @on(MessageList.Back)
    def _list_back(self) -> None:
        if self._search is not None:
            self._leave_search(reload=True)
        else:
            self.action_back()

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
        if key not in self._body_requests.values():
            request = LoadBody(account=row.account, folder=row.folder, uid=row.uid)
            self._body_requests[request.request_id] = key
            self.facade.submit(request)

    def _body_failed(self, request_id: int, error: str) -> None:
        """A body could not be loaded: say so in the reader; asking again (Enter) retries."""
        key = self._body_requests.pop(request_id)
        if key == self._wanted and not self._reader_complete:
            self.reader.show_failure(key, error)

    @on(ReaderBody.Reopen)
    def _reader_reopen(self) -> None:
        row = self.message_list.current_row
        if row is not None:
            self.show_message(row, mark_read=True)

    def _mark_seen(self, row: MessageRow) -> None:
        self._set_flags([row], add=frozenset({SEEN}))

    def _adjust_unread(self, folder: FolderKey, delta: int) -> None:
        counts = self.folder_tree.counts(folder.account, folder.folder)
        if counts is not None:
            total, unread = counts
            self.folder_tree.update_counts(folder.account, folder.folder, total, max(0, unread + delta))

    # --- triage --------------------------------------------------------------------------------

    def triage_target_ids(self) -> list[int]:
        """What a triage key acts on: the marked rows (a marked collapsed thread counts whole);
        else the collapsed thread under the cursor; else the cursor's message."""
        listing = self.message_list
        ids: list[int] = []
        if listing.marked:
            marked = listing.marked
            for index, row_id in enumerate(listing.ids):
                if row_id in marked:
                    ids.extend(listing.thread_at(index))
        elif listing.row_count:
            ids.extend(listing.thread_at(listing.cursor))
        return ids

    def _with_targets(self, act: Callable[[list[MessageRow]], None]) -> None:
        """Run ``act`` on the target rows: at once for a few, after a thread read for many."""
        ids = self.triage_target_ids()
        if not ids:
            self.status.set_notice("No message to act on")
        elif len(ids) <= SYNC_TARGETS:
            act(self.facade.rows(ids))
        else:
            self.status.set_notice(f"Reading {len(ids)} messages…")
            self._read_targets(ids, act)

    @work(thread=True, group="targets")
    def _read_targets(self, ids: list[int], act: Callable[[list[MessageRow]], None]) -> None:
        rows = self.facade.rows(ids)
        self.app.call_from_thread(act, rows)

    @staticmethod
    def _grouped(rows: Sequence[MessageRow]) -> dict[FolderKey, list[MessageRow]]:
        """Rows per (account, folder): one request each (a unified inbox mixes accounts)."""
        groups: dict[tuple[str, str], list[MessageRow]] = {}
        for row in rows:
            key = (row.account, row.folder)
            group = groups.get(key)
            if group is None:
                groups[key] = group = []
            group.append(row)
        return {FolderKey(account, folder): group for (account, folder), group in groups.items()}

    @staticmethod
    def _uids(rows: Sequence[MessageRow]) -> tuple[int, ...]:
        return tuple(sorted(row.uid for row in rows))

    def _set_flags(
        self, rows: Sequence[MessageRow], *, add: frozenset[str] = frozenset(), remove: frozenset[str] = frozenset()
    ) -> None:
        listing = self.message_list
        for key, in_folder in self._grouped(rows).items():
            uids = self._uids(in_folder)
            request = SetFlags(account=key.account, folder=key.folder, uids=uids, add=add, remove=remove)
            unread_before = sum(1 for row in in_folder if listing.is_unread(row))
            self.facade.submit(request)
            row_ids = [row.row_id for row in in_folder]
            listing.change_flags(row_ids, add=add, remove=remove)
            unread_after = sum(1 for row in in_folder if listing.is_unread(row))
            self._pending[request.request_id] = _Pending(row_ids, key, unread_after - unread_before, False)
            self._adjust_unread(key, unread_after - unread_before)

    def _toggle(self, rows: list[MessageRow], flag: str, *, add_when: Callable[[MessageRow], bool]) -> None:
        """Add ``flag`` when ``add_when`` holds for any row, else remove it from them all."""
        if any(add_when(row) for row in rows):
            self._set_flags(rows, add=frozenset({flag}))
        else:
            self._set_flags(rows, remove=frozenset({flag}))
        self.message_list.clear_marks()

    def action_toggle_read(self) -> None:
        """Mark read when any target is unread, else mark them all unread."""
        self._with_targets(lambda rows: self._toggle(rows, SEEN, add_when=self.message_list.is_unread))

    def action_toggle_flag(self) -> None:
        """Flag when any target is not flagged, else unflag them all."""
        listing = self.message_list
        self._with_targets(
            lambda rows: self._toggle(rows, FLAGGED, add_when=lambda row: FLAGGED not in listing.flags_of(row))
        )

    def _remove(self, rows: Sequence[MessageRow], make: Callable[[FolderKey, tuple[int, ...]], Request]) -> None:
        """Send one request per folder and take the rows out of the list at once."""
        for key, in_folder in self._grouped(rows).items():
            request = make(key, self._uids(in_folder))
            self.facade.submit(request)
            row_ids = [row.row_id for row in in_folder]
            self._pending[request.request_id] = _Pending(row_ids, key, 0, True)
        removed = {row.row_id for row in rows}
        self._hidden |= removed
        self.message_list.remove_rows(removed)

    def action_delete(self) -> None:
        self._with_targets(
            lambda rows: self._remove(
                rows, lambda key, uids: DeleteMessages(account=key.account, folder=key.folder, uids=uids)
            )
        )

    def action_delete_permanently(self) -> None:
        self._with_targets(self._confirm_permanent_delete)

    def _confirm_permanent_delete(self, rows: list[MessageRow]) -> None:
        count = len(rows)
        question = f"Delete {count} message{'' if count == 1 else 's'} permanently?"

        def answered(yes: bool | None) -> None:
            if yes:
                self._remove(
                    rows,
                    lambda key, uids: DeleteMessages(account=key.account, folder=key.folder, uids=uids, permanent=True),
                )

        from mailbag.ui.screens.dialogs import ConfirmDialog

        self.app.push_screen(ConfirmDialog(question), answered)

    def _move_to_role(self, role: FolderRole) -> None:
        self._with_targets(
            lambda rows: self._remove(
                rows,
                lambda key, uids: MoveMessages(account=key.account, folder=key.folder, uids=uids, target_role=role),
            )
        )

    def action_archive(self) -> None:
        self._move_to_role(FolderRole.ARCHIVE)

    def action_junk(self) -> None:
        self._move_to_role(FolderRole.JUNK)

    def _pick_folder(self, rows: list[MessageRow], *, copy: bool) -> None:
        accounts = {row.account for row in rows}
        if len(accounts) > 1:
            self.status.set_error("Move and copy work within one account: mark messages of one account")
            return
        account = accounts.pop()
        sources = {row.folder for row in rows}
        names = [
            f.name for f in self.facade.folders(account)
            if f.selectable and (copy or len(sources) > 1 or f.name not in sources)
        ]
        count = len(rows)
        title = f"{'Copy' if copy else 'Move'} {count} message{'' if count == 1 else 's'} to:"

        def chosen(target: str | None) -> None:
            if target is None:
                return
            if copy:
                for key, in_folder in self._grouped(rows).items():
                    self.facade.submit(
                        MoveMessages(
                            account=key.account, folder=key.folder, uids=self._uids(in_folder), target=target, copy=True
                        )
                    )
                self.message_list.clear_marks()
                return
            moving = [row for row in rows if row.folder != target]
            self._remove(
                moving,
                lambda key, uids: MoveMessages(account=key.account, folder=key.folder, uids=uids, target=target),
            )

        from mailbag.ui.screens.folder_picker import FolderPicker

        self.app.push_screen(FolderPicker(title, names), chosen)

    def action_move(self) -> None:
        self._with_targets(lambda rows: self._pick_folder(rows, copy=False))

    def action_copy(self) -> None:
        self._with_targets(lambda rows: self._pick_folder(rows, copy=True))

    def action_undo(self) -> None:
        description = self.facade.undo()
        if description is None:
            self.status.set_notice("Nothing to undo")
            return
        self.status.set_notice(description)
        self._hidden.clear()
        self.message_list.forget_flag_changes()
        self.reload()

    def action_retry(self) -> None:
        """Connect every account now: after a refused login (once the password is fixed), or
        instead of waiting for the next attempt."""
        for account in self.facade.accounts:
            self.facade.submit(RetryAccount(account=account))
        self.status.set_notice("Reconnecting")

    def _roll_back(self, request_id: int) -> None:
        pending = self._pending.pop(request_id, None)
        if pending is None:
            return
        if pending.removed:
            self._hidden.difference_update(pending.row_ids)
            self.reload()
        else:
            self.message_list.drop_flag_changes(pending.row_ids)
            self._adjust_unread(pending.folder, -pending.unread_delta)

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
            self.folder_tree.set_folders(event.account, list(event.folders))
        elif isinstance(event, FolderCountsChanged):
            self.folder_tree.update_counts(event.account, event.folder, event.total, event.unread)
        elif isinstance(event, MessagesChanged):
            key = FolderKey(event.account, event.folder)
            if self._open is not None and (key == self._open or self._open.virtual):
                self.reload()
        elif isinstance(event, BodyLoaded):
            loaded = (event.account, event.folder, event.uid)
            self._body_requests = {rid: k for rid, k in self._body_requests.items() if k != loaded}
            if loaded == self._wanted and not self._reader_complete:
                row = self.message_list.current_row
                if row is not None and (row.account, row.folder, row.uid) == loaded:
                    self._render_message(loaded, row)
        elif isinstance(event, NewMail):
            if self._bell:
                self.app.bell()
            count = event.count
            self.status.set_notice(f"{count} new message{'' if count == 1 else 's'} in {event.folder}")
        elif isinstance(event, ActionApplied):
            self.status.set_notice(event.description)
        elif isinstance(event, ActionRolledBack):
            self.status.set_error(f"{event.description}: {event.reason}")
            self._pending.clear()
            self._hidden.clear()
            self.message_list.forget_flag_changes()
            self.reload()
        elif isinstance(event, SearchResults):
            if event.request_id in self._search_requests and self._search is not None:
                self._merge_search_results(event.row_ids)
        elif isinstance(event, RequestFailed) and event.request_id in self._body_requests:
            self._body_failed(event.request_id, event.error)
        elif isinstance(event, RequestFailed):
            self.status.set_error(event.error)
            self._roll_back(event.request_id)
        elif isinstance(event, RequestDone):
            self._pending.pop(event.request_id, None)

    # --- pane navigation -----------------------------------------------------------------------

    def on_descendant_focus(self) -> None:
        focused = self.focused
        if focused is self.folder_tree and self._last_pane is not focused:
            self.check_folders()  # the user turns to the folders: show what changed there
        if focused in self.panes():
            self._last_pane = focused

    def check_folders(self) -> None:
        """Have every account look at its folders for changes its server does not push."""
        for account in self.facade.accounts:
            self.facade.submit(CheckFolders(account=account))

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
