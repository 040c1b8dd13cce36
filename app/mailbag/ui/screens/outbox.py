"""The Outbox: every message waiting to be sent, being sent, held or uncertain, with its state and
the server's reason; send one now, edit it in the compose screen, or take it out of the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from mailbag.domain.compose import Draft, draft_from_message, format_addresses, split_addresses
from mailbag.domain.models import Address, OutgoingMessage, OutgoingState
from mailbag.domain.requests import CancelOutgoing, SendOutgoingNow
from mailbag.domain.sanitize import clean_line
from mailbag.services.api import MailFacade
from mailbag.ui.keymap import BY_ID, bindings, display_keys, effective_keys
from mailbag.ui.messages import ComposeRequested
from mailbag.ui.widgets.vi_list import ViOptionList

#: How each state reads in the list.
STATE_WORDS = {
    OutgoingState.QUEUED: "waiting",
    OutgoingState.SENDING: "sending",
    OutgoingState.SENT: "sent, copy to Sent waiting",
    OutgoingState.HELD: "held",
    OutgoingState.UNCERTAIN: "uncertain",
}
_STATE_STYLES = {
    OutgoingState.QUEUED: "",
    OutgoingState.SENDING: "italic",
    OutgoingState.SENT: "dim",
    OutgoingState.HELD: "bold red",
    OutgoingState.UNCERTAIN: "bold yellow",
}


def outbox_counts(messages: Sequence[OutgoingMessage]) -> str:
    """The status bar's words for the outbox: ``2 to send · 1 held`` ("" when nothing waits)."""
    to_send = sum(1 for m in messages if m.state in (OutgoingState.QUEUED, OutgoingState.SENDING))
    parts = [f"{to_send} to send"] if to_send else []
    for state in (OutgoingState.HELD, OutgoingState.UNCERTAIN):
        count = sum(1 for m in messages if m.state == state)
        if count:
            parts.append(f"{count} {state.value}")
    return " · ".join(parts)


def message_line(message: OutgoingMessage, now: datetime | None = None) -> Text:
    """One message of the list: state, recipients and subject; the reason on a second line."""
    text = Text(no_wrap=False)
    words = STATE_WORDS[message.state]
    if message.state == OutgoingState.QUEUED and message.send_at:
        when = datetime.fromtimestamp(message.send_at).astimezone()
        words = f"send at {when:%Y-%m-%d %H:%M}"
    text.append(f"{words:<12}", style=_STATE_STYLES[message.state])
    text.append(" ")
    text.append(clean_line(", ".join(message.recipients)) or "(no recipient)", style="bold")
    text.append("  ")
    text.append(clean_line(message.subject) or "(no subject)")
    if message.reason:
        text.append("\n    ")
        text.append(clean_line(message.reason), style="dim")
    return text


class OutboxScreen(Screen[None]):
    """The outbox's messages; its keys send one now, edit one or take it out."""

    BINDINGS = bindings("outbox")

    DEFAULT_CSS = """
    OutboxScreen #outbox-title { height: 1; background: $panel; text-style: bold; padding: 0 1; }
    OutboxScreen #outbox-list { height: 1fr; border: none; }
    OutboxScreen #outbox-help { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, facade: MailFacade, keymap: dict[str, str] | None = None) -> None:
        super().__init__()
        self.facade = facade
        self.keymap = keymap or {}
        self.messages: tuple[OutgoingMessage, ...] = ()
        self._asked: set[int] = set()  # requests this screen sent, whose failure it tells

    def compose(self) -> ComposeResult:
        yield Static("Outbox", id="outbox-title")
        yield ViOptionList(id="outbox-list")
        yield Static(self._help(), id="outbox-help")

    def _help(self) -> Text:
        keys = [
            (display_keys(effective_keys(BY_ID[binding], self.keymap)), words)
            for binding, words in (("outbox_send", "send now"), ("outbox_edit", "edit"), ("outbox_cancel", "take out"), ("outbox_close", "back"))
        ]
        return Text("  ".join(f"{k} {w}" for k, w in keys))

    def on_mount(self) -> None:
        self.show(tuple(self.facade.outbox_messages()))
        self.query_one(OptionList).focus()

    def show(self, messages: Sequence[OutgoingMessage]) -> None:
        """List ``messages``, keeping the cursor on the same message when it is still there."""
        listing = self.query_one(OptionList)
        current = self._current()
        self.messages = tuple(messages)
        listing.clear_options()
        listing.add_options([Option(message_line(m), id=str(m.id)) for m in self.messages])
        title = f"Outbox: {outbox_counts(self.messages)}" if self.messages else "Outbox: nothing waits"
        self.query_one("#outbox-title", Static).update(Text(title))
        ids = [m.id for m in self.messages]
        if current is not None and current.id in ids:
            listing.highlighted = ids.index(current.id)
        elif ids:
            listing.highlighted = 0

    def tell(self, text: str) -> None:
        """A line under the list (a refusal, what was done)."""
        self.query_one("#outbox-help", Static).update(Text(clean_line(text)))

    def answered(self, request_id: int, error: str) -> bool:
        """A request of this screen failed: say why; False when it was not one of ours."""
        if request_id not in self._asked:
            return False
        self._asked.discard(request_id)
        self.tell(error)
        return True

    def _current(self) -> OutgoingMessage | None:
        listing = self.query_one(OptionList)
        index = listing.highlighted
        if index is None or not 0 <= index < len(self.messages):
            return None
        return self.messages[index]

    def action_send_now(self) -> None:
        message = self._current()
        if message is not None:
            request = SendOutgoingNow(account=message.account, outbox_id=message.id)
            self._asked.add(request.request_id)
            self.facade.submit(request)
            self.tell(f"Sending “{clean_line(message.subject)}” now")

    def action_edit_outgoing(self) -> None:
        """Open the message in the compose screen; it leaves the outbox once the compose screen
        holds it (sending it from there queues it again)."""
        message = self._current()
        if message is None:
            return
        if message.state in (OutgoingState.SENDING, OutgoingState.SENT):
            self.tell(f"“{clean_line(message.subject)}” is being sent; it cannot be edited now")
            return
        self._edit(message)

    @work(thread=True, exclusive=True, group="outbox-edit")
    def _edit(self, message: OutgoingMessage) -> None:
        outgoing = self.facade.outgoing(message.id)
        if outgoing is None:
            self.app.call_from_thread(self.tell, "That message is no longer in the outbox")
            return
        self.app.call_from_thread(self._open, message, outgoing_draft(*outgoing, message.account))

    def _open(self, message: OutgoingMessage, draft: Draft) -> None:
        def opened() -> None:
            self.facade.submit(CancelOutgoing(account=message.account, outbox_id=message.id))

        self.post_message(ComposeRequested(draft, opened))

    def action_cancel_outgoing(self) -> None:
        message = self._current()
        if message is not None:
            request = CancelOutgoing(account=message.account, outbox_id=message.id)
            self._asked.add(request.request_id)
            self.facade.submit(request)
            self.tell(f"Taking “{clean_line(message.subject)}” out of the outbox")

    def action_close_outbox(self) -> None:
        self.dismiss()


def outgoing_draft(raw: bytes, recipients: Sequence[str], account: str) -> Draft:
    """A message of the outbox as a draft to edit and send anew: its Bcc recipients, which its
    bytes do not name, come back from the envelope."""
    draft = draft_from_message(raw, account)
    named = {a.email.lower() for a in split_addresses(f"{draft.to}, {draft.cc}")}
    hidden = [Address("", r) for r in dict.fromkeys(recipients) if r.lower() not in named]
    return draft.with_(message_id="", bcc=format_addresses(hidden))
