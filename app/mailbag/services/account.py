"""The per-account worker: a request queue served in priority order, with exactly one terminal
event per request. Subclasses supply the protocol (IMAP, Maildir, ...)."""

from __future__ import annotations

import asyncio
import logging
import random
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from mailbag.domain.events import (
    ConnectionChanged,
    ErrorReported,
    Event,
    EventSink,
    FolderCountsChanged,
    FoldersChanged,
    NewMail,
    SearchResults,
    RequestCancelled,
    RequestDone,
    RequestFailed,
    RequestUnsupported,
)
from mailbag.domain.models import ConnectionState, Folder, FolderRole, MessageSummary
from mailbag.domain.requests import LoadBody, OpenFolder, Request, Search, SyncAccount
from mailbag.services.journal import TRIAGE, ActionJournal
from mailbag.store.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Requests a person is waiting for: served between sync batches, ahead of background work.
URGENT = (LoadBody, OpenFolder, Search)
#: New mail in these folders is not announced (you wrote it, or it is meant to be ignored).
QUIET_ROLES = frozenset({FolderRole.SENT, FolderRole.DRAFTS, FolderRole.TRASH, FolderRole.JUNK})
#: A quiet command connection is checked this often (a dead link is noticed, servers don't time us out).
KEEPALIVE_SECONDS = 240.0


class Offline(Exception):
    """The account is not connected; the request cannot be served now."""


