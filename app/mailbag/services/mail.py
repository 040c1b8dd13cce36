"""MailService: every account's worker behind the one facade the UI talks to.

The account workers (connections, sync, the triage journal, search indexing) run on a thread of
their own with their own event loop (:class:`LoopThread`), so no IMAP parsing or cache writing
shares the UI's loop. Requests cross to that loop without waiting; events come back through the
sink, which is called on the workers' thread. Cache reads for the screen (lists, rows, bodies,
search) stay on the caller's side: the UI calls them from its thread workers.

What only a later action needs is imported when first used, so that start-up imports no more
than painting the cached list needs: the tree and the list are read through the cache's plain
``sqlite3`` reader; the Store (SQLAlchemy) is opened in a thread when the service starts, and the
account workers (and with them the IMAP and Maildir stacks) are built then; MIME rendering, search
parsing, threading and desktop notices are imported when first asked for.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mailbag.domain.config import AccountConfig, Config
from mailbag.domain.deadline import Deadline
from mailbag.domain.events import Event, EventSink, MessagesChanged, NewMail, RequestCancelled
from mailbag.domain.folder_names import inbox_prefix
from mailbag.domain.compose import Identity
from mailbag.domain.models import (
    Address,
    Folder,
    FolderRole,
    MessageRow,
    OutgoingMessage,
    RenderedMessage,
    default_folder,
)
from mailbag.domain.requests import CancelOutgoing, Request, RetryAccount, SendOutgoingNow, SignIn
from mailbag.services.api import ListOrder, SearchOutcome, ThreadedIndex, VirtualFolder
from mailbag.services.loop_thread import LoopThread
from mailbag.services.overlay import PendingOverlay
from mailbag.services.workers import check_backend, make_worker
from mailbag.store.cache_file import CacheFile
from mailbag.store.drafts import DraftFiles
from mailbag.store.local import ASIDE

if TYPE_CHECKING:
    from mailbag.domain.search import Query
    from mailbag.services.backend import Backend
    from mailbag.services.indexer import SearchIndexer
    from mailbag.services.outbox import OutboxService, OutboxTimings, RequestCopier
    from mailbag.store.store import Store

log = logging.getLogger(__name__)

#: The unified inbox's name among the virtual folders.
ALL_INBOXES = "All inboxes"
#: How long stopping waits for the account workers to say goodbye to their servers.
STOP_SECONDS = 10.0
#: How long stopping then waits for the workers' thread to end.
JOIN_SECONDS = 5.0
#: How long ``undo`` waits for the workers' loop to get to it.
UNDO_WAIT_SECONDS = 2.0
#: The workers' thread's name (as logs and profilers show it).
THREAD_NAME = "mailbag-accounts"
#: While the workers' thread runs, the interpreter hands the GIL to a thread that waits for it
#: after this long (Python's default is 5 ms): a key's handling and frame, which wait for the
#: GIL at every turn of the UI's loop while a sync parses on the workers' thread, then wait
#: about 0.5 ms each time instead of up to 5 ms.
SWITCH_SECONDS = 0.0005
#: The folder of the drafts kept on this machine, beside the cache.
DRAFTS_DIR = "drafts"
#: Local search answers at most this many rows (newest first).
SEARCH_LIMIT = 5000


def prefetch_first_list(config: Config, cache: CacheFile) -> None:
    """Start reading the list the UI opens first (the default account's Inbox, newest first) in a
    thread, so that it is ready when the UI is. Only while nothing writes to the cache yet: a
    cache whose Store is open is left alone, and so is a start in thread view (its first list
    is the threads, not this order)."""
    names = config.account_names()
    if not names or cache.is_open or config.ui.threads:
        return
    folder = default_folder(cache.reader.folders(names[0]))
    if folder is not None:
        order = ListOrder()
        cache.reader.prefetch_index(names[0], folder.name, order.key, order.reverse)


class MailService:
    """Implements :class:`mailbag.services.api.MailFacade` over the account workers and the cache."""

    def __init__(
        self,
        config: Config,
        cache: Store | CacheFile,
        sink: EventSink,
        *,
        outbox_timings: OutboxTimings | None = None,
    ) -> None:
        self.config = config
        self._outbox_timings = outbox_timings
        self.cache = cache if isinstance(cache, CacheFile) else CacheFile.of(cache)
        self._sink = sink
        for account in config.accounts.values():
            check_backend(account)
        # Where the workers run, once started; below the UI's thread when the cores are busy.
        self.thread = LoopThread(THREAD_NAME, background=True)
        self._workers: dict[str, Backend] | None = None
        self._handover = threading.Lock()  # guards _early, _serving and _closed
        self._early: list[Request] = []  # submitted before the workers were serving
        self._serving = False  # the workers run on the thread: requests go there directly
        self._closed = False  # stopped: nothing is served any more
        self._switch_before: float | None = None  # the interpreter's switch interval before start
        self._tasks: list[asyncio.Task[None]] = []
        self.indexer: SearchIndexer | None = None  # made by start()
        self.outbox: OutboxService | None = None  # made by start()
        self._copier: RequestCopier | None = None
        self._rendered: OrderedDict[tuple[str, str, int], RenderedMessage] = OrderedDict()
        self._rendered_lock = threading.Lock()
        self.overlay = PendingOverlay()  # submitted triage until the cache holds it
        self._drafts: DraftFiles | None = None

    @property
    def store(self) -> Store:
        """The cache's Store, opened on first use (see :class:`CacheFile`)."""
        return self.cache.store

    @property
    def workers(self) -> dict[str, Backend]:
        """Every account's worker by name, built on first use (by :meth:`start`, on the workers'
        thread, in the app). Once started, they belong to that thread and its loop."""
        if self._workers is None:
            self._workers = {
                name: make_worker(account, self.store, self._relay, sync_in_child=True)
                for name, account in self.config.accounts.items()
            }
        return self._workers

    @property
    def accounts(self) -> list[str]:
        return self.config.account_names()

    async def start(self) -> None:
        """Start the workers' thread and, on it, the workers; returns once they run (the UI's
        loop stays free meanwhile)."""
        with self._handover:
            if self._closed or self.thread.running:
                return
        self._switch_before = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_SECONDS)
        self.thread.start()
        await asyncio.wrap_future(self.thread.run(self._start_here()))

    async def _start_here(self) -> None:
        """On the workers' loop: open the Store, build and run the workers, serve what was
        submitted before, in order."""
        with self._handover:
            if self._closed:  # stopped before the thread got here
                return
        self._load_what_starting_needs()
        from mailbag.services.indexer import SearchIndexer

        self.indexer = SearchIndexer(self.store)
        self.indexer.start()
        for name, worker in self.workers.items():
            self._tasks.append(asyncio.create_task(worker.run(), name=f"account:{name}"))
        self._start_outbox()
        with self._handover:
            early, self._early = self._early, []
            self._serving = True
        for request in early:
            self._submit_here(request)

    def _start_outbox(self) -> None:
        """On the workers' loop: the outbox, whose copies of sent mail go through the workers."""
        from mailbag.services.outbox import OutboxService, OutboxTimings, RequestCopier

        self._copier = RequestCopier(self._submit_here)
        self.outbox = OutboxService(
            self.config, self.cache.local, self._relay, self._copier, self._outbox_timings,
            flag_original=self.submit,
        )
        self._tasks.append(asyncio.create_task(self.outbox.run(), name="outbox"))

    def _load_what_starting_needs(self) -> Store:
        """Open the Store (importing SQLAlchemy) and import the workers' modules: a few hundred
        ms of work, done on the workers' thread."""
        store = self.cache.store
        import mailbag.services.indexer  # noqa: F401

        if any(a.imap is not None for a in self.config.accounts.values()):
            import mailbag.services.imap_account  # noqa: F401
        if any(a.maildir is not None for a in self.config.accounts.values()):
            import mailbag.services.maildir_account  # noqa: F401
        return store

    async def stop(self) -> None:
        """Stop the workers on their loop (each says goodbye to its server), then end their
        thread; waits at most about STOP_SECONDS + JOIN_SECONDS, without blocking the caller's
        loop. Requests submitted afterwards are answered RequestCancelled."""
        with self._handover:
            self._closed = True
            self._serving = False
            early, self._early = self._early, []
        for request in early:
            self._relay(RequestCancelled(request.request_id))
        if not self.thread.running:
            return
        try:
            await asyncio.wrap_future(self.thread.run(self._stop_here()))
        except Exception:  # noqa: BLE001 - the thread is ended below in any case
            log.warning("stopping the account workers failed", exc_info=True)
        await asyncio.to_thread(self.thread.stop, JOIN_SECONDS)
        if self._switch_before is not None:
            sys.setswitchinterval(self._switch_before)

    async def _stop_here(self) -> None:
        if self.outbox is not None:
            self.outbox.stop()
        for worker in (self._workers or {}).values():
            worker.request_stop()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=STOP_SECONDS)
        self._tasks.clear()
        if self.indexer is not None:
            await self.indexer.stop()

    def submit(self, request: Request) -> int:
        """Hand ``request`` to its account's worker; never waits (see MailFacade.submit)."""
        by_id = isinstance(request, (CancelOutgoing, SendOutgoingNow)) and not request.account
        if request.account not in self.config.accounts and not by_id:
            raise KeyError(f"no account named {request.account!r}")
        with self._handover:
            if self._closed:
                cancelled = True
            elif not self._serving:  # not started yet: the workers get it when they run
                self.overlay.record(request)
                self._early.append(request)
                return request.request_id
            else:
                cancelled = False
        if cancelled:
            self._sink(RequestCancelled(request.request_id))
            return request.request_id
        self.overlay.record(request)  # the screen can re-read at once
        if self.thread.is_current():
            self._submit_here(request)
        else:
            self.thread.call_soon(self._submit_here, request)
        return request.request_id

    def _submit_here(self, request: Request) -> int:
        """On the workers' loop."""
        from mailbag.services.outbox import OUTBOX_REQUESTS

        if isinstance(request, SignIn):
            from mailbag.services.sign_in import serve_sign_in

            task = asyncio.create_task(serve_sign_in(request, self.config, self._relay, self._signed_in))
            self._tasks.append(task)
            return request.request_id
        if isinstance(request, OUTBOX_REQUESTS):
            assert self.outbox is not None
            return self.outbox.submit(request)
        return self.workers[request.account].submit(request)

    def _signed_in(self, account: str) -> None:
        """On the workers' loop: an account just signed in connects, and sends what waits, at once."""
        worker = self.workers.get(account)
        if worker is not None:
            worker.submit(RetryAccount(account=account))
        if self.outbox is not None:
            self._tasks.append(asyncio.create_task(self.outbox.signed_in(account), name="outbox:signed-in"))

    def folders(self, account: str) -> list[Folder]:
        return self.overlay.folders(
            account, lambda places: self.cache.reader.folders_with_rows(account, places)
        )

    def _relay(self, event: Event) -> None:
        """Every worker event goes to the UI; new mail may also raise a desktop notification, and
        new messages are indexed for search once things are quiet. A request's terminal reply
        ends its overlay entry before the UI hears of it (the cache holds the change by then).
        The answers to the outbox's copies in Sent are the outbox's."""
        if self._copier is not None and self._copier.take(event):
            return
        self.overlay.settle(event)
        self._sink(event)
        if isinstance(event, MessagesChanged) and event.added and self.indexer is not None:
            self.indexer.poke()
        if isinstance(event, NewMail) and self.config.ui.notify in ("desktop", "both"):
            from mailbag.services.notify import notify_desktop

            notify_desktop(event)

    def message_index(
        self, account: str, folder: str, order: ListOrder = ListOrder()
    ) -> Sequence[int]:
        ids = self.cache.reader.message_index(account, folder, order.key, order.reverse)
        return self.overlay.index(
            account, folder, ids, lambda uids: self.cache.reader.row_ids(account, folder, uids)
        )

    def ready_index(
        self, account: str, folder: str, order: ListOrder = ListOrder()
    ) -> Sequence[int] | None:
        ids = self.cache.reader.prefetched_index(account, folder, order.key, order.reverse)
        if ids is None:
            return None
        return self.overlay.index(
            account, folder, ids, lambda uids: self.cache.reader.row_ids(account, folder, uids)
        )

    def thread_index(
        self, account: str, folder: str, order: ListOrder = ListOrder()
    ) -> ThreadedIndex:
        from mailbag.domain.threading import build_threads, flatten

        records = self.store.thread_records(account, folder)
        uids = self.overlay.hidden_uids(account, folder)
        if uids:  # threaded as they will be once the pending moves and deletes are done
            gone = set(self.cache.reader.row_ids(account, folder, uids))
            records = [r for r in records if r.row_id not in gone]
        roots = build_threads(records, group_by_subject=self.config.ui.thread_by_subject)
        rows = flatten(roots, newest_first=not order.reverse)
        return ThreadedIndex(
            row_ids=array("q", [r.row_id for r in rows]), depths=array("h", [r.depth for r in rows])
        )

    def virtual_folders(self) -> list[VirtualFolder]:
        result = []
        if len(self.config.accounts) > 1:
            result.append(VirtualFolder(ALL_INBOXES, "", kind="inboxes"))
        result.extend(VirtualFolder(name, query) for name, query in self.config.searches.items())
        return result

    def virtual_index(self, name: str, order: ListOrder = ListOrder()) -> Sequence[int]:
        if name == ALL_INBOXES:
            places = [
                (account, f.name)
                for account in self.accounts
                for f in self.cache.reader.folders(account)
                if f.role == FolderRole.INBOX
            ]
            ids = self.cache.reader.message_index_many(places, order.key, order.reverse)
            return self.overlay.without(ids, self.overlay.hidden_row_ids(self.cache.reader.row_ids))
        query = self.config.searches.get(name)
        if query is None:
            return ()
        return self.local_search(query).row_ids

    def local_search(
        self, query: str, *, account: str | None = None, folder: str | None = None
    ) -> SearchOutcome:
        from mailbag.domain.search import parse_query

        parsed = parse_query(query)
        if parsed.error:
            return SearchOutcome(error=parsed.error)
        names = [account] if account is not None else self.accounts
        found: list[int] = []  # each account's matches, newest first
        for name in names:
            found.extend(self._search(name, parsed, folder, SEARCH_LIMIT - len(found)))
            if len(found) >= SEARCH_LIMIT:
                break
        return SearchOutcome(row_ids=found)

    def _search(self, account: str, query: Query, folder: str | None, limit: int) -> list[int]:
        """One account's matches, as they are once the pending triage is done."""
        found = self.store.search(account, query, folder, limit)
        return self.overlay.search(
            account, found, query, self.cache.reader.rows, self.cache.reader.row_ids,
            lambda q, among: self.store.search(account, q, folder, limit, among),
        )

    def undo(self) -> str | None:
        """Take back the last action (see MailFacade.undo). Safe from any thread: it runs on the
        workers' loop, after every request submitted before it; None when that loop does not get
        to it within UNDO_WAIT_SECONDS (nothing is undone then)."""
        try:
            return self.thread.call(self._undo_here, UNDO_WAIT_SECONDS)
        except TimeoutError:
            log.warning("undo: the account workers did not answer in time")
            return None

    def _undo_here(self) -> str | None:
        """On the workers' loop."""
        candidates = [w for w in (self._workers or {}).values() if w.journal.undo_tickets]
        if not candidates:
            return None
        worker = max(candidates, key=lambda w: w.journal.undo_tickets[-1].seq)
        ticket = worker.journal.undo_tickets.pop()
        worker.journal.submit_undo(ticket)
        return ticket.description

    def outbox_messages(self) -> list[OutgoingMessage]:
        """Every message in the outbox, oldest first (read from the local store)."""
        from mailbag.services.outbox import outgoing_message

        return [outgoing_message(item) for item in self.cache.local.outbox(with_raw=False)]

    def outgoing(self, outbox_id: int) -> tuple[bytes, tuple[str, ...]] | None:
        item = self.cache.local.outbox_item(outbox_id)
        return None if item is None else (item.raw, item.recipients)

    def rows(self, row_ids: Sequence[int]) -> list[MessageRow]:
        return self.overlay.rows(self.cache.reader.rows(row_ids))

    def rendered(self, account: str, folder: str, uid: int, deadline: Deadline | None = None) -> RenderedMessage | None:
        key = (account, folder, uid)
        with self._rendered_lock:  # the UI calls this from several thread workers
            cached = self._rendered.get(key)
            if cached is not None:
                self._rendered.move_to_end(key)
                return cached
        raw = self.store.body(account, folder, uid)
        if raw is None:
            return None
        from mailbag.domain.mime import render_message

        message = render_message(raw, deadline=deadline)
        if deadline is not None and deadline.cancelled:
            return message  # cut short for want of it: not kept
        with self._rendered_lock:
            self._rendered[key] = message
            if len(self._rendered) > 32:
                self._rendered.popitem(last=False)
        return message

    def raw_message(self, account: str, folder: str, uid: int) -> bytes | None:
        return self.store.body(account, folder, uid)

    def message_with_id(self, account: str, message_id: str) -> tuple[str, int] | None:
        return self.cache.reader.message_with_id(account, message_id)

    def folder_prefix(self, account: str) -> str:
        worker = (self._workers or {}).get(account)
        known = worker.folder_prefix if worker is not None else None
        return known if known is not None else inbox_prefix(self.folders(account))

    def makes_folders(self, account: str) -> bool:
        return self.config.accounts[account].imap is None

    def fetches_mail(self, account: str) -> bool:
        return self.config.accounts[account].pop3 is not None

    def set_aside(self, account: str) -> int:
        return self.cache.local.count_actions(account, (ASIDE,))

    def identity(self, account: str) -> Identity:
        return Identity.of(self.config.accounts[account])

    def known_addresses(self) -> list[Address]:
        return self.cache.reader.known_addresses()

    @property
    def drafts(self) -> DraftFiles:
        if self._drafts is None:
            self._drafts = DraftFiles(self.cache.path.parent / DRAFTS_DIR)
        return self._drafts
