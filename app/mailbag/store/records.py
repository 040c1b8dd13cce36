"""Rows of the LOCAL tables, as the service layer sees them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mailbag.domain.models import MarkWhenSent


@dataclass(frozen=True, slots=True)
class PendingAction:
    """One journalled triage action, waiting to be replayed to the server."""

    id: int
    account: str
    folder: str
    uids: tuple[int, ...]
    action: str
    args: dict[str, Any] = field(default_factory=dict)
    created: float = 0.0
    state: str = "pending"
    attempts: int = 0  # times it was sent without an answer seen
    last_error: str = ""


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One message in the outbox: its RFC 5322 bytes (as sent: no Bcc), the envelope, and where
    its sending and its copy for the Sent folder stand."""

    id: int
    account: str
    raw: bytes
    state: str = "queued"
    attempts: int = 0
    last_error: str = ""
    created: float = 0.0
    sender: str = ""
    recipients: tuple[str, ...] = ()
    subject: str = ""
    send_at: float | None = None
    #: Not tried again before this time (backoff after a temporary failure).
    next_attempt: float = 0.0
    copy: str = ""  # "owed": sent, its copy for the Sent folder not stored yet
    mark: MarkWhenSent | None = None  # the message to flag once this one is sent


@dataclass(frozen=True, slots=True)
class PendingOverlay:
    """What the journal still owes the server for one folder, laid over what a sync reads there:
    flag changes per uid (in journal order) and the uids a pending move or expunge hides."""

    flag_changes: tuple[tuple[frozenset[int], frozenset[str], frozenset[str]], ...] = ()
    hidden: frozenset[int] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.flag_changes or self.hidden)

    def flags(self, uid: int, server_flags: frozenset[str]) -> frozenset[str]:
        """``server_flags`` with the user's pending changes of ``uid`` applied on top."""
        flags = server_flags
        for uids, add, remove in self.flag_changes:
            if uid in uids:
                flags = (flags | add) - remove
        return flags


@dataclass(frozen=True, slots=True)
class Pop3Download:
    """A message a POP3 account has downloaded: its UIDL, its file's Maildir key, whether it is
    stored or was being written, when it was stored, when the server removed it (None: not), a
    digest of its bytes ("": recorded by a mailbag before digests were kept), its size in the
    server's listing (0: not known), and whether the server listed it again after it said it
    removed it (``relisted``: it keeps it)."""

    uidl: str
    key: str
    state: str
    downloaded: float
    deleted: float | None = None
    digest: str = ""
    size: int = 0
    relisted: bool = False


@dataclass(frozen=True, slots=True)
class FolderChange:
    """A folder change sent to the server: ``folder`` renamed to ``new_name``, deleted
    (``new_name`` None) or, with ``folder`` empty, ``new_name`` made. Once written down in the
    local store, its ``id`` there and the ``pid`` of the process that sent it."""

    folder: str
    new_name: str | None
    id: int = 0
    pid: int = 0
