"""The backend seam: what one kind of account (IMAP, Maildir, later POP3) must do, and nothing of
how requests are queued, answered or retried — that is the :class:`~mailbag.services.scheduler.
Scheduler`'s job, written once for every kind.

A backend implements the narrow interface below (connect, list folders, sync, fetch a body, set
flags, move / copy, expunge, append, capabilities) and says what kind of failure an exception is
(:meth:`Backend.classify`). What it cannot do it answers by raising :class:`Unsupported`, which
becomes ``RequestUnsupported``. The helpers its sync code uses (``emit``, ``db``,
``publish_counts``, ``mark_dirty``, ``serve_urgent``, ...) are provided here, delegating to the
scheduler where they are about scheduling.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from mailbag.domain.events import (
    Event,
    EventSink,
    FolderCountsChanged,
    FoldersChanged,
    NewMail,
    Notice,
    SearchResults,
)
from mailbag.domain.models import ConnectionState, Folder, FolderRole, MessageSummary
from mailbag.domain.sanitize import clean_line
from mailbag.domain.requests import (
    AppendMessage,
    CheckFolders,
    DeleteMessages,
    FolderRequest,
    LoadBody,
    MoveMessages,
    OpenFolder,
    Request,
    SaveDraft,
    Search,
    SetFlags,
    SyncAccount,
)
from mailbag.services.failures import (
    AuthenticationFailed,
    Failure,
    Offline,
    Refused,
    Unsupported,
    classify_common,
)
from mailbag.services.folder_admin import FolderChange, settle_unanswered, shown_names
from mailbag.services.journal import ServerRefused
from mailbag.services.scheduler import Scheduler, Timings
from mailbag.store.store import Store

if TYPE_CHECKING:
    from mailbag.services.journal import ActionJournal, MoveOutcome

log = logging.getLogger(__name__)

__all__ = [
    "AuthenticationFailed",
    "Backend",
    "Capability",
    "Failure",
    "Offline",
    "Refused",
    "Unsupported",
]

T = TypeVar("T")

#: New mail in these folders is not announced (you wrote it, or it is meant to be ignored).
QUIET_ROLES = frozenset({FolderRole.SENT, FolderRole.DRAFTS, FolderRole.TRASH, FolderRole.JUNK})


#: The folder made when a message is stored for a role the account has no folder for.
ROLE_FOLDERS: dict[FolderRole, str] = {
    FolderRole.SENT: "Sent",
    FolderRole.DRAFTS: "Drafts",
    FolderRole.TRASH: "Trash",
    FolderRole.ARCHIVE: "Archive",
    FolderRole.JUNK: "Junk",
}


class Capability(StrEnum):
    """What a backend can do; requests for anything else are answered ``RequestUnsupported``."""

    FOLDERS = "folders"  # create, rename, delete, subscribe
    SYNC = "sync"
    BODY = "body"
    FLAGS = "flags"
    MOVE = "move"
    COPY = "copy"
    EXPUNGE = "expunge"
    APPEND = "append"
    SERVER_SEARCH = "server-search"
    LIVE = "live"  # the server pushes changes (IDLE, NOTIFY)


def needs(request: Request) -> Capability | None:
    """What a backend must be able to do to serve ``request`` (None: nothing in particular)."""
    if isinstance(request, (SyncAccount, OpenFolder, CheckFolders)):
        return Capability.SYNC
    if isinstance(request, LoadBody):
        return Capability.BODY
    if isinstance(request, SetFlags):
        return Capability.FLAGS
    if isinstance(request, MoveMessages):
        return Capability.COPY if request.copy else Capability.MOVE
    if isinstance(request, DeleteMessages):
        return Capability.EXPUNGE if request.permanent else Capability.MOVE
    if isinstance(request, (AppendMessage, SaveDraft)):
        return Capability.APPEND
    if isinstance(request, FolderRequest):
        return Capability.FOLDERS
    return None


class Backend(ABC):
    """One account of one kind, served by its own :class:`Scheduler`."""

    #: What this kind of account can do.
    capabilities: frozenset[Capability] = frozenset()
    #: The account's servers reached without TLS (``security = "none"``), said with its state.
    plaintext: tuple[str, ...] = ()
    #: The account logs in with its OAuth2 sign-in (its ``[oauth2]``): a refused login may be
    #: fixed by signing in again.
    signs_in: bool = False

    def __init__(
        self, name: str, store: Store, sink: EventSink, timings: Timings | None = None
    ) -> None:
        self.name = name
        self.store = store
        self.timings = timings or Timings()
        self.scheduler: Scheduler = Scheduler(self, sink, self.timings)
        #: Folder changes sent whose answer the link lost (see services/folder_admin.py).
        self.unanswered: list[FolderChange] = []
        #: The prefix the server keeps the user's folders under (its personal namespace's:
        #: ``INBOX.`` on Courier and Cyrus), once the server has said; None until then.
        self.folder_prefix: str | None = None

    # --- the interface a backend implements ----------------------------------------------------

    @abstractmethod
    async def connect(self) -> None:
        """Open the account (log in); raise :class:`AuthenticationFailed` when the login is refused."""

    @abstractmethod
    async def disconnect(self) -> None: ...

    @abstractmethod
    async def sync_all(self, first: str | None = None) -> None:
        """List folders and sync each one's headers (``first`` ahead of the others)."""

    @abstractmethod
    async def sync_folder(self, folder: str) -> None: ...

    @abstractmethod
    async def load_body(self, folder: str, uid: int) -> None:
        """Fetch one message's body into the cache (and emit ``BodyLoaded``)."""

    # The journal's server side (see mailbag.services.journal). Each action names the
    # UIDVALIDITY its uids belong to; a folder whose SELECT reports another one raises
    # UidValidityChanged and nothing is done. A refusal raises ServerRefused.

    @abstractmethod
    async def server_set_flags(
        self, folder: str, uidvalidity: int, uids: list[int], add: set[str], remove: set[str]
    ) -> None:
        """Change flags on the server."""

    @abstractmethod
    async def server_move(
        self, folder: str, uidvalidity: int, uids: list[int], target: str, *, copy: bool = False
    ) -> MoveOutcome:
        """Move or copy on the server; says where the messages went when known."""

    @abstractmethod
    async def server_expunge(self, folder: str, uidvalidity: int, uids: list[int]) -> None:
        """Remove exactly these messages for good."""

    @abstractmethod
    async def server_position(self, folder: str) -> tuple[int, int]:
        """The folder's (UIDVALIDITY, UIDNEXT) on the server now."""

    @abstractmethod
    async def server_present(self, folder: str, uidvalidity: int, uids: list[int]) -> set[int]:
        """Which of ``uids`` the folder still holds."""

    @abstractmethod
    async def server_find(
        self, folder: str, uidvalidity: int, since_uid: int, message_ids: set[str]
    ) -> dict[str, list[int]]:
        """Message-ID -> uids (ascending) of the folder's messages from ``since_uid`` on that
        carry one of ``message_ids``; nothing when the folder's UIDVALIDITY is another."""

    async def server_fingerprints(self, folder: str, uidvalidity: int, uids: list[int]) -> dict[int, str]:
        """uid -> a fingerprint that a copy of the message keeps (how a replay finds a copy of
        a message without a Message-ID); empty when the backend cannot tell."""
        return {}

    async def server_find_fingerprints(
        self, folder: str, uidvalidity: int, since_uid: int, fingerprints: set[str]
    ) -> dict[str, list[int]]:
        """Fingerprint -> uids (ascending) of the folder's messages from ``since_uid`` on that
        have one of ``fingerprints``; nothing when the folder's UIDVALIDITY is another."""
        return {}

    def last_uidvalidity(self, folder: str) -> int:
        """The UIDVALIDITY the folder had when this session last looked (0: not looked yet)."""
        return 0

    def permanent_flags(self, folder: str) -> frozenset[str] | None:
        """The flags a client can set in ``folder`` for good, as the server last said (None:
        any flag, or not known)."""
        return None

    async def server_append(self, folder: str, raw: bytes, flags: frozenset[str]) -> int | None:
        """Store a message in ``folder``; its new uid when known."""
        raise Unsupported(f"{self.name} cannot store messages")

    async def server_holds(self, folder: str, message_id: str) -> bool:
        """Whether ``folder`` holds a message with this Message-ID (False: cannot tell)."""
        return False

    async def make_folder(self, name: str) -> None:
        """Make the folder ``name`` unless it exists (a move to a folder the user named); an
        account whose folders are on a server does not (ValueError)."""
        raise ValueError(f"{self.name} makes no folders: {name} must exist on the server")

    # Folders themselves (see mailbag.services.folder_admin, which keeps the cache and the
    # journal in step). Each raises ServerRefused with the server's reason when it says no.

    async def server_name(self, name: str) -> str:
        """A folder name the user typed as the server needs it (under its namespace's prefix)."""
        return name

    async def server_create_folder(self, name: str) -> str:
        """Make the folder ``name`` (a full path); the name it has on the server."""
        raise Unsupported(f"{self.name} cannot make folders")

    async def server_rename_folder(self, folder: str, new_name: str) -> str:
        """Rename ``folder`` and the folders below it; the new name it has on the server."""
        raise Unsupported(f"{self.name} cannot rename folders")

    async def server_delete_folder(self, folder: str) -> None:
        """Delete ``folder`` and the messages in it."""
        raise Unsupported(f"{self.name} cannot delete folders")

    async def server_subscribe(self, folder: str, subscribe: bool) -> None:
        """Subscribe to ``folder`` or unsubscribe from it."""
        raise Unsupported(f"{self.name} has no folder subscriptions")

    async def refresh_folders(self) -> list[Folder]:
        """List the folders again into the cache and tell the UI."""
        raise Unsupported(f"{self.name} cannot list folders")

    async def folder_for_role(self, role: FolderRole) -> str:
        """The folder with ``role`` (Sent, Drafts) to store a message in; "" when the account
        has none."""
        folders = await self.db(self.store.folders, self.name)
        return next((f.name for f in folders if f.role == role), "")

    async def folder_to_store_in(self, role: FolderRole) -> str:
        """The folder with ``role`` (Sent, Drafts) to store a message in; where the account has
        none, its standard folder (``Sent``, ``Drafts``) is made on the server. Unsupported when
        the server refuses to make it: trying again would meet the same refusal."""
        folder = await self.folder_for_role(role)
        name = ROLE_FOLDERS.get(role)
        if folder or name is None:
            return folder
        try:
            made = await self.server_create_folder(name)
        except ServerRefused as exc:
            await self.refresh_folders()  # made meanwhile (an answer lost, another program)?
            if found := await self.folder_for_role(role):
                return found
            raise Unsupported(f"{self.name} has no {name} folder, and the server refused to make one: {exc}") from None
        log.info("%s: no %s folder: made %s", self.name, role.value, made)
        await self.refresh_folders()
        return await self.folder_for_role(role) or made

    async def append(self, request: AppendMessage) -> None:
        """Serve AppendMessage: find the folder (by name or role, made where the account has
        none), store the message unless a ``message_id`` shows it is there already, and sync the
        folder."""
        folder = request.folder or await self.folder_to_store_in(request.role)
        if not folder:
            raise Refused(f"{self.name} has no {request.role.value or 'such'} folder")
        if not (request.message_id and await self.server_holds(folder, request.message_id)):
            await self.server_append(folder, request.raw, request.flags)
        await self.sync_folder(folder)

    async def search(self, request: Search) -> None:
        """Search where the cache cannot (bodies not cached); the default has nothing to add."""
        self.emit(SearchResults(request.request_id, (), complete=True))

    async def keepalive(self) -> None:
        """Prove the link is alive (raise when it is not); bounded by the scheduler's timeout."""

    async def on_quiet(self) -> None:
        """Hook: the link was quiet for a while and is alive (look for changes, ...)."""

    async def check_folders(self) -> None:
        """Look at every folder for changes the server did not push (default: nothing to do)."""

    async def probe(self) -> bool | None:
        """Whether the server can be reached at all, cheaply (no login); None: cannot tell."""
        return None

    def on_open_folder(self, folder: str) -> None:
        """Hook: the user opened ``folder`` (watch it for live updates)."""

    async def on_online(self) -> None:
        """Hook: the account has just connected (start watchers, ...)."""

    def on_retry(self) -> None:
        """Hook: the user asked to retry or check now (``RetryAccount``)."""

    async def on_offline(self) -> None:
        """Hook: the connection was lost or closed."""

    def classify(self, exc: BaseException) -> Failure:
        """What kind of failure ``exc`` is; backends add their protocol's errors."""
        return classify_common(exc)

    def describe(self, exc: BaseException) -> str:
        """A one-line human text for an error (already safe for the screen)."""
        text = str(exc) or type(exc).__name__
        return text.splitlines()[0][:300]

    def can(self, request: Request) -> bool:
        """Whether this kind of account can serve ``request`` at all."""
        capability = needs(request)
        return capability is None or capability in self.capabilities

    def reconnects_at_once(self, exc: BaseException) -> bool:
        """Whether ``exc`` ended a session with nothing wrong with the link (an IMAP server drops
        the session whose open folder another client deleted): a new one starts at once, and
        nothing is shown as an error."""
        return False

    def is_connection_error(self, exc: BaseException) -> bool:
        """True for failures of the link itself (reconnect), False for a refused command."""
        return self.classify(exc) is Failure.LINK

    # --- running: delegated to the scheduler ---------------------------------------------------

    @property
    def journal(self) -> ActionJournal:
        return self.scheduler.journal

    @property
    def state(self) -> ConnectionState:
        return self.scheduler.state

    @property
    def syncing(self) -> set[str]:
        """Folders being synced right now (no nested resync)."""
        return self.scheduler.syncing

    def submit(self, request: Request) -> int:
        """Queue ``request``; its answer comes later as events."""
        return self.scheduler.submit(request)

    async def run(self) -> None:
        """Connect and serve requests until cancelled or :meth:`request_stop`."""
        await self.scheduler.run()

    def request_stop(self) -> None:
        self.scheduler.request_stop()

    async def sync_once(self, on_progress: Callable[[Event], None] | None = None) -> None:
        """Connect, sync every folder's headers once, disconnect (headless ``mailbag sync``)."""
        await self.scheduler.sync_once(on_progress)

    def poke(self) -> None:
        self.scheduler.poke()

    def check_link(self) -> asyncio.Event:
        """Something suggests the connection died (the watcher lost its own): test it now; the
        event is set once the connection has answered (see ``Scheduler.check_link``)."""
        return self.scheduler.check_link()

    def login_refused(self, reason: str) -> None:
        """The login of another link of the account (the watcher's) was refused."""
        self.scheduler.login_refused(reason)

    async def check_cached_validity(self, folder: str, uidvalidity: int) -> None:
        """Before a body is read by a cached UID: when ``folder`` has another UIDVALIDITY now
        than the cache's (it was recreated), the UID may name another message, so refuse and
        have the folder synced again."""
        state = await self.db(self.store.folder_state, self.name, folder)
        if state is not None and state.uidvalidity and uidvalidity and state.uidvalidity != uidvalidity:
            self.mark_dirty(folder)
            (shown,) = await shown_names(self, folder)
            raise Refused(f"{clean_line(shown)} was recreated meanwhile: its messages are read again")

    def mark_dirty(self, folder: str) -> None:
        """The server reported a change in ``folder``: sync it when nothing urgent waits."""
        self.scheduler.mark_dirty(folder)

    def take_dirty(self, folder: str) -> bool:
        """Forget a change report of ``folder`` (it is about to be synced); True if there was one."""
        return self.scheduler.take_dirty(folder)

    async def serve_urgent(self) -> None:
        """Serve waiting urgent requests, journal entries and reported changes now (between
        sync batches)."""
        await self.scheduler.serve_urgent()

    async def _urgent_work(self) -> bool:
        """Whether :meth:`serve_urgent` would do anything now."""
        return await self.scheduler.has_urgent_work()

    def emit(self, event: Event) -> None:
        self.scheduler.emit(event)

    # --- helpers for the sync code --------------------------------------------------------------

    async def db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a cache call off the event loop."""
        return await asyncio.to_thread(fn, *args)

    async def publish_counts(self, folder: str) -> None:
        """Record and announce the folder's counts: its cached messages, and the ones moves and
        copies not yet done on the server bring (so that an offline move shows in its target)."""
        total, unread = await self.db(folder_counts, self.store, self.name, folder)
        await self.db(self.store.set_counts, self.name, folder, total, unread)
        self.emit(FolderCountsChanged(self.name, folder, total, unread))

    def not_cached(self, folder: str, summaries: Sequence[MessageSummary]) -> list[MessageSummary]:
        """Those of ``summaries`` the cache does not hold yet (a move or copy of our own puts its
        messages there under their new UIDs before the folder's sync sees them): call off the loop."""
        return [s for s in summaries if self.store.summary(self.name, folder, s.uid) is None]

    async def announce_new_mail(
        self, folder: str, fresh: Sequence[MessageSummary], count: int | None = None
    ) -> None:
        """Tell the user about new unread mail found by an incremental sync (not in Sent & co, nor
        in a folder that only shows messages of others: Gmail's All Mail, Starred, Important);
        ``count``: how many unread messages in all, when ``fresh`` holds only the first few."""
        unread = [s for s in fresh if s.unread]
        if not unread:
            return
        known = {f.name: f for f in await self.db(self.store.folders, self.name)}
        shown = known.get(folder)
        if shown is not None and (shown.role in QUIET_ROLES or shown.aggregate):  # told where it arrived
            return
        self.emit(
            NewMail(
                self.name,
                folder,
                len(unread) if count is None else count,
                senders=tuple(s.from_[0].display() if s.from_ else "" for s in unread[:3]),
                subjects=tuple(s.subject for s in unread[:3]),
            )
        )

    async def publish_folders(self, folders: list[Folder]) -> None:
        """Store the folder list as the server gave it, and tell the UI; a folder that went
        without mailbag's doing (another program deleted or renamed it) is told too."""
        ours = await settle_unanswered(self, folders)
        gone = set(await self.db(self.store.replace_folders, self.name, folders)) - ours
        self.emit(FoldersChanged(self.name, tuple(await self.db(self.store.folders, self.name))))
        if gone and folders:
            names = ", ".join(clean_line(name) for name in await shown_names(self, *sorted(gone)))
            were = "was" if len(gone) == 1 else "were"
            self.emit(Notice(self.name, f"{names} {were} deleted or renamed by another program"))

    async def selectable_folders(self) -> list[str]:
        """Names of the account's cached folders that can be opened (read off the event loop)."""
        return [f.name for f in await self.db(self.store.folders, self.name) if f.selectable]


def folder_counts(store: Store, account: str, folder: str) -> tuple[int, int]:
    """(total, unread) of the folder once the journal's moves and copies into it are done."""
    total, unread = store.counts(account, folder)
    for source, uids in store.local.incoming(account, folder):
        coming, coming_unread = store.counts_of(account, source, uids)
        total, unread = total + coming, unread + coming_unread
    return total, unread