class AccountWorker(ABC):
    """Serves one account's requests in order of urgency on one connection."""

    def __init__(self, name: str, store: Store, sink: EventSink) -> None:
        self.name = name
        self.store = store
        self._sink = sink
        self._urgent: deque[Request] = deque()
        self._background: deque[Request] = deque()
        self._wakeup = asyncio.Event()
        self._serving_urgent = False
        self._dirty: list[str] = []  # folders the server says changed: sync them soon
        self.syncing: set[str] = set()  # folders being synced right now (no nested resync)
        self._check_link = False
        self._stopping = False
        self.state = ConnectionState.OFFLINE
        self.journal = ActionJournal(self)

    # --- public ---------------------------------------------------------------------------

    def submit(self, request: Request) -> int:
        """Queue ``request``; its answer comes later as events.

        Triage requests (flags, moves, deletes) take effect in the cache at once, online or not,
        and are replayed to the server from the journal.
        """
        if isinstance(request, TRIAGE):
            self.journal.submit(request)
            return request.request_id
        if isinstance(request, LoadBody) and self.state == ConnectionState.ERROR:
            # A body that is not cached cannot be had offline: say so now, not after a reconnect.
            # While the first connection is being made (at start) it waits for it instead: a
            # failed connection answers every waiting request.
            self.emit(RequestFailed(request.request_id, f"{self.name} is offline"))
            return request.request_id
        (self._urgent if isinstance(request, URGENT) else self._background).append(request)
        self._wakeup.set()
        return request.request_id

    def poke(self) -> None:
        """Wake the request loop (new journal entries or changed folders to look at)."""
        self._wakeup.set()

    def check_link(self) -> None:
        """Something suggests the connection died (the watcher lost its own): test it now."""
        self._check_link = True
        self.poke()

    def mark_dirty(self, folder: str) -> None:
        """The server reported a change in ``folder``: sync it when nothing urgent waits."""
        if folder not in self._dirty:
            self._dirty.append(folder)
        self.poke()

    async def run(self) -> None:
        """Apply triage locally at once; connect (retrying with jittered backoff) and serve
        requests until cancelled."""
        local = asyncio.create_task(self.journal.run_local(), name=f"journal:{self.name}")
        try:
            await self._run_connected()
        finally:
            local.cancel()
            await asyncio.gather(local, return_exceptions=True)

    def request_stop(self) -> None:
        """Ask :meth:`run` to end. Cancelling its task does too; this also holds should a
        cancellation be lost in a race inside the asyncio of Python 3.11 (``wait_for``)."""
        self._stopping = True
        self.poke()

    async def _run_connected(self) -> None:
        attempt = 0
        while not self._stopping:
            try:
                self._set_state(ConnectionState.CONNECTING)
                await self.connect()
                attempt = 0
                self._set_state(ConnectionState.ONLINE)
                await self.journal.replay()  # what the user did offline goes first
                if not any(isinstance(r, SyncAccount) for r in self._background):
                    self.submit(SyncAccount(account=self.name))
                await self.on_online()
                await self._serve_forever()
            except asyncio.CancelledError:
                self._cancel_all()
                await self._quiet_disconnect()
                raise
            except Exception as exc:  # noqa: BLE001 - every failure becomes a visible state
                if not self.is_connection_error(exc):
                    log.exception("account %s: unexpected error", self.name)
                self._set_state(ConnectionState.ERROR, self.describe(exc))
                self._fail_all(f"offline: {self.describe(exc)}")
                await self._quiet_disconnect()
                attempt += 1
                if not self._stopping:
                    await asyncio.sleep(backoff_delay(attempt))
        await self._quiet_disconnect()

    async def sync_once(self, on_progress: Callable[[Event], None] | None = None) -> None:
        """Connect, sync every folder's headers once, disconnect (headless ``mailbag sync``)."""
        outer = self._sink

        def tee(event: Event) -> None:
            outer(event)
            if on_progress is not None:
                on_progress(event)

        self._sink = tee
        try:
            self._set_state(ConnectionState.CONNECTING)
            await self.connect()
            self._set_state(ConnectionState.SYNCING)
            await self.sync_all()
            self._set_state(ConnectionState.ONLINE)
        finally:
            await self._quiet_disconnect()
            self._sink = outer

    # --- for subclasses -------------------------------------------------------------------

    @abstractmethod
    async def connect(self) -> None: ...

    @abstractmethod
    async def disconnect(self) -> None: ...

    @abstractmethod
    async def sync_all(self, first: str | None = None) -> None:
        """List folders and sync each one's headers (``first`` ahead of the others)."""

    @abstractmethod
    async def sync_folder(self, folder: str) -> None: ...

    @abstractmethod
    async def load_body(self, folder: str, uid: int) -> None: ...

    @abstractmethod
    async def server_set_flags(
        self, folder: str, uids: list[int], add: set[str], remove: set[str]
    ) -> None:
        """Change flags on the server (raise ServerRefused when it says no)."""

    @abstractmethod
    async def server_move(
        self, folder: str, uids: list[int], target: str, *, copy: bool = False
    ) -> dict[int, int]:
        """Move or copy on the server; returns old uid -> new uid in ``target`` when known."""

    @abstractmethod
    async def server_expunge(self, folder: str, uids: list[int]) -> None:
        """Remove exactly these messages for good."""

    async def search(self, request: Search) -> None:
        """Search where the cache cannot (bodies not cached); the default has nothing to add."""
        self.emit(SearchResults(request.request_id, (), complete=True))

    def on_open_folder(self, folder: str) -> None:
        """Hook: the user opened ``folder`` (watch it for live updates)."""

    async def on_online(self) -> None:
        """Hook: the account has just connected (start watchers, ...)."""

    async def on_offline(self) -> None:
        """Hook: the connection was lost or closed."""

    def is_connection_error(self, exc: BaseException) -> bool:
        """True for failures of the link itself (reconnect), False for a refused command."""
        return isinstance(exc, (OSError, TimeoutError, Offline))

    def describe(self, exc: BaseException) -> str:
        """A one-line human text for an error (already safe for the screen)."""
        text = str(exc) or type(exc).__name__
        return text.splitlines()[0][:300]

    def emit(self, event: Event) -> None:
        self._sink(event)

    async def db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a cache call off the event loop."""
        return await asyncio.to_thread(fn, *args)

    async def publish_counts(self, folder: str) -> None:
        total, unread = await self.db(self.store.counts, self.name, folder)
        await self.db(self.store.set_counts, self.name, folder, total, unread)
        self.emit(FolderCountsChanged(self.name, folder, total, unread))

    async def announce_new_mail(self, folder: str, fresh: Sequence[MessageSummary]) -> None:
        """Tell the user about new unread mail found by an incremental sync (not in Sent & co)."""
        unread = [s for s in fresh if s.unread]
        if not unread:
            return
        roles = {f.name: f.role for f in await self.db(self.store.folders, self.name)}
        if roles.get(folder) in QUIET_ROLES:
            return
        self.emit(
            NewMail(
                self.name,
                folder,
                len(unread),
                senders=tuple(s.from_[0].display() if s.from_ else "" for s in unread[:3]),
                subjects=tuple(s.subject for s in unread[:3]),
            )
        )

    async def publish_folders(self, folders: list[Folder]) -> None:
        """Store the folder list as the server gave it, and tell the UI."""
        await self.db(self.store.replace_folders, self.name, folders)
        self.emit(FoldersChanged(self.name, tuple(await self.db(self.store.folders, self.name))))

    async def sync_dirty(self) -> None:
        """Sync the folders the server reported changes in (not one already being synced)."""
        for folder in [f for f in self._dirty if f not in self.syncing]:
            self._dirty.remove(folder)
            await self.sync_folder(folder)

    async def _urgent_work(self) -> bool:
        """Whether :meth:`serve_urgent` would do anything now."""
        if self._dirty or self._urgent:
            return True
        return await self.journal.has_pending() and self.journal.idle()

    async def serve_urgent(self) -> None:
        """Serve waiting urgent requests, journal entries and reported changes now (called
        between sync batches, so new mail shows while a big folder is still filling)."""
        if await self.journal.has_pending() and self.journal.idle():
            await self.journal.replay()
        if self._dirty and not self._serving_urgent:
            await self.sync_dirty()
        if self._serving_urgent:
            # Already inside an urgent request (an opened folder's sync): serve only quick ones.
            quick = [r for r in self._urgent if not isinstance(r, OpenFolder)]
            for request in quick:
                self._urgent.remove(request)
                await self._handle(request)
            return
        self._serving_urgent = True
        try:
            while self._urgent:
                await self._handle(self._urgent.popleft())
        finally:
            self._serving_urgent = False

    async def selectable_folders(self) -> list[str]:
        """Names of the account's cached folders that can be opened (read off the event loop)."""
        return [f.name for f in await self.db(self.store.folders, self.name) if f.selectable]

    # --- internals ------------------------------------------------------------------------

    async def _serve_forever(self) -> None:
        while not self._stopping:
            self._wakeup.clear()
            if self._check_link:
                self._check_link = False
                await self.keepalive()
            elif self._urgent:
                await self.serve_urgent()
            elif await self.journal.has_pending():
                await self.journal.replay()
            elif self._dirty:
                await self.sync_dirty()
            elif self._background:
                await self._handle(self._background.popleft())
            else:
                try:
                    await asyncio.wait_for(self._wakeup.wait(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    await self.keepalive()

    async def keepalive(self) -> None:
        """Called after a quiet spell: prove the link is alive (raises when it is not)."""
        return None

    async def _handle(self, request: Request) -> None:
        try:
            if isinstance(request, SyncAccount):
                self._set_state(ConnectionState.SYNCING)
                await self.sync_all()
                self._set_state(ConnectionState.ONLINE)
            elif isinstance(request, OpenFolder):
                self.on_open_folder(request.folder)
                await self.sync_folder(request.folder)
            elif isinstance(request, LoadBody):
                await self.load_body(request.folder, request.uid)
            elif isinstance(request, Search):
                await self.search(request)
            else:
                self.emit(RequestUnsupported(request.request_id, type(request).__name__))
                return
        except asyncio.CancelledError:
            self.emit(RequestCancelled(request.request_id))
            raise
        except Exception as exc:
            self.emit(RequestFailed(request.request_id, self.describe(exc)))
            self.emit(ErrorReported(self.name, self.describe(exc)))
            if self.is_connection_error(exc):
                raise
            log.warning("account %s: %s failed: %s", self.name, type(request).__name__, exc)
            return
        self.emit(RequestDone(request.request_id))

    def _set_state(self, state: ConnectionState, detail: str = "") -> None:
        self.state = state
        self.emit(ConnectionChanged(self.name, state, detail))

    def _fail_all(self, reason: str) -> None:
        """While offline, nothing can be served: answer waiting requests at once."""
        while self._urgent:
            self.emit(RequestFailed(self._urgent.popleft().request_id, reason))
        self._background = deque(r for r in self._background if isinstance(r, SyncAccount))

    def _cancel_all(self) -> None:
        for queue in (self._urgent, self._background):
            while queue:
                self.emit(RequestCancelled(queue.popleft().request_id))

    async def _quiet_disconnect(self) -> None:
        try:
            await self.on_offline()
        except Exception:  # noqa: BLE001 - best effort
            log.debug("account %s: on_offline failed", self.name, exc_info=True)
        try:
            await asyncio.wait_for(self.disconnect(), 5)
        except Exception:  # noqa: BLE001 - the link may already be gone
            log.debug("account %s: disconnect failed", self.name, exc_info=True)


def backoff_delay(attempt: int, base: float = 1.0, cap: float = 120.0) -> float:
    """Full-jitter exponential backoff: a random delay up to min(cap, base * 2**attempt)."""
    return random.uniform(base / 2, min(cap, base * 2 ** min(attempt, 16)))
