"""MainScreen: FolderTree | MessageList and Reader (one over the other, or side by side), the
status bar and the search field.

It turns user actions into requests to the facade and service events into widget updates. Each
part lives in its own module: the list's views (:mod:`.views`), search (:mod:`.search`), the
reader (:mod:`.reading`), its links (:mod:`.links`), the layout (:mod:`.layout`), triage (:mod:`.triage`),
writing and drafts (:mod:`.writing`), folders themselves (:mod:`.folders`: make, rename, delete,
subscribe), files (:mod:`.files`: attachments, .eml, pipe) and the OAuth2 sign-in
(:mod:`.signing_in`); their shared state is in :mod:`.base`.
Slow reads (the folder's id vector, threads, a search, a rendered body) run in thread workers,
never on the UI loop.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input

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
    Notice,
    OutboxChanged,
    RequestFailed,
    RequestUnsupported,
    SearchResults,
    SyncProgress,
)
from mailbag.domain.folder_names import typed_name
from mailbag.domain.models import ConnectionState, OutgoingMessage
from mailbag.domain.requests import CheckFolders
from mailbag.domain.wording import plural
from mailbag.ui.keymap import PRIORITY_ACTIONS, bindings
from mailbag.ui.screens.main.files import FilesControl
from mailbag.ui.screens.main.folders import FolderControl
from mailbag.ui.screens.main.layout import LayoutControl
from mailbag.ui.screens.main.links import LinkControl
from mailbag.ui.screens.main.reading import ReaderControl
from mailbag.ui.screens.main.search import SearchControl
from mailbag.ui.screens.main.signing_in import SignInControl
from mailbag.ui.screens.main.triage import TriageControl
from mailbag.ui.screens.main.views import ListViews
from mailbag.ui.screens.main.writing import WritingControl
from mailbag.ui.widgets.folder_tree import FolderTree
from mailbag.ui.widgets.message_list import FolderKey, MessageList
from mailbag.ui.widgets.reader import Reader
from mailbag.ui.widgets.search_bar import SearchBar
from mailbag.ui.widgets.status_bar import StatusBar


class MainScreen(
    ListViews, SearchControl, ReaderControl, LinkControl, LayoutControl, TriageControl, WritingControl,
    FilesControl, FolderControl, SignInControl,
):
    """The three panes and the status bar; service events land here."""

    BINDINGS = bindings("screen")
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys that open a text field run as they arrive (so that what is typed next lands in
        the field), except while a text field has the focus: there they are text."""
        if action in PRIORITY_ACTIONS and isinstance(self.focused, Input):
            return False
        return True

    def on_mount(self) -> None:
        self.folder_tree.set_virtual_folders(self.facade.virtual_folders())
        self.show_outbox(self.facade.outbox_messages())
        for account in self.facade.accounts:
            self.folder_tree.set_folders(account, self.facade.folders(account))
        self.message_list.focus()
        self.open_default_folder()

    def apply_event(self, event: Event) -> None:
        """Reflect one service event on screen (a sync's progress and the folders' counts a few
        times a second: see ``pacing``)."""
        if self.sign_in_ended(event):
            return
        if isinstance(event, ConnectionChanged):  # any progress held is out of date
            self.pacer.drop(lambda key: key[:2] == (SyncProgress, event.account))
        elif isinstance(event, SyncProgress) and event.done >= event.total:  # ended: so did its progress
            self.pacer.drop(lambda key: key == (SyncProgress, event.account, event.folder))
        elif isinstance(event, (SyncProgress, FolderCountsChanged)):
            if not self.pacer.offer((type(event), event.account, event.folder), event):
                return
        self.show_event(event)

    def show_event(self, event: Event) -> None:
        """Reflect one service event on screen, now."""
        if isinstance(event, ConnectionChanged):
            newly_refused = event.waiting_for_user and not self.status.refused(event.account)
            self.status.set_connection(
                event.account, event.state, event.detail, waiting_for_user=event.waiting_for_user,
                plaintext=event.plaintext, sign_in=event.sign_in, fetch_offline=event.fetch_offline,
            )
            if newly_refused and event.reason and not event.sign_in:  # the state says only "refused ($)"
                self.status.set_error(f"{event.account}: {event.reason}")
            if event.state != ConnectionState.SYNCING:
                self.syncs_ended(event.account)
            if event.state in (ConnectionState.ONLINE, ConnectionState.SYNCING):
                self.account_back(event.account)
        elif isinstance(event, SyncProgress):
            self.status.set_progress(event.account, event.folder, event.done, event.total)
            self.note_progress(FolderKey(event.account, event.folder), event.done, event.total)
        elif isinstance(event, ErrorReported):
            text = f"{event.account}: {event.message}" if event.account else event.message
            self.status.set_error(text, retry=event.retry)
        elif isinstance(event, Notice):
            self.status.set_notice(f"{event.account}: {event.message}" if event.account else event.message)
        elif isinstance(event, FoldersChanged):
            # Read through the service: its counts include the triage it has not stored yet.
            self.folder_tree.set_folders(event.account, self.facade.folders(event.account))
            self.folders_changed(event.account)
        elif isinstance(event, FolderCountsChanged):
            self.refresh_counts([event.account], event.folder)
        elif isinstance(event, MessagesChanged):
            key = FolderKey(event.account, event.folder)
            if self._open is not None and (key == self._open or self._open.virtual):
                self.reload_after_change(key, not (event.removed or event.changed))
        elif isinstance(event, BodyLoaded):
            loaded = (event.account, event.folder, event.uid)
            self._body_requests = {rid: k for rid, k in self._body_requests.items() if k != loaded}
            if loaded == self._wanted and not self._reader_complete:
                row = self.message_list.current_row
                if row is not None and (row.account, row.folder, row.uid) == loaded:
                    self.read_message(loaded, row)
            self.body_arrived(loaded)
        elif isinstance(event, NewMail):
            if self._bell:
                self.app.bell()
            count = event.count
            # With several accounts, each with its INBOX, say whose; the folder as the tree names it.
            folder = typed_name(event.folder, self.facade.folder_prefix(event.account))
            where = f"{event.account}/{folder}" if len(self.facade.accounts) > 1 else folder
            self.status.set_notice(f"{plural(count, 'new message')} in {where}")
        elif isinstance(event, ActionApplied):
            # The server doing an undo's action still reads as the undo: the user must see it.
            self.status.set_notice(f"Undone: {event.undoes}" if event.undoes else event.description)
        elif isinstance(event, ActionRolledBack):
            self.status.set_error(f"{event.description}: {event.reason}")
            self.after_rollback()
        elif isinstance(event, SearchResults):
            if event.request_id in self._search_requests and self._search is not None:
                self._merge_search_results(event.row_ids, event.more)
        elif isinstance(event, RequestFailed) and event.request_id in self._body_requests:
            self._body_failed(event.request_id, event.error)
        elif isinstance(event, RequestFailed):  # a triage request the service could not take
            if not event.told:  # else the account's error (or state) says it
                self.status.set_error(event.error)
            self.after_rollback()
        elif isinstance(event, RequestUnsupported):
            self.folder_request_answered(event)
        elif isinstance(event, OutboxChanged):
            self.show_outbox(event.messages)

    def show_outbox(self, messages: Sequence[OutgoingMessage]) -> None:
        """The outbox's counts in the status bar and the tree."""
        from mailbag.ui.screens.outbox import outbox_counts

        self.status.set_outbox(outbox_counts(messages))
        self.folder_tree.set_outbox(len(messages))

    def action_outbox(self) -> None:
        """Show the outbox (messages waiting, held or uncertain)."""
        from mailbag.ui.screens.outbox import OutboxScreen

        keymap: dict[str, str] = getattr(self.app, "user_keymap", None) or {}
        self.app.push_screen(OutboxScreen(self.facade, dict(keymap)))

    def on_folder_tree_outbox_opened(self) -> None:
        self.action_outbox()

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

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            yield FolderTree(id="folders")
            with Vertical(id="right"):
                yield MessageList(self.facade.rows, now=self._now, id="messages")
                yield Reader(id="reader")
        yield StatusBar(id="status")
        yield SearchBar(id="search")
