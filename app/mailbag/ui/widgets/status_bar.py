"""The one-line status bar: what the list shows (folder, order, search), the last notice or
error, and each account's connection state and sync progress."""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass
from enum import Enum

from rich.style import Style
from rich.text import Text
from textual.timer import Timer
from textual.widget import Widget

from mailbag.domain.models import ConnectionState
from mailbag.domain.sanitize import clean_line
from mailbag.ui.keymap import key_label

_BUSY = {ConnectionState.CONNECTING, ConnectionState.SYNCING}
_STATE_STYLE = {
    ConnectionState.ONLINE: "status-bar--ok",
    ConnectionState.ERROR: "status-bar--error",
    ConnectionState.OFFLINE: "status-bar--muted",
}
#: Each state as one sign, where the states shrink to make room for a message.
_SIGN = {
    ConnectionState.ONLINE: "✓",
    ConnectionState.CONNECTING: "↻",
    ConnectionState.SYNCING: "↻",
    ConnectionState.OFFLINE: "○",
    ConnectionState.ERROR: "✗",
}
#: How long a notice (an action taken, new mail) stays, and an error, in seconds; a connection
#: problem also shows in the account's state, which stays until it changes.
NOTICE_SECONDS = 10.0
ERROR_SECONDS = 30.0
#: A connection error's detail is cut to this many characters: the states must fit.
DETAIL_WIDTH = 30
#: ... and, when the notice needs the room, down to this many.
MIN_DETAIL_WIDTH = 16
#: How many of the errors and notices told last "Status in full" lists.
HISTORY = 30


@dataclass
class Told:
    """An error or notice the line told: when (first, and last), what, and how many times in a
    row."""

    first: float
    last: float
    text: str
    times: int = 1

    def line(self) -> str:
        """``14:02:11 error: ...``, with ``(3 times, last at 14:05:11)`` after one told again."""
        said = f"{_clock(self.first)} {self.text}"
        return said if self.times == 1 else f"{said} ({self.times} times, last at {_clock(self.last)})"


def _clock(when: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(when))


