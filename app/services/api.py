"""What the UI may ask of the service layer: post requests, and read the cache (fast, local).

The UI never awaits the network. Reads here hit only the local cache: ``message_index`` may take a
few hundred milliseconds on a huge folder, so the UI calls it from a thread worker; ``rows`` reads
one screenful and is cheap enough to call while painting.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from app.domain.models import Folder, MessageRow, RenderedMessage
from app.domain.requests import Request


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

    def message_index(self, account: str, folder: str) -> Sequence[int]:
        """Row ids of a folder's messages, newest first."""
        ...

    def rows(self, row_ids: Sequence[int]) -> list[MessageRow]:
        """The rows with these ids, in the same order (missing ids are left out)."""
        ...

    def rendered(self, account: str, folder: str, uid: int) -> RenderedMessage | None:
        """The message made ready to read, when its body is cached; else None (post LoadBody)."""
        ...
