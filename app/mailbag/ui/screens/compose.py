"""The compose screen: From, To, Cc, Bcc, Subject, attachments and the body.

The body is edited in place (a TextArea) or in the user's editor (``edit_body``). The draft is
saved on this machine every few seconds while it changes, and to the account's Drafts folder
now and then and when the screen closes; ``send`` builds the message off the UI's loop and
hands it to the outbox (``SendMessage``), closing once it is queued. Reading and building never
run on the UI's loop: attachments may be large.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import partial
from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from mailbag.domain.compose import Draft, DraftAttachment, send_time, split_addresses, swap_signature
from mailbag.domain.events import (
    Event,
    RequestCancelled,
    RequestDone,
    RequestFailed,
    RequestUnsupported,
)
from mailbag.domain.models import ANSWERED, Address, MarkWhenSent
from mailbag.domain.outgoing import ComposeError, build_message, content_type_of, new_message_id
from mailbag.domain.requests import SaveDraft, SendMessage
from mailbag.domain.sanitize import clean_line
from mailbag.services.address_query import query_addresses
from mailbag.services.api import MailFacade
from mailbag.ui.completion import AddressBook, AddressSuggester, FieldInput, PathSuggester
from mailbag.ui.editor import EditorFailed, edit_text, editor_command
from mailbag.domain.wording import human_size
from mailbag.ui.keymap import bindings
from mailbag.ui.messages import DraftClosed
from mailbag.ui.screens.dialogs import close_draft_dialog

#: How often a changed draft is written to disk.
AUTOSAVE_SECONDS = 3.0
#: How often a changed draft is stored in the Drafts folder (and always when the screen closes).
SERVER_SAVE_SECONDS = 60.0

_ADDRESS_FIELDS = ("to", "cc", "bcc")


def writing_line(body: str) -> int:
    """The line to start writing on: the one above the signature (a blank line below a quote),
    else the last."""
    lines = body.split("\n")
    end = lines.index("-- ") if "-- " in lines else len(lines)
    return max(end - 1, 0)


class ComposeScreen(Screen["str | None"]):
    """Writes one message. ``draft`` is where it starts (new, a reply, a forward, a resumed
    draft); the account it is sent from is ``draft.account``. Dismissed with a line for the
    status bar (what became of the message), or None."""

    CSS_PATH = "compose.tcss"
    BINDINGS = bindings("compose")

    def __init__(
        self,
        facade: MailFacade,
        draft: Draft,
        *,
        editor: str = "",
        now: Callable[[], datetime],
        address_command: str = "",
    ) -> None:
        super().__init__()
        if not draft.message_id:
            draft = draft.with_(message_id=new_message_id(draft.from_))
        self.facade = facade
        self._draft = draft
        self._editor = editor
        self._now = now
        self._sizes: dict[int, int] = {}  # id(attachment) -> bytes
        self._saved_locally: Draft | None = None
        self._saved_on_server: Draft | None = None
        self._server_saved_at = time.monotonic()
        self._send_request: int | None = None
        self._send_at: datetime | None = None  # the time asked with send_later
        query = partial(query_addresses, address_command) if address_command else None
        self._addresses = AddressSuggester(query)
        self._identities = AddressSuggester()  # From: the accounts' own addresses
        self._identities.book = AddressBook(
            [Address(i.name, i.email) for i in map(facade.identity, facade.accounts)]
        )

    # --- layout ----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        draft = self._draft
        with Vertical(id="compose-headers"):
            for name, label, value in (
                ("from", "From", draft.from_),
                ("to", "To", draft.to),
                ("cc", "Cc", draft.cc),
                ("bcc", "Bcc", draft.bcc),
                ("subject", "Subject", draft.subject),
            ):
                with Horizontal(classes="compose-field"):
                    yield Label(label, classes="compose-label")
                    suggester = self._addresses if name in _ADDRESS_FIELDS else None
                    if name == "from":
                        suggester = self._identities
                    yield FieldInput(value, id=f"compose-{name}", suggester=suggester)
            yield OptionList(id="compose-attachments")
        yield TextArea(draft.body, id="compose-body", soft_wrap=True, tab_behavior="focus")
        with Horizontal(id="compose-attach-row", classes="compose-prompt"):
            yield Label("Attach", classes="compose-label")
            yield FieldInput(id="compose-attach", placeholder="path of the file (Tab completes)",
                             suggester=PathSuggester())
        with Horizontal(id="compose-when-row", classes="compose-prompt"):
            yield Label("Send at", classes="compose-label")
            yield FieldInput(id="compose-when", placeholder="+30m, +2h, +1d, 14:30 or 2026-12-24 09:00")
        yield Static(id="compose-status")

    def on_mount(self) -> None:
        self._show_attachments()
        self._hint()
        first = "compose-to" if not self._draft.to else "compose-body"
        self.query_one(f"#{first}").focus()
        # Where writing starts, also when the recipients come first (a forward): Tab to the body
        # lands below the quote, not in the attribution line. A body with nothing written above
        # its signature (a new message) is written from its top.
        line = writing_line(self._draft.body)
        if first == "compose-body" or any(text.strip() for text in self._draft.body.split("\n")[:line]):
            self.query_one(TextArea).move_cursor((line, 0))
        self.set_interval(AUTOSAVE_SECONDS, self._autosave)
        self._load_addresses()
        self._measure_attachments()

    @work(thread=True, exclusive=True, group="compose-addresses")
    def _load_addresses(self) -> None:
        self._addresses.book = AddressBook(self.facade.known_addresses())

    # --- the draft ---------------------------------------------------------------------------------

    @property
    def draft(self) -> Draft:
        """The draft as it stands on screen."""
        values = {name: self.query_one(f"#compose-{name}", Input).value for name in
                  ("to", "cc", "bcc", "subject")}
        return self._draft.with_(
            from_=self.query_one("#compose-from", Input).value,
            body=self.query_one(TextArea).text,
            **values,
        )

    def _set_body(self, text: str) -> None:
        self.query_one(TextArea).load_text(text)

    def _hint(self, text: str = "", *, error: bool = False) -> None:
        line = Text(clean_line(text), style="bold red" if error else "")
        if not text:
            choose = "  ^N from" if len(self.facade.accounts) > 1 else ""
            line = Text(f"^S send  ^L later  ^O editor  ^T attach{choose}  Esc close", style="dim")
        self.query_one("#compose-status", Static).update(line)

    # --- the From address --------------------------------------------------------------------------

    def action_next_from(self) -> None:
        """From: the next account's address, in the order of the configuration (as aerc's and
        mutt's From pickers offer the user's own addresses); that account sends the message, and
        its signature replaces the one before."""
        identities = [self.facade.identity(account) for account in self.facade.accounts]
        if len(identities) < 2:
            self._hint("One account: From has no other address to take")
            return
        field = self.query_one("#compose-from", Input)
        found = split_addresses(field.value)
        shown = found[0].email.lower() if found else ""
        now = next((i for i, identity in enumerate(identities) if identity.email.lower() == shown), -1)
        old, new = identities[now] if now >= 0 else None, identities[(now + 1) % len(identities)]
        field.value = new.from_text
        if old is not None:
            self._set_body(swap_signature(self.query_one(TextArea).text, old, new))
        self._hint(f"From {new.email}: sent through {new.account}")

    # --- attachments ---------------------------------------------------------------------------------

    def _show_attachments(self) -> None:
        listing = self.query_one("#compose-attachments", OptionList)
        listing.clear_options()
        for index, attachment in enumerate(self._draft.attachments):
            size = self._sizes.get(index)
            shown = human_size(size) if size is not None else "…"
            text = Text(f"{clean_line(attachment.name)}  {content_type_of(attachment)}  {shown}")
            listing.add_option(Option(text, id=str(index)))
        listing.display = bool(self._draft.attachments)

    @work(thread=True, exclusive=True, group="compose-sizes")
    def _measure_attachments(self) -> None:
        sizes = {}
        for index, attachment in enumerate(self._draft.attachments):
            if attachment.data is not None:
                sizes[index] = len(attachment.data)
            else:
                try:
                    sizes[index] = os.stat(attachment.path).st_size
                except OSError:
                    continue
        self.app.call_from_thread(self._sizes_known, sizes)

    def _sizes_known(self, sizes: dict[int, int]) -> None:
        self._sizes = sizes
        self._show_attachments()

    def action_attach(self) -> None:
        self._close_prompts()
        self.query_one("#compose-attach-row").display = True
        self.query_one("#compose-attach", Input).focus()

    def _close_prompts(self) -> bool:
        """Hide the attach and send-later fields; True when one was open."""
        was_open = False
        for row in self.query(".compose-prompt"):
            was_open = was_open or bool(row.display)
            row.display = False
        return was_open

    @on(Input.Submitted, "#compose-attach")
    def _attach_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        path = event.value.strip()
        if path:
            self._add_attachment(path)

    @work(thread=True, exclusive=True, group="compose-attach")
    def _add_attachment(self, typed: str) -> None:
        path = Path(typed).expanduser().absolute()
        problem = ""
        try:
            info = path.stat()
        except OSError as exc:
            problem = str(exc.strerror or exc)
        else:
            if not path.is_file():
                problem = "not a file"
            elif not os.access(path, os.R_OK):
                problem = "cannot be read"
        if problem:
            self.app.call_from_thread(self._hint, f"{path.name}: {problem}", error=True)
            return
        self.app.call_from_thread(self._attached, DraftAttachment(path=str(path)), info.st_size)

    def _attached(self, attachment: DraftAttachment, size: int) -> None:
        self._draft = self.draft.with_(attachments=(*self._draft.attachments, attachment))
        self._sizes[len(self._draft.attachments) - 1] = size
        field = self.query_one("#compose-attach", Input)
        field.value = ""
        self.query_one("#compose-attach-row").display = False
        self._show_attachments()
        self._hint(f"Attached {attachment.name} ({human_size(size)})")
        self.query_one(TextArea).focus()

    def action_detach(self) -> None:
        listing = self.query_one("#compose-attachments", OptionList)
        if self.focused is not listing or listing.highlighted is None:
            return
        index = listing.highlighted
        attachments = list(self._draft.attachments)
        removed = attachments.pop(index)
        self._draft = self.draft.with_(attachments=tuple(attachments))
        self._sizes = {i if i < index else i - 1: s for i, s in self._sizes.items() if i != index}
        self._show_attachments()
        self._hint(f"Removed {removed.name}")
        if attachments:
            listing.highlighted = min(index, len(attachments) - 1)
        else:
            self.query_one(TextArea).focus()

    # --- the editor ------------------------------------------------------------------------------------

    def action_edit_body(self) -> None:
        try:
            text = edit_text(self.app, self.query_one(TextArea).text, editor_command(self._editor))
        except EditorFailed as exc:
            self._hint(str(exc), error=True)
            return
        self._set_body(text)
        self._hint("Body taken from the editor")

    # --- saving ----------------------------------------------------------------------------------------

    def _autosave(self) -> None:
        draft = self.draft
        if draft != self._saved_locally and not (draft.is_empty() and self._saved_locally is None):
            self._save_locally(draft)
        elif (
            draft != self._saved_on_server
            and self._saved_locally == draft
            and time.monotonic() - self._server_saved_at > SERVER_SAVE_SECONDS
        ):
            self._save_on_server(draft)

    @work(thread=True, group="compose-save")
    def _save_locally(self, draft: Draft) -> None:
        try:
            if self.facade.drafts.save(draft):
                self._saved_locally = draft
        except OSError as exc:
            self.app.call_from_thread(self._hint, f"the draft could not be saved: {exc}", error=True)

    def save_now(self) -> None:
        """Write the draft to disk at once (the app is about to end: a hang-up, SIGTERM)."""
        draft = self.draft
        if draft != self._saved_locally and not draft.is_empty():
            self.facade.drafts.save(draft)
            self._saved_locally = draft

    @work(thread=True, group="compose-save")
    def _save_on_server(self, draft: Draft) -> None:
        self._server_saved_at = time.monotonic()
        try:
            raw = build_message(draft, now=self._now(), for_sending=False).message
        except (ComposeError, OSError):
            return  # not yet a message (a half-typed address): the copy on disk is enough
        self.facade.submit(SaveDraft(account=draft.account, message_id=draft.message_id, raw=raw))
        self._saved_on_server = draft

    # --- sending ---------------------------------------------------------------------------------------

    def action_send(self) -> None:
        if self._send_request is not None:
            return
        self._hint("Sending…")
        self._build_and_send(self.draft, None)

    def action_send_later(self) -> None:
        self._close_prompts()
        self.query_one("#compose-when-row").display = True
        self.query_one("#compose-when", Input).focus()

    @on(Input.Submitted, "#compose-when")
    def _when_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            when = send_time(event.value, self._now())
        except ValueError as exc:
            self._hint(str(exc), error=True)
            return
        if self._send_request is None:
            self._hint(f"Queueing it for {when:%a %d %b %H:%M}…")
            self._build_and_send(self.draft, when)

    @work(thread=True, exclusive=True, group="compose-send")
    def _build_and_send(self, draft: Draft, when: datetime | None) -> None:
        try:
            out = build_message(draft, now=self._now())
        except ComposeError as exc:
            self.app.call_from_thread(self._refused, exc.field, exc.problem)
            return
        except OSError as exc:
            self.app.call_from_thread(self._hint, f"attachment: {exc.strerror or exc}", error=True)
            return
        draft = draft.with_(account=self._account_for(draft), mark=self._mark_for(draft))
        self.facade.drafts.save(draft)  # kept until the outbox has it
        request = SendMessage(
            account=draft.account,
            message=out.message,
            recipients=out.recipients,
            send_at=None if when is None else when.timestamp(),
            mark=draft.mark,
        )
        self._send_request = request.request_id
        self._send_at = when
        self.facade.submit(request)

    def _mark_for(self, draft: Draft) -> MarkWhenSent | None:
        """What the sent message flags: the draft's mark, else (a reply resumed from the Drafts
        folder, whose copy there cannot hold it) the message it answers, found by its Message-ID
        in the account it was started from. Runs in a thread."""
        if draft.mark is not None or not draft.in_reply_to:
            return draft.mark
        found = self.facade.message_with_id(draft.account, draft.in_reply_to)
        return None if found is None else MarkWhenSent(draft.account, found[0], found[1], ANSWERED)

    def _account_for(self, draft: Draft) -> str:
        """The account whose address the From field holds (its server sends the message), else
        the one the draft was started from."""
        found = split_addresses(draft.from_)
        if found:
            for account in self.facade.accounts:
                if self.facade.identity(account).email.lower() == found[0].email.lower():
                    return account
        return draft.account

    def _refused(self, field: str, problem: str) -> None:
        self._hint(f"{field}: {problem}", error=True)
        target = {"From": "from", "To": "to", "Cc": "cc", "Bcc": "bcc", "Subject": "subject"}.get(field)
        if target:
            self.query_one(f"#compose-{target}").focus()

    def apply_event(self, event: Event) -> None:
        """A service event: the answer to the send, when it is for this screen."""
        if self._send_request is None or getattr(event, "request_id", None) != self._send_request:
            return
        if isinstance(event, RequestDone):
            self._sent()
        elif isinstance(event, (RequestFailed, RequestUnsupported, RequestCancelled)):
            self._send_request = None
            reason = getattr(event, "error", "") or getattr(event, "reason", "") or "cancelled"
            self._hint(f"Not sent: {reason}", error=True)

    def _sent(self) -> None:
        draft = self.draft
        self._forget(draft)
        if self._send_at is not None:
            self.dismiss(f"Message queued to be sent {self._send_at:%a %d %b %H:%M}")
        else:
            self.dismiss("Message queued for sending")

    def _forget(self, draft: Draft) -> None:
        """The message is in the outbox (or discarded): no draft of it stays anywhere."""
        self.app.post_message(DraftClosed(draft, keep=False))

    # --- closing ---------------------------------------------------------------------------------------

    def action_close_compose(self) -> None:
        if self._close_prompts():
            self.query_one(TextArea).focus()
            return
        draft = self.draft
        if draft.is_empty() and (self._saved_locally is None or self._saved_locally.is_empty()):
            self._forget(draft)
            self.dismiss(None)
            return
        self.app.push_screen(close_draft_dialog(draft.is_empty()), self._close_answered)

    def _close_answered(self, choice: str | None) -> None:
        draft = self.draft
        if choice == "keep":
            self.app.post_message(DraftClosed(draft, keep=True))
            self.dismiss("Draft kept")
        elif choice == "discard":
            self._forget(draft)
            self.dismiss("Draft discarded")
