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
        layout = view = preface = None
        if rendered is not None:
            layout = body_layout(rendered, deadline)
            if deadline.reached and deadline.notice() not in rendered.notices:
                rendered = replace(rendered, notices=(*rendered.notices, uncoloured_notice(deadline)))
            preface = self.reader.preface_of(rendered)
            view = self.reader.body.prepared_view(layout, preface)
        self.app.call_from_thread(self._message_ready, key, row, rendered, layout, view, preface)

    def _message_ready(
        self, key: MessageKey, row: MessageRow, rendered: RenderedMessage | None, layout: BodyLayout | None,
        view: WrappedText | None = None, preface: list[str] | None = None,
    ) -> None:
        if key != self._wanted:
            return
        self._reading = None
        if rendered is not None:
            if preface is not None and bool(preface) != self.reader.all_headers:
                preface = None  # H was pressed meanwhile: made anew
            self.reader.show_message(key, rendered, layout, view if preface is not None else None, preface)
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

    @on(ReaderBody.ToggleHeaders)
    def _toggle_headers(self) -> None:
        """Every header in full above the body, or not: laid out in a thread (50,000 recipients
        would hold the keys up)."""
        reader = self.reader
        reader.all_headers = not reader.all_headers
        message = reader.message
        if message is not None and reader.shown is not None and not reader.source_shown:
            self._lay_out_headers(reader.shown, message, reader.body.shown)

    @work(thread=True, exclusive=True, group="headers", description="every header laid out")  # no repr of 50,000 recipients
    def _lay_out_headers(self, key: MessageKey, message: RenderedMessage, body: BodyLayout) -> None:
        preface = self.reader.preface_of(message)
        view = self.reader.body.view_of(body, preface)
        self.app.call_from_thread(self._headers_ready, key, body, preface, view)

    def _headers_ready(self, key: MessageKey, body: BodyLayout, preface: list[str], view: WrappedText) -> None:
        reader = self.reader
        if reader.shown == key and reader.body.shown is body and not reader.source_shown:
            if bool(preface) == reader.all_headers:  # else H again meanwhile: its own worker follows
                reader.show_preface(preface, view)

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
