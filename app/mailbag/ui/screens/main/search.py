"""Search: the field, the local search as the user types, and the servers' matches after Enter."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on, work

from mailbag.domain.requests import Search
from mailbag.services.api import SearchOutcome
from mailbag.ui.screens.main.base import MainScreenBase
from mailbag.ui.widgets.message_list import FolderKey, MessageList
from mailbag.ui.widgets.search_bar import SearchBar

#: Local search runs once typing has paused this long (seconds).
SEARCH_DEBOUNCE = 0.15


class SearchControl(MainScreenBase):
    """The search field and the results it puts in the list."""

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
        self._server_more = 0
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

    def _run_search(self, query: str, key: FolderKey, generation: int) -> None:
        self._list_read = generation
        self._search_in_thread(query, key, generation)

    @work(thread=True, exclusive=True, group="search")
    def _search_in_thread(self, query: str, key: FolderKey, generation: int) -> None:
        if key.virtual:
            outcome = self.facade.local_search(query)
        else:
            outcome = self.facade.local_search(query, account=key.account, folder=key.folder)
        self.app.call_from_thread(self._search_ready, query, key, outcome, generation)

    def _search_ready(self, query: str, key: FolderKey, outcome: SearchOutcome, generation: int) -> None:
        if generation == self._list_read:
            self._list_read = None
        if key != self._open or generation != self._generation:
            return
        if outcome.error:
            # The list must not keep the matches of an earlier query the field no longer holds
            # (typed slowly, "colou" was searched before "colour:" became an error).
            self._leave_search(reload=True, close_bar=False)
            self.status.set_error(f"search: {outcome.error}")
            self._search_error = True
            return
        if self._search_error:  # the error of a query typed half-way: the field's query searches now
            self.status.clear_error()
            self._search_error = False
        same = self._search == query
        current = self.message_list.current_row if same else None
        self._search = query
        local = set(outcome.row_ids)
        found = list(outcome.row_ids) + self._listed([row_id for row_id in self._server_matches if row_id not in local])
        self.message_list.index_pending = False
        self.message_list.show_folder(key, found, current.row_id if current else None)
        self._show_view()

    def _merge_search_results(self, row_ids: Sequence[int], more: int) -> None:
        if more:
            self._server_more += more
            n = self._server_more
            self.status.set_notice(f"{n} older match{'' if n == 1 else 'es'} left on the server")
        shown = self.message_list.ids
        known = set(shown)
        extra = self._listed([row_id for row_id in row_ids if row_id not in known])
        self._server_matches.extend(extra)
        if extra and self._open is not None:
            current = self.message_list.current_row
            self.message_list.show_folder(self._open, list(shown) + extra, current.row_id if current else None)
            self._show_view()

    def _listed(self, row_ids: list[int]) -> list[int]:
        """The server's matches the service still lists (not moved or deleted since)."""
        if not row_ids:
            return row_ids
        listed = {row.row_id for row in self.facade.rows(row_ids)}
        return [row_id for row_id in row_ids if row_id in listed]

    def _search_again(self) -> None:
        """Run the shown query again (the view changed under it)."""
        if self._search is not None and self._open is not None:
            self._run_search(self._search, self._open, self._generation)

    def _leave_search(self, *, reload: bool, close_bar: bool = True) -> None:
        self._search_error = False
        if close_bar:
            self.search_bar.close()
        self._search_requests = set()
        self._server_matches = []
        self._server_more = 0
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
