"""What the UI may ask of the service layer: post requests, and read the cache (fast, local).

The UI never awaits the network. Reads here hit only the local cache: ``message_index`` may take a
few hundred milliseconds on a huge folder, so the UI calls it from a thread worker; ``rows`` reads
one screenful and is cheap enough to call while painting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from mailbag.domain.compose import Identity
from mailbag.domain.deadline import Deadline
from mailbag.domain.models import Address, Folder, MessageRow, OutgoingMessage, RenderedMessage
from mailbag.domain.requests import Request
from mailbag.store.drafts import DraftFiles

SortKey = Literal["date", "sender", "subject", "size"]


@dataclass(frozen=True, slots=True)
class ListOrder:
    """How a message list is sorted. The default is newest first; ``reverse`` flips any key."""

    key: SortKey = "date"
    reverse: bool = False


@dataclass(frozen=True, slots=True)
class ThreadedIndex:
    """A folder in thread order: ``row_ids[i]`` is shown indented ``depths[i]`` levels.

    Threads are contiguous; a row with depth 0 starts a thread. Threads are ordered by ``order``
    applied to their newest message; replies inside a thread by date, oldest first.
    """

    row_ids: Sequence[int]
    depths: Sequence[int]


@dataclass(frozen=True, slots=True)
class VirtualFolder:
    """A folder that is a query over the cache: the unified inbox, or a saved search."""

    name: str
    query: str
    kind: Literal["inboxes", "search"] = "search"


@dataclass(frozen=True, slots=True)
class SearchOutcome:
    """Local search results (row ids, newest first) or why the query could not run."""

    row_ids: Sequence[int] = field(default_factory=tuple)
    error: str = ""


class MailFacade(Protocol):
    """The service layer as seen from the UI."""

    @property
    def accounts(self) -> list[str]:
        """Account names, the default account first."""
        ...

    async def start(self) -> None:
        """Start every account's worker (connect, sync, watch). Returns at once."""
        ...

    async def stop(self) -> None:
        """Stop workers and close connections and the cache."""
        ...

    def submit(self, request: Request) -> int:
        """Queue a request; returns its id. Never blocks. Answered later by events."""
        ...

    def folders(self, account: str) -> list[Folder]:
        """Cached folders of an account, in display order, with counts."""
        ...

    def folder_prefix(self, account: str) -> str:
        """The prefix the server keeps the account's folders under (``INBOX.`` on Courier and
        Cyrus), which the user does not type: from its NAMESPACE, else from the folder list."""
        ...

    def makes_folders(self, account: str) -> bool:
        """Whether a move may name a new folder (``MoveMessages.new_folder``): the account's
        folders are local (a Maildir or POP3 account)."""
        ...

    def fetches_mail(self, account: str) -> bool:
        """Whether the account fills its local folders from a server (POP3): a ``RetryAccount``
        asks that server for new mail."""
        ...

    def set_aside(self, account: str) -> int:
        """How many of the account's triage actions were set aside after failing (a
        ``RetryAccount`` sends them once more). Reads the local store: cheap."""
        ...

    def message_index(
        self, account: str, folder: str, order: ListOrder = ListOrder()
    ) -> Sequence[int]:
        """Row ids of a folder's messages in ``order`` (newest first by default)."""
        ...

    def ready_index(
        self, account: str, folder: str, order: ListOrder = ListOrder()
    ) -> Sequence[int] | None:
        """The folder's row ids in ``order`` if they can be had at once, without touching the
        cache (the first list, read ahead while the UI started), else None. Never waits."""
        ...

    def thread_index(
        self, account: str, folder: str, order: ListOrder = ListOrder()
    ) -> ThreadedIndex:
        """The folder's messages grouped in threads (References / In-Reply-To). Call from a thread."""
        ...

    def virtual_folders(self) -> list[VirtualFolder]:
        """The unified inbox (when there is more than one account) and the saved searches."""
        ...

    def virtual_index(self, name: str, order: ListOrder = ListOrder()) -> Sequence[int]:
        """Row ids of a virtual folder's messages. Call from a thread."""
        ...

    def local_search(
        self, query: str, *, account: str | None = None, folder: str | None = None
    ) -> SearchOutcome:
        """Search the cache at once (headers, flags, cached bodies). Call from a thread.

        Post a ``Search`` request as well to have the servers search bodies that are not cached;
        their matches arrive as ``SearchResults`` events.
        """
        ...

    def undo(self) -> str | None:
        """Take back the last triage action (flags, moves, deletes to Trash; up to 50 deep).

        Returns a description of what is being undone, or None when there is nothing to undo.
        """
        ...

    def outbox_messages(self) -> list[OutgoingMessage]:
        """Every message in the outbox (waiting, being sent, held, uncertain), oldest first.
        Reads the local store: cheap, callable while painting."""
        ...

    def outgoing(self, outbox_id: int) -> tuple[bytes, tuple[str, ...]] | None:
        """One outbox message's bytes (as sent: no Bcc) and its envelope's recipients; None when
        it is no longer in the outbox. Blocking: call it from a thread."""
        ...

    def rows(self, row_ids: Sequence[int]) -> list[MessageRow]:
        """The rows with these ids, in the same order (missing ids are left out)."""
        ...

    def rendered(self, account: str, folder: str, uid: int, deadline: Deadline | None = None) -> RenderedMessage | None:
        """The message made ready to read, when its body is cached; else None (post LoadBody).
        ``deadline`` bounds the reading, and stops it when cancelled."""
        ...

    def raw_message(self, account: str, folder: str, uid: int) -> bytes | None:
        """The message's bytes when its body is cached; else None (post LoadBody). Call from a
        thread."""
        ...

    def message_with_id(self, account: str, message_id: str) -> tuple[str, int] | None:
        """(folder, uid) of the account's cached message with this Message-ID, outside Drafts
        (the original of a reply); None when the cache has none. Call from a thread."""
        ...

    def identity(self, account: str) -> Identity:
        """Who messages written from ``account`` are from (address, name, signature)."""
        ...

    def known_addresses(self) -> list[Address]:
        """Addresses seen in the cache for completion, most used first. Call from a thread."""
        ...

    @property
    def drafts(self) -> DraftFiles:
        """The drafts kept on this machine (blocking file I/O: use from a thread)."""
        ...
