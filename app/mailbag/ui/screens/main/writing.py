"""Writing from the main screen: a new message, replies, forwards, and drafts to resume.

A reply or forward needs the whole message: it is read from the cache in a thread, and when its
body is not cached yet it is fetched first and the compose screen opens once it has come.
"""

from __future__ import annotations

from typing import Literal

from textual import work

from mailbag.domain.compose import (
    Draft,
    draft_from_message,
    forward_attached,
    forward_inline,
    new_draft,
    read_original,
    reply,
)
from mailbag.domain.models import ANSWERED, FORWARDED, FolderRole, MarkWhenSent, MessageRow
from mailbag.domain.requests import LoadBody
from mailbag.ui.messages import ComposeRequested
from mailbag.ui.screens.main.base import MainScreenBase, MessageKey

Answer = Literal["sender", "all", "list", "forward", "attached", "draft"]


class WritingControl(MainScreenBase):
    """The keys that open the compose screen."""

    _answer_waiting: tuple[MessageKey, Answer] | None = None

    def _account_in_view(self) -> str:
        if self._open is not None and not self._open.virtual:
            return self._open.account
        row = self.message_list.current_row
        return row.account if row is not None else self.facade.accounts[0]

    def action_compose(self) -> None:
        self.post_message(ComposeRequested(new_draft(self.facade.identity(self._account_in_view()))))

    def action_reply(self) -> None:
        self._answer("sender")

    def action_reply_all(self) -> None:
        self._answer("all")

    def action_reply_list(self) -> None:
        self._answer("list")

    def action_forward(self) -> None:
        self._answer("forward")

    def action_forward_attached(self) -> None:
        self._answer("attached")

    def action_edit_draft(self) -> None:
        self._answer("draft")

    def _answer(self, how: Answer) -> None:
        row = self.message_list.current_row
        if row is None:
            self.status.set_error("No message under the cursor")
            return
        self._answer_row(row, how)

    @work(thread=True, exclusive=True, group="answer")
    def _answer_row(self, row: MessageRow, how: Answer) -> None:
        raw = self.facade.raw_message(row.account, row.folder, row.uid)
        if raw is None:
            self.app.call_from_thread(self._fetch_first, row, how)
            return
        notice, draft = self._draft_for(row, raw, how)
        self.app.call_from_thread(self._open_draft, draft, notice)

    def _draft_for(self, row: MessageRow, raw: bytes, how: Answer) -> tuple[str, Draft]:
        """(a notice or "", the draft) answering ``raw``. Runs in a thread."""
        identity = self.facade.identity(row.account)
        if how == "draft":
            draft = draft_from_message(raw, row.account)
            in_drafts = any(
                f.name == row.folder and f.role == FolderRole.DRAFTS for f in self.facade.folders(row.account)
            )
            if in_drafts:
                return "", draft
            return "", draft.with_(message_id="", from_=identity.from_text)
        original = read_original(raw)
        forwarded = MarkWhenSent(row.account, row.folder, row.uid, FORWARDED)
        if how == "forward":
            return "", forward_inline(original, identity).with_(mark=forwarded)
        if how == "attached":
            return "", forward_attached(original, identity).with_(mark=forwarded)
        own = [self.facade.identity(account).email for account in self.facade.accounts]
        answered = MarkWhenSent(row.account, row.folder, row.uid, ANSWERED)
        if how == "list" and not original.list_post:
            return "Not a mailing list message (no List-Post): replying to all", reply(
                original, identity, "all", own
            ).with_(mark=answered)
        return "", reply(original, identity, how, own).with_(mark=answered)

    def _fetch_first(self, row: MessageRow, how: Answer) -> None:
        key = (row.account, row.folder, row.uid)
        self._answer_waiting = (key, how)
        self.status.set_notice("Fetching the message…")
        request = LoadBody(account=row.account, folder=row.folder, uid=row.uid)
        self._body_requests[request.request_id] = key
        self.facade.submit(request)

    def body_arrived(self, key: MessageKey) -> None:
        """A body came: when a reply or forward waits for it, go on."""
        if self._answer_waiting is None or self._answer_waiting[0] != key:
            return
        how = self._answer_waiting[1]
        self._answer_waiting = None
        row = self.message_list.current_row
        if row is not None and (row.account, row.folder, row.uid) == key:
            self._answer_row(row, how)

    def _open_draft(self, draft: Draft, notice: str) -> None:
        if notice:
            self.status.set_notice(notice)
        self.post_message(ComposeRequested(draft))

