"""The reader: it follows the list cursor, and asks for bodies the cache does not hold."""

from __future__ import annotations

from dataclasses import replace

from textual import events, on, work

from mailbag.domain.deadline import Deadline
from mailbag.domain.models import MessageRow, RenderedMessage
from mailbag.domain.quotes import BodyLayout
from mailbag.domain.requests import LoadBody
from mailbag.ui.screens.main.base import MainScreenBase, MessageKey
from mailbag.ui.widgets.message_list import MessageList
from mailbag.ui.widgets.reader import FULL_SCREEN, ReaderBody, body_layout, source_layout, uncoloured_notice
from mailbag.ui.wrapped_text import WrappedText

#: The reader follows the list cursor only once it has rested this long (seconds).
READER_DEBOUNCE = 0.15


class ReaderControl(MainScreenBase):
    """Which message the reader shows, and its body's loading."""

    @on(MessageList.Highlighted)
    def _row_highlighted(self, message: MessageList.Highlighted) -> None:
        if self._reader_timer is not None:
            self._reader_timer.stop()
        row = message.row
        if row is None:
            self._wanted = None
            self.stop_reading()
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
        if key == self._wanted and (self._reader_complete or self._reading is not None):
            return  # shown, or being read
        self._wanted = key
        self._reader_complete = False
        self.read_message(key, row)

    def read_message(self, key: MessageKey, row: MessageRow) -> None:
        """Read the message ``key`` for the reader in a thread worker (the one read before, if
        still under way, stops)."""
        self.stop_reading()
        self._reading = Deadline()  # for reading the message and laying its body out together
        self._render_message(key, row, self._reading)

    def stop_reading(self) -> None:
        """Stop reading the message the reader waits for, if it is still being read (its thread
        worker stops at its next look at the deadline)."""
        if self._reading is not None:
            self._reading.cancel()
            self._reading = None

    @work(thread=True, exclusive=True, group="reader")
    def _render_message(self, key: MessageKey, row: MessageRow, deadline: Deadline) -> None:
        rendered = self.facade.rendered(*key, deadline)
        if deadline.cancelled:
            return  # another message is wanted, or mailbag is quitting
        layout = view = None
        if rendered is not None:
            layout = body_layout(rendered, deadline)
            if deadline.reached and deadline.notice() not in rendered.notices:
                rendered = replace(rendered, notices=(*rendered.notices, uncoloured_notice(deadline)))
            view = self.reader.body.prepared_view(layout)
        self.app.call_from_thread(self._message_ready, key, row, rendered, layout, view)

    def _message_ready(
        self, key: MessageKey, row: MessageRow, rendered: RenderedMessage | None, layout: BodyLayout | None,
        view: WrappedText | None = None,
    ) -> None:
        if key != self._wanted:
            return
        self._reading = None
        if rendered is not None:
            self.reader.show_message(key, rendered, layout, view)
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
            self._load_failed = key

    def account_back(self, account: str) -> None:
        """``account`` is connected again: the message of it whose body the reader could not
        load (the account was offline, say) is asked for again, as Enter would."""
        key = self._load_failed
        if key is None or key[0] != account or key != self._wanted or self._reader_complete:
            return
        row = self.message_list.current_row
        if row is not None and (row.account, row.folder, row.uid) == key:
            self._load_failed = None
            self.read_message(key, row)

    @on(ReaderBody.Reopen)
    def _reader_reopen(self) -> None:
        row = self.message_list.current_row
        if row is None:
            return
        if (row.account, row.folder, row.uid) == self._wanted and self._reader_complete:
            self.set_full_screen(True)  # Enter on the message shown: the whole screen for it
        else:
            self.show_message(row, mark_read=True)

    @on(ReaderBody.ToggleSource)
    def _toggle_source(self) -> None:
        """The message's source in the body's place (read in a thread), or the body again."""
        if self.reader.source_shown:
            self.reader.hide_source()
        elif self._wanted is not None and self._reader_complete and self.reader.shown == self._wanted:
            self._load_source(self._wanted)
        else:
            self.app.bell()

    @work(thread=True, exclusive=True, group="source")
    def _load_source(self, key: MessageKey) -> None:
        raw = self.facade.raw_message(*key)
        layout = source_layout(raw) if raw is not None else None
        view = self.reader.body.prepared_view(layout) if layout is not None else None
        self.app.call_from_thread(self._source_ready, key, layout, view)

    def _source_ready(self, key: MessageKey, layout: BodyLayout | None, view: WrappedText | None = None) -> None:
        if key != self._wanted or self.reader.shown != key:
            return
        if layout is None:
            self.status.set_notice("The source of this message is not in the cache")
        else:
            self.reader.show_source(layout, view)

    def action_full_screen(self) -> None:
        """Give the reader the whole screen (opening the message under the cursor), or give
        the panes back."""
        if self.has_class(FULL_SCREEN):
            self._close_full_screen()
            return
        row = self.message_list.current_row
        if row is None:
            return
        if self._reader_timer is not None:
            self._reader_timer.stop()
        self.show_message(row, mark_read=True)
        self.set_full_screen(True)

    def set_full_screen(self, full: bool) -> None:
        """The reader alone on the screen (above the status bar), with the focus; or the panes."""
        self.set_class(full, FULL_SCREEN)
        if full:
            self.reader.body.focus()

    @on(ReaderBody.Close)
    def _close_full_screen(self) -> None:
        self.set_full_screen(False)
        self.message_list.focus()

    @on(events.DescendantFocus)
    def _focus_moved(self, event: events.DescendantFocus) -> None:
        """The focus left the reader (Esc, h, Tab, the search field): the panes come back."""
        if self.has_class(FULL_SCREEN) and event.widget is not self.reader.body:
            self.set_full_screen(False)

    @on(ReaderBody.Notice)
    def _reader_notice(self, message: ReaderBody.Notice) -> None:
        self.status.set_notice(message.text)
