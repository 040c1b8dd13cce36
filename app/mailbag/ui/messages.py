"""Textual messages between the parts of the UI: service events, and asking for a compose screen."""

from __future__ import annotations

from collections.abc import Callable

from textual.message import Message

from mailbag.domain.compose import Draft
from mailbag.domain.events import Event, FolderCountsChanged, SyncProgress


class ServiceEvent(Message):
    """One event from the service layer. Progress and count events of the same folder coalesce."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        if not isinstance(message, ServiceEvent):
            return False
        new, old = self.event, message.event
        if isinstance(new, SyncProgress) and isinstance(old, SyncProgress):
            return (new.account, new.folder) == (old.account, old.folder)
        if isinstance(new, FolderCountsChanged) and isinstance(old, FolderCountsChanged):
            return (new.account, new.folder) == (old.account, old.folder)
        return False


class ComposeRequested(Message):
    """Open the compose screen on ``draft`` (a new message, a reply, a forward, a draft)."""

    def __init__(self, draft: Draft, opened: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.draft = draft
        #: Called once the compose screen holds the draft (the outbox then lets its message go).
        self.opened = opened


class DraftClosed(Message):
    """A compose screen closed: its draft is to be kept for later (``keep``), or forgotten
    (sent or discarded)."""

    def __init__(self, draft: Draft, *, keep: bool) -> None:
        super().__init__()
        self.draft = draft
        self.keep = keep
