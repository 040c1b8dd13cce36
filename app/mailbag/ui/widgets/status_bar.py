"""The one-line status bar: what the list shows (folder, order, search), the last notice or
error, and each account's connection state and sync progress."""

from __future__ import annotations

from rich.text import Text
from textual.timer import Timer
from textual.widget import Widget

from mailbag.domain.models import ConnectionState
from mailbag.domain.sanitize import clean_line
from mailbag.ui.keymap import key_label

_BUSY = {ConnectionState.CONNECTING, ConnectionState.SYNCING}
#: How long a notice (an action taken, new mail) stays, and an error, in seconds; a connection
#: problem also shows in the account's state, which stays until it changes.
NOTICE_SECONDS = 10.0
ERROR_SECONDS = 30.0
#: A connection error's detail is cut to this many characters: the states must fit.
DETAIL_WIDTH = 30
#: ... and, when the notice needs the room, down to this many.
MIN_DETAIL_WIDTH = 16


class StatusBar(Widget):
    """Renders untrusted server text literally (a ``Text``, never markup)."""

    COMPONENT_CLASSES = {"status-bar--ok", "status-bar--busy", "status-bar--error", "status-bar--muted"}

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $foreground;
    }
    StatusBar > .status-bar--ok { color: $mailbag-status-ok; }
    StatusBar > .status-bar--busy { color: $mailbag-status-busy; }
    StatusBar > .status-bar--error { color: $mailbag-status-error; text-style: bold; }
    StatusBar > .status-bar--muted { color: $mailbag-muted; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self._states: dict[str, tuple[ConnectionState, str]] = {}
        self._refused: set[str] = set()  # accounts whose login was refused, waiting for a retry
        self.sign_in: list[str] = []  # of those, the ones an OAuth2 sign-in may fix
        self._plaintext: dict[str, tuple[str, ...]] = {}  # accounts with a server reached without TLS
        self._progress: dict[str, tuple[str, int, int]] = {}
        self.last_error = ""
        self._error_retry = False
        self.notice = ""
        self.view = ""
        self.outbox = ""  # "2 to send · 1 held": kept whole, beside the connection states
        self._expiry: Timer | None = None

    def set_connection(
        self, account: str, state: ConnectionState, detail: str = "", *, waiting_for_user: bool = False,
        plaintext: tuple[str, ...] = (), sign_in: bool = False,
    ) -> None:
        """``waiting_for_user``: the login was refused and nothing is tried until a retry;
        ``plaintext``: the account's tables whose server is reached without TLS; ``sign_in``:
        the refused login wants the account's OAuth2 sign-in."""
        self._states[account] = (state, clean_line(detail))
        self._plaintext[account] = plaintext
        if waiting_for_user:
            self._refused.add(account)
        else:
            self._refused.discard(account)
        if account in self.sign_in:
            self.sign_in.remove(account)
        if waiting_for_user and sign_in:
            self.sign_in.append(account)
        if state not in _BUSY:
            self._progress.pop(account, None)
        self.refresh()

    def set_progress(self, account: str, folder: str, done: int, total: int) -> None:
        if total and done >= total:
            self._progress.pop(account, None)
        else:
            self._progress[account] = (clean_line(folder), done, total)
        self.refresh()

    def set_error(self, message: str, *, retry: bool = False) -> None:
        """An error; replaces the last notice, and goes after ``ERROR_SECONDS``. ``retry``: it
        says first which key tries again (kept when the line is cut)."""
        self.last_error = clean_line(message)
        self._error_retry = retry
        self.notice = ""
        self._expire_in(ERROR_SECONDS)
        self.refresh()

    def set_notice(self, message: str) -> None:
        """A passing message (an action taken, new mail); replaces the last error, and goes after
        ``NOTICE_SECONDS``."""
        self.notice = clean_line(message)
        self.last_error = ""
        self._expire_in(NOTICE_SECONDS)
        self.refresh()

    def _retry_key(self, binding_id: str = "retry") -> str:
        """The key of the retry (or another) binding, as the user's keymap has it."""
        keymap: dict[str, str] = getattr(self.app, "user_keymap", None) or {}
        return key_label(binding_id, keymap)

    def _expire_in(self, seconds: float) -> None:
        if self._expiry is not None:
            self._expiry.stop()
        self._expiry = self.set_timer(seconds, self._clear_message) if self.is_attached else None

    def _clear_message(self) -> None:
        self.notice = self.last_error = ""
        self._expiry = None
        self.refresh()

    def set_outbox(self, counts: str) -> None:
        """What waits in the outbox (``2 to send · 1 held``; "" when nothing does)."""
        self.outbox = clean_line(counts)
        self.refresh()

    def set_view(self, description: str) -> None:
        """What the message list shows, e.g. ``INBOX · date ↓`` or ``Search: bob — 3 results``."""
        self.view = clean_line(description)
        self.refresh()

    def clear_error(self) -> None:
        """Take the error away now (its cause has gone, e.g. the search field was closed)."""
        if self.last_error:
            self._clear_message()

    def render(self) -> Text:
        """What the list shows and the last message on the left, cut short when the line is
        too narrow (what the list shows is left out first: the tree and the list say it too); the
        connection states and "? help" after them, always whole."""
        states = self._states_text()
        message = self._message_text()
        room = self.size.width - states.cell_len
        if room < message.cell_len and (self.last_error or self.notice):
            message = self._message_text(with_view=False)
        if room < message.cell_len:  # a connection error's detail gives some room too
            states = self._states_text(max(DETAIL_WIDTH - (message.cell_len - room), MIN_DETAIL_WIDTH))
            room = self.size.width - states.cell_len
        if room < message.cell_len:
            message.truncate(max(room - 1, 0))
            if room > 0:
                message.append("…")
        return message + states

    def _message_text(self, *, with_view: bool = True) -> Text:
        text = Text(no_wrap=True)
        if self.view and with_view:
            text.append(" ")
            text.append(self.view, style="bold")
            text.append(" │")
        if self.last_error:
            text.append(" ")
            label = f"error ({self._retry_key()} to retry): " if self._error_retry else "error: "
            text.append(label + self.last_error, style=self.get_component_rich_style("status-bar--error", partial=True))
            text.append(" │")
        elif self.notice:
            text.append(" " + self.notice + " │")
        return text

    def _states_text(self, detail_width: int = DETAIL_WIDTH) -> Text:
        text = Text(no_wrap=True)
        if self.outbox:
            style = "status-bar--error" if ("held" in self.outbox or "uncertain" in self.outbox) else "status-bar--busy"
            text.append(" ")
            text.append(self.outbox, style=self.get_component_rich_style(style, partial=True))
            text.append(" │")
        for account, (state, detail) in self._states.items():
            style = {
                ConnectionState.ONLINE: "status-bar--ok",
                ConnectionState.ERROR: "status-bar--error",
                ConnectionState.OFFLINE: "status-bar--muted",
            }.get(state, "status-bar--busy")
            text.append(" ")
            text.append(clean_line(account), style="bold")
            text.append(" ")
            if self._plaintext.get(account):  # said whole, however narrow, in every state
                tables = ", ".join(self._plaintext[account])
                text.append(f"no TLS ({tables})", style=self.get_component_rich_style("status-bar--error", partial=True))
                text.append(" ")
            if account in self._refused:  # said whole, however narrow: nothing happens until R
                if account in self.sign_in:
                    refused = f"login refused ({self._retry_key('sign_in')} to sign in)"
                else:
                    refused = f"login refused ({self._retry_key()} to retry)"
                text.append(refused, style=self.get_component_rich_style(style, partial=True))
                text.append(" │")
                continue
            text.append(state.value, style=self.get_component_rich_style(style, partial=True))
            if account in self._progress:
                folder, done, total = self._progress[account]
                text.append(f" {folder} {done}/{total}")
            elif detail and state == ConnectionState.ERROR:
                cut = detail if len(detail) <= detail_width else detail[: detail_width - 1] + "…"
                text.append(f" ({cut})")
            text.append(" │")
        text.append(" ? help", style=self.get_component_rich_style("status-bar--muted", partial=True))
        return text
