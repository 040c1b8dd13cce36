"""What the parts of the main screen share: its state, its widgets, and the few steps one
part asks of another (each implemented in its own module)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from datetime import datetime

from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget

from mailbag.domain.deadline import Deadline
from mailbag.domain.events import Event
from mailbag.domain.models import MessageRow
from mailbag.domain.requests import FolderRequest
from mailbag.services.api import ListOrder, MailFacade
from mailbag.ui.pacing import EventPacer
from mailbag.ui.widgets.folder_tree import FolderTree
from mailbag.ui.widgets.message_list import FolderKey, MessageList
from mailbag.ui.widgets.reader import Reader
from mailbag.ui.widgets.search_bar import SearchBar
from mailbag.ui.widgets.status_bar import StatusBar

MessageKey = tuple[str, str, int]


class MainScreenBase(Screen[None]):
    """The main screen's state and widgets."""

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
        layout: str = "auto",
    ) -> None:
        super().__init__()
        self.pane_layout = layout  # "auto", "columns" or "stacked" (see .layout)
        self._bell = bell  # ring the terminal bell on new mail
        self._order = ListOrder()
        self._threaded = threads
        self._generation = 0  # bumped when the view changes, so late worker results are dropped
        self._list_read: int | None = None  # the generation of the read of the view on its way
        self._search: str | None = None  # the query whose results the list shows
        self._search_requests: set[int] = set()  # the server searches of the shown query
        self._search_error = False  # the status bar shows a search error
        self._server_matches: list[int] = []  # rows the server search added to the view
        self._server_more = 0  # matches the server search left on the server (the oldest)
        self._search_timer: Timer | None = None
        self.facade = facade
        self._now = now
        self._open: FolderKey | None = None
        self._wanted: MessageKey | None = None  # the message the reader should show
        self._reader_complete = False  # the reader shows the full body of ``_wanted``
        self._load_failed: MessageKey | None = None  # the reader says its body could not be loaded
        self._reader_timer: Timer | None = None
        self._reading: Deadline | None = None  # the reading of the message the reader waits for
        self._body_requests: dict[int, MessageKey] = {}  # LoadBody request id -> its message
        self._last_pane: Widget | None = None
        self._first_view_posted = False
        self._filling: set[FolderKey] = set()  # folders a first sync is filling
        self._fill_timer: Timer | None = None  # a re-read put off while the open folder fills
        self._folder_requests: dict[int, FolderRequest] = {}  # folder changes asked for, by id
        self._sign_ins: dict[str, int] = {}  # account -> its OAuth2 SignIn request still running
        #: A sync's progress and the folders' counts, shown a few times a second (see pacing).
        self.pacer = EventPacer(self.show_event, self.set_timer)

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

    def _post_first_view(self, has_rows: bool) -> None:
        if not self._first_view_posted:
            self._first_view_posted = True
            self.post_message(self.FirstView(has_rows))

    # --- what one part asks of another ----------------------------------------------------------
    # Declared for the type checker only: each is implemented by the part named in its docstring,
    # and MainScreen combines every part.

    if TYPE_CHECKING:

        def show_event(self, event: Event) -> None:
            """Reflect one service event on screen, now: MainScreen's."""

        def open_folder(self, account: str, folder: str) -> None:
            """Show ``folder`` in the list, syncing it first (views)."""
            ...

        def reload(self, *, keep_cursor: bool = True) -> None:
            """Re-read the open view from the cache (views)."""
            ...

        def _show_view(self) -> None:
            """Say in the status bar what the list shows (views)."""
            ...

        def _search_again(self) -> None:
            """Run the shown query again (search)."""
            ...

        def _leave_search(self, *, reload: bool, close_bar: bool = True) -> None:
            """Back from search results to the folder (search)."""
            ...

        def show_message(self, row: MessageRow, *, mark_read: bool) -> None:
            """Show ``row`` in the reader (reading)."""
            ...

        def _mark_seen(self, row: MessageRow) -> None:
            """Mark a message read (triage)."""
            ...

        def action_back(self) -> None:
            """Focus the pane to the left (the screen)."""
            ...