class Form(Enum):
    """How much of the account states is said: all, a short form, a sign each, the one account
    not online named beside the count of those online, a count of each sign."""

    FULL = "full"
    SHORT = "short"
    SIGN = "sign"
    NAMED = "named"
    COUNT = "count"


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
        self._fetch_offline: set[str] = set()  # accounts whose (POP3) server cannot be reached
        self.sign_in: list[str] = []  # of those, the ones an OAuth2 sign-in may fix
        self._plaintext: dict[str, tuple[str, ...]] = {}  # accounts with a server reached without TLS
        self._progress: dict[str, tuple[str, int, int]] = {}
        self.last_error = ""
        self._error_retry = False
        self.notice = ""
        self.view = ""
        self.outbox = ""  # "2 to send · 1 held": kept whole, beside the connection states
        self._expiry: Timer | None = None
        #: The last error or notice, whole, kept after the line has let it go (see :meth:`in_full`).
        self.last_told = ""
        #: The errors and notices told, the last at the end (see :meth:`in_full`).
        self.told: deque[Told] = deque(maxlen=HISTORY)

    def set_connection(
        self, account: str, state: ConnectionState, detail: str = "", *, waiting_for_user: bool = False,
        plaintext: tuple[str, ...] = (), sign_in: bool = False, fetch_offline: bool = False,
    ) -> None:
        """``waiting_for_user``: the login was refused and nothing is tried until a retry;
        ``plaintext``: the account's tables whose server is reached without TLS; ``sign_in``:
        the refused login wants the account's OAuth2 sign-in; ``fetch_offline``: the server it
        fetches its mail from (POP3) cannot be reached, shown as offline (with ``detail``)."""
        self._states[account] = (state, clean_line(detail))
        if fetch_offline:
            self._fetch_offline.add(account)
        else:
            self._fetch_offline.discard(account)
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

    def state(self, account: str) -> ConnectionState | None:
        """``account``'s connection state as last told (None before the first word of it)."""
        known = self._states.get(account)
        return known[0] if known is not None else None

    def refused(self, account: str) -> bool:
        """Whether ``account``'s login was refused and it waits for a retry or a sign-in."""
        return account in self._refused

    def set_progress(self, account: str, folder: str, done: int, total: int) -> None:
        """A sync of ``account``'s ``folder`` is ``done`` of ``total`` messages far (an empty
        folder's 0 of 0 is done too)."""
        if done >= total:
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
        self._tell(f"error: {self.last_error}")
        self._expire_in(ERROR_SECONDS)
        self.refresh()

    def set_notice(self, message: str) -> None:
        """A passing message (an action taken, new mail); replaces the last error, and goes after
        ``NOTICE_SECONDS``."""
        self.notice = clean_line(message)
        self.last_error = ""
        self._tell(self.notice)
        self._expire_in(NOTICE_SECONDS)
        self.refresh()

    def _tell(self, text: str) -> None:
        """Keep ``text`` as the last told, and in the history: one told again in a row counts,
        and what comes after a word of work begun (``Moving 3 messages…``) takes its place."""
        self.last_told = text
        now = time.time()
        last = self.told[-1] if self.told else None
        if last is not None and last.text == text:
            last.times += 1
            last.last = now
            return
        if last is not None and last.times == 1 and last.text.endswith("…"):
            self.told.pop()
        self.told.append(Told(now, now, text))

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
        connection states and "? help" after them. A notice or an error is read whole when it can
        be: the states shrink for it first (a connection error's detail, then a short form, a sign
        per account, the one account not online named beside a count, a count of each sign), and
        only then is the message cut (beside the named form, when there is one)."""
        states = self._states_text()
        message = self._message_text()
        room = self.size.width - states.cell_len
        told = bool(self.last_error or self.notice)
        if room < 0 or (told and room < message.cell_len):
            if told:
                message = self._message_text(with_view=False)
            wanted = message.cell_len if told else 0  # without a message, the states must fit
            shrunk = max(DETAIL_WIDTH - (wanted - room), MIN_DETAIL_WIDTH)
            for form in Form:
                if room >= wanted:
                    break
                states = self._states_text(form, shrunk)
                room = self.size.width - states.cell_len
            if room < wanted:  # cut all the same: the account down is named, if one is
                states = self._states_text(Form.NAMED, shrunk)
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
            text.append(label + self.last_error, style=self._style("status-bar--error"))
            text.append(" │")
        elif self.notice:
            text.append(" " + self.notice + " │")
        return text

    def _states_text(self, form: Form = Form.FULL, detail_width: int = DETAIL_WIDTH) -> Text:
        text = Text(no_wrap=True)
        if self.outbox:
            style = "status-bar--error" if ("held" in self.outbox or "uncertain" in self.outbox) else "status-bar--busy"
            text.append(" ")
            text.append(self.outbox, style=self._style(style))
            text.append(" │")
        named = self._named_states() if form is Form.NAMED else None
        if named is not None:
            text.append(named)
            text.append(" │")
        elif form in (Form.NAMED, Form.COUNT) and self._states:
            text.append(self._counted_states())
            text.append(" │")
        else:
            for account in self._states:
                text.append(self._account_text(account, form, detail_width))
                text.append(" │")
        text.append(" ? help", style=self._style("status-bar--muted"))
        return text

    def _style(self, component: str) -> Style:
        return self.get_component_rich_style(component, partial=True)

    def in_full(self) -> str:
        """What the line says and may have cut, whole, one thing a line: the last error or
        notice (also once the line has let it go), each account's state with its detail, what
        waits in the outbox, and the errors and notices told before the last, newest first,
        each with its time (an error a notice took the place of is read there)."""
        lines = [f"Last: {self.last_told}" if self.last_told else "Nothing told yet"]
        for account, (_state, detail) in self._states.items():
            state = self._shown_state(account).value
            if account in self._refused:
                state = "login refused"
            if account in self._progress:
                folder, done, total = self._progress[account]
                detail = f"{folder} {done}/{total}"
            lines.append(f"{clean_line(account)}: {state}" + (f" ({detail})" if detail else ""))
        if self.outbox:
            lines.append(f"Outbox: {self.outbox}")
        if self.told:
            lines += ["", "Told lately, newest first:"]
            lines += [told.line() for told in reversed(self.told)]
        return "\n".join(lines)

    async def on_click(self) -> None:
        """A click on the line shows it whole (see :meth:`in_full`)."""
        await self.app.run_action("status_in_full")

    def _account_text(self, account: str, form: Form, detail_width: int) -> Text:
        """One account's state: `` work no TLS (smtp) online`` in full, `` work no TLS online``
        short, `` work ⚠✓`` as a sign. A refused login names its key in every form."""
        state, detail = self._shown_state(account), self._states[account][1]
        style = self._style(_STATE_STYLE.get(state, "status-bar--busy"))
        text = Text(" ")
        text.append(clean_line(account), style="bold")
        text.append(" ")
        if self._plaintext.get(account):
            tables = ", ".join(self._plaintext[account])
            plaintext = {Form.FULL: f"no TLS ({tables}) ", Form.SHORT: "no TLS "}.get(form, "⚠")
            text.append(plaintext, style=self._style("status-bar--error"))
        if account in self._refused:
            key = self._retry_key("sign_in" if account in self.sign_in else "retry")
            if form is Form.FULL:
                what = "sign in" if account in self.sign_in else "retry"
                text.append(f"login refused ({key} to {what})", style=style)
            else:
                text.append(f"refused ({key})", style=style)
            return text
        if form is not Form.FULL:
            text.append(state.value if form is Form.SHORT else _SIGN[state], style=style)
            return text
        text.append(state.value, style=style)
        if account in self._progress:
            folder, done, total = self._progress[account]
            text.append(f" {folder} {done}/{total}")
        elif detail and state in (ConnectionState.ERROR, ConnectionState.OFFLINE):
            cut = detail if len(detail) <= detail_width else detail[: detail_width - 1] + "…"
            text.append(f" ({cut})")
        return text

    def _shown_state(self, account: str) -> ConnectionState:
        """The account's state as shown: a refused login is an error, a server out of reach
        offline, also where the account's local mail is served all the same (a POP3 account's)."""
        state = self._states[account][0]
        if account in self._refused:
            return ConnectionState.ERROR
        return ConnectionState.OFFLINE if account in self._fetch_offline else state

    def _named_states(self) -> Text | None:
        """Of several accounts, the one not online by name, after the count of those that are:
        `` 1✓ work ○``, `` 2✓ work refused ($)``; None unless exactly one is not online."""
        down = [a for a in self._states if self._shown_state(a) != ConnectionState.ONLINE]
        if len(self._states) < 2 or len(down) != 1:
            return None
        account = down[0]
        text = Text()
        if any(tables for a, tables in self._plaintext.items() if a != account):
            text.append(" ⚠", style=self._style("status-bar--error"))
        text.append(f" {len(self._states) - 1}✓", style=self._style("status-bar--ok"))
        return text + self._account_text(account, Form.SIGN, 0)  # its own ⚠ said there

    def _counted_states(self) -> Text:
        """Every account at once: `` ⚠ 2✓ 1✗``, a refused login's key after it: `` 1✗ refused ($)``."""
        text = Text()
        if any(self._plaintext.values()):
            text.append(" ⚠", style=self._style("status-bar--error"))
        counts = Counter(self._shown_state(account) for account in self._states)
        for state in ConnectionState:
            if counts[state]:
                text.append(f" {counts[state]}{_SIGN[state]}", style=self._style(_STATE_STYLE.get(state, "status-bar--busy")))
        if self._refused:
            keys = {self._retry_key("sign_in" if a in self.sign_in else "retry") for a in self._refused}
            text.append(f" refused ({', '.join(sorted(keys))})", style=self._style("status-bar--error"))
        return text
