"""The per-account scheduler: a request queue served in priority order, exactly one terminal event
per request on every path, reconnects with backoff, and one policy per kind of failure. It is
written once; what an account kind does is its :class:`~mailbag.services.backend.Backend`.

Failure policies (see :class:`~mailbag.services.failures.Failure`):

- link lost: every waiting request is answered ``RequestFailed``; reconnect with jittered backoff,
  which grows until a connection has stayed healthy for ``Timings.healthy_seconds``. While waiting,
  the server is probed cheaply (a TCP connect, no login) and a server that comes back is
  reconnected to at once.
- refused by the server: the request fails (the journal rolls actions back); stay connected.
- authentication failed: tried once; the status bar says so, and nothing is tried again until the
  user asks (``RetryAccount``): a wrong password retried on a timer locks accounts. Where the
  account's mail is local and only fetched from the server (POP3), the account says so all the
  same, and serves that mail meanwhile.
- local fault (disk, cache) and bug: the request fails with one line (a bug's traceback goes to
  the log); the account stays connected.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mailbag.domain.events import (
    TERMINAL,
    ConnectionChanged,
    ErrorReported,
    Event,
    EventSink,
    RequestCancelled,
    RequestDone,
    RequestFailed,
    RequestUnsupported,
)
from mailbag.domain.models import ConnectionState
from mailbag.domain.wording import said_alike
from mailbag.domain.requests import (
    AppendMessage,
    CheckFolders,
    FolderRequest,
    LoadBody,
    OpenFolder,
    Request,
    RetryAccount,
    SaveDraft,
    Search,
    SyncAccount,
)
from mailbag.protocols.tls import CertificateUntrusted
from mailbag.services.draft_folder import save_draft
from mailbag.services.failures import (
    AuthenticationFailed, Failure, Offline, Unsupported, certificate_refusal, local_problem,
)
from mailbag.services.folder_admin import manage_folder
from mailbag.services.journal import TRIAGE, ActionJournal

if TYPE_CHECKING:
    from mailbag.services.backend import Backend

log = logging.getLogger(__name__)

#: Requests a person is waiting for: served between sync batches, ahead of background work.
URGENT = (LoadBody, OpenFolder, Search, CheckFolders)
#: How many answered request ids are remembered to drop a second answer.
_ANSWERED_KEPT = 4096


@dataclass(frozen=True, slots=True)
class Timings:
    """The scheduler's intervals, in seconds (tests shrink them)."""

    backoff_base: float = 1.0
    backoff_cap: float = 120.0
    #: A connection counts as healthy (the backoff starts again from the bottom) after this long.
    healthy_seconds: float = 60.0
    #: While offline, the server's port is probed this often (no login).
    probe_seconds: float = 3.0
    #: After this long without traffic, the link is checked (NOOP on IMAP).
    quiet_seconds: float = 30.0
    #: A link check not answered within this long means the link is dead.
    keepalive_timeout: float = 20.0
    #: The live-update connection checks its link after this long without a word from the server.
    idle_liveness_seconds: float = 60.0
    #: While another mailbag sends the account's journal, this one tries again after this long.
    journal_busy_seconds: float = 1.0


class Backoff:
    """Jittered exponential backoff that starts again from the bottom only once a connection has
    been healthy for ``healthy_seconds`` (not after every login)."""

    def __init__(self, timings: Timings, clock: Callable[[], float] = time.monotonic) -> None:
        self.timings = timings
        self.attempt = 0
        self._clock = clock
        self._connected_at: float | None = None

    def connected(self) -> None:
        """A connection was made."""
        self._connected_at = self._clock()

    def reset(self) -> None:
        """Start again from the bottom (what was failing works again)."""
        self.attempt = 0
        self._connected_at = None

    def failed(self) -> float:
        """A connection failed (or was lost): the delay before the next attempt."""
        if self._connected_at is not None:
            if self._clock() - self._connected_at >= self.timings.healthy_seconds:
                self.attempt = 0
            self._connected_at = None
        self.attempt += 1
        return backoff_delay(self.attempt, self.timings.backoff_base, self.timings.backoff_cap)


class Scheduler:
    """Serves one account's requests in order of urgency on one connection."""

    def __init__(self, backend: Backend, sink: EventSink, timings: Timings) -> None:
        self.backend = backend
        self.name = backend.name
        self.timings = timings
        self._sink = sink
        self._urgent: deque[Request] = deque()
        self._background: deque[Request] = deque()
        self._wakeup = asyncio.Event()
        self._interrupt = asyncio.Event()  # ends a wait to reconnect: stop, or the user's retry
        self._serving_urgent = False
        self._dirty: dict[str, None] = {}  # folders the server says changed, in order: sync them soon
        self._syncing_dirty = False
        self.syncing: set[str] = set()  # folders being synced right now (no nested resync)
        self._check_link = False
        self._link_answered: list[asyncio.Event] = []  # set once the link answered a check
        self._refused_elsewhere: str | None = None  # the live-update link's login was refused
        self._stopping = False
        self._stopped = False
        self._last_traffic = time.monotonic()
        self._replay_hold = 0.0  # journal replay waits until then after a failure
        self._replay_backoff = Backoff(timings)
        self._open: dict[int, Request] = {}  # submitted, not answered yet
        self._answered: OrderedDict[int, None] = OrderedDict()
        self.waiting_for_user = False
        self._refusal = ""  # why the last login was refused, as the server said it
        #: Why the server the account fetches its mail from (POP3) could not be reached at the
        #: last check ("" when it was): the state says so while the local mail is served.
        self.fetch_trouble = ""
        self._certificate_told = ""  # the refusal of a certificate told since the last connection
        self._fetch_told = ""  # why the server it fetches from is out of reach, as last told (said_alike)
        self.state = ConnectionState.OFFLINE
        self.journal = ActionJournal(backend)

    # --- public ---------------------------------------------------------------------------

    def submit(self, request: Request) -> int:
        """Queue ``request``; its answer comes later as events (exactly one terminal event).

        Triage requests (flags, moves, deletes) take effect in the cache at once, online or not,
        and are replayed to the server from the journal.
        """
        rid = request.request_id
        self._open[rid] = request
        if self._stopped:
            self.emit(RequestCancelled(rid))
            return rid
        if isinstance(request, RetryAccount):
            if self.waiting_for_user and self.state in (ConnectionState.ONLINE, ConnectionState.SYNCING):
                self.waiting_for_user = False  # the server it fetches from is asked again
                self._set_state(self.state)
            self._certificate_told = ""
            self._fetch_told = ""  # the user asks: why it still cannot fetch is told again
            self.retry()
            self.backend.on_retry()
            self.journal.retry_set_aside()  # actions set aside after failing go once more
            self.emit(RequestDone(rid))
            return rid
        if isinstance(request, CheckFolders) and self.state not in (
            ConnectionState.ONLINE,
            ConnectionState.SYNCING,
        ):
            self.emit(RequestDone(rid))  # nothing to look at now: a sync follows the connection
            return rid
        if not self.backend.can(request):
            self.emit(RequestUnsupported(rid, f"{self.name} cannot do {type(request).__name__}"))
            return rid
        if isinstance(request, TRIAGE):
            self.journal.submit(request)
            return rid
        if isinstance(request, FolderRequest):
            if self.state not in (ConnectionState.ONLINE, ConnectionState.SYNCING):
                # Refused, not queued: see mailbag.services.folder_admin.
                self.emit(RequestFailed(rid, f"{self._unreachable()}: folders are changed only while "
                                             "connected (nothing was done)"))
                return rid
            self._background.appendleft(request)  # next, once the step under way is done
            self._wakeup.set()
            return rid
        needs_link = isinstance(request, LoadBody) or (
            self.waiting_for_user and not isinstance(request, SyncAccount)
        )
        if self.state == ConnectionState.ERROR and needs_link:
            # A body that is not cached cannot be had offline: say so now, not after a reconnect
            # (which, after a refused login, waits for the user). While the first connection is
            # being made (at start) it waits for it instead: a failed connection answers it.
            self.emit(RequestFailed(rid, self._unreachable()))
            return rid
        (self._urgent if isinstance(request, URGENT) else self._background).append(request)
        self._wakeup.set()
        return rid

    def _unreachable(self) -> str:
        """Why a request that needs the server cannot be served now."""
        if self.waiting_for_user:
            # The server's reason, as told once: this may replace that error (a folder opened).
            return f"{self.name}: {self._refusal or 'login refused'}; {FIX_PASSWORD}"
        return f"{self.name} is offline"

    def retry(self) -> None:
        """Connect now: after a refused login, or instead of waiting out the backoff."""
        self._interrupt.set()

    def poke(self) -> None:
        """Wake the request loop (new journal entries or changed folders to look at)."""
        self._wakeup.set()

    def check_link(self) -> asyncio.Event:
        """Something suggests the connection died (the watcher lost its own): test it now. The
        event returned is set once the connection has answered; one that died instead takes the
        account offline, which stops the watcher (it is started again once the account is
        online, with a login that works)."""
        answered = asyncio.Event()
        self._link_answered.append(answered)
        self._check_link = True
        self.poke()
        return answered

    def login_refused(self, reason: str) -> None:
        """Another link of the account (the live-update one) had its login refused: the
        password no longer works, so the account stops and asks as for its own refused login,
        instead of looking online while it hears of nothing."""
        self._refused_elsewhere = reason
        self.poke()

    def mark_dirty(self, folder: str) -> None:
        """The server reported a change in ``folder``: sync it when nothing urgent waits."""
        self._dirty[folder] = None
        self.poke()

    def take_dirty(self, folder: str) -> bool:
        """Forget a change report of ``folder`` (it is about to be synced); True if there was one."""
        if folder not in self._dirty:
            return False
        del self._dirty[folder]
        return True

    async def run(self) -> None:
        """Apply triage locally at once; connect (retrying with jittered backoff) and serve
        requests until cancelled or asked to stop. Whatever is still unanswered then is
        answered ``RequestCancelled``."""
        local = asyncio.create_task(self.journal.run_local(), name=f"journal:{self.name}")
        try:
            await self._run_connected()
        finally:
            self._stopped = True
            local.cancel()
            await asyncio.gather(local, return_exceptions=True)
            self._cancel_all()

    def request_stop(self) -> None:
        """Ask :meth:`run` to end. Cancelling its task does too; this also holds should a
        cancellation be lost in a race inside the asyncio of Python 3.11 (``wait_for``)."""
        self._stopping = True
        self._interrupt.set()
        self.poke()

    async def _run_connected(self) -> None:
        backoff = Backoff(self.timings)
        quiet_since: float | None = None  # when a session the server ended was last begun again
        while not self._stopping:
            try:
                self._interrupt.clear()  # a retry asked for from now on counts
                self._set_state(ConnectionState.CONNECTING)
                await self.backend.connect()
                self._refused_elsewhere = None  # said of an earlier login
                self._certificate_told = ""
                backoff.connected()
                self._set_state(ConnectionState.ONLINE)
                await self._replay()  # what the user did offline goes first
                if not any(isinstance(r, SyncAccount) for r in self._background):
                    self._background.append(SyncAccount(account=self.name))
                await self.backend.on_online()
                await self._serve_forever()
            except asyncio.CancelledError:
                await self._quiet_disconnect()
                raise
            except Exception as exc:  # noqa: BLE001 - every failure becomes a visible state
                failure = self.backend.classify(exc)
                text = self.backend.describe(exc)
                now = time.monotonic()
                if self.backend.reconnects_at_once(exc) and (
                    quiet_since is None or now - quiet_since >= self.timings.healthy_seconds
                ):  # once per healthy spell: a server that keeps doing it gets the backoff
                    quiet_since = now
                    log.info("account %s: the server ended the session (%s): a new one at once", self.name, text)
                    self._fail_all(f"{self.name} offline: {text}")
                    await self._quiet_disconnect()
                    continue
                if failure is Failure.BUG:
                    log.exception("account %s: unexpected error", self.name)
                else:
                    log.info("account %s: %s failure: %s", self.name, failure, text)
                certificate = certificate_refusal(exc)
                # What waited fails first: its words would hide the reason the state tells once.
                self.waiting_for_user = self.waiting_for_user or failure is Failure.AUTH
                self._fail_all(self._unreachable() if failure is Failure.AUTH else f"{self.name} offline: {self._words(exc)}")
                if failure is Failure.AUTH:
                    self._tell_refused(ConnectionState.ERROR, text)
                else:
                    self._set_state(ConnectionState.ERROR, certificate.brief if certificate else text)
                if certificate is not None:
                    self._tell_certificate(certificate)
                await self._quiet_disconnect()
                if failure is Failure.AUTH:
                    await self._wait_for_retry()
                else:
                    await self._wait_to_reconnect(backoff.failed())
        await self._quiet_disconnect()

    async def _wait_for_retry(self) -> None:
        """After a refused login: nothing is tried until the user asks (or mailbag stops)."""
        await self._interrupt.wait()
        self.waiting_for_user = False

    async def _wait_to_reconnect(self, delay: float) -> None:
        """Wait ``delay`` before the next connection attempt, probing the server meanwhile: one
        that could not be reached and now answers is reconnected to at once. A retry or a stop
        ends the wait too."""
        deadline = time.monotonic() + delay
        was_down = False
        while not self._stopping:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                await asyncio.wait_for(self._interrupt.wait(), min(left, self.timings.probe_seconds))
                return
            except TimeoutError:
                pass
            reachable = await self.backend.probe()
            if reachable is False:
                was_down = True
            elif reachable and was_down:
                log.info("account %s: the server answers again", self.name)
                return

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
            await self.backend.connect()
            self._set_state(ConnectionState.SYNCING)
            await self.backend.sync_all()
            self._set_state(ConnectionState.ONLINE)
        finally:
            await self._quiet_disconnect()
            self._sink = outer

    def emit(self, event: Event) -> None:
        """Send ``event`` on; a second terminal event for the same request is a bug, logged and
        dropped, so a request is never answered twice."""
        if isinstance(event, TERMINAL):
            rid = event.request_id
            if rid in self._answered:
                log.error("account %s: request %d answered twice; dropped %r", self.name, rid, event)
                return
            self._open.pop(rid, None)
            self._answered[rid] = None
            if len(self._answered) > _ANSWERED_KEPT:
                self._answered.popitem(last=False)
        self._sink(event)

    async def sync_dirty(self) -> None:
        """Sync the folders the server reported changes in, one at a time, until none is left
        (not one already being synced). Never re-entered: reports that come while one of its
        syncs serves urgent work are taken by this same loop."""
        if self._syncing_dirty:
            return
        self._syncing_dirty = True
        try:
            while (folder := self._next_dirty()) is not None:
                await self.backend.sync_folder(folder)
        finally:
            self._syncing_dirty = False

    def _next_dirty(self) -> str | None:
        """Take the first reported folder that is not being synced (None when there is none)."""
        for folder in self._dirty:
            if folder not in self.syncing:
                del self._dirty[folder]
                return folder
        return None

    async def has_urgent_work(self) -> bool:
        """Whether :meth:`serve_urgent` would do anything now."""
        if (self._dirty and not self._syncing_dirty) or self._urgent:
            return True
        return await self._replay_due() and self.journal.idle()

    async def serve_urgent(self) -> None:
        """Serve waiting urgent requests, journal entries and reported changes now (called
        between sync batches, so new mail shows while a big folder is still filling)."""
        if await self._replay_due() and self.journal.idle():
            await self._replay()
        if self._dirty and not self._serving_urgent:
            await self.sync_dirty()
        if self._serving_urgent:
            # Already inside an urgent request (an opened folder's sync): serve only quick ones.
            while (request := self._take_quick()) is not None:
                await self._handle(request)
            return
        self._serving_urgent = True
        try:
            while self._urgent:
                await self._handle(self._urgent.popleft())
        finally:
            self._serving_urgent = False

    def _take_quick(self) -> Request | None:
        """Take the first waiting urgent request that is not an OpenFolder (None: there is none)."""
        for index, request in enumerate(self._urgent):
            if not isinstance(request, OpenFolder):
                del self._urgent[index]
                return request
        return None

    # --- internals ------------------------------------------------------------------------

    async def _serve_forever(self) -> None:
        while not self._stopping:
            self._wakeup.clear()
            if self._refused_elsewhere is not None:
                reason, self._refused_elsewhere = self._refused_elsewhere, None
                raise AuthenticationFailed(reason)
            if self._check_link:
                self._check_link = False
                waiting, self._link_answered = self._link_answered, []
                await self._keepalive()
                for answered in waiting:
                    answered.set()
            elif self._urgent:
                await self.serve_urgent()
            elif await self._replay_due():
                await self._replay()
            elif self._dirty:
                await self._step(self.sync_dirty)
            elif self._background:
                await self._handle(self._background.popleft())
            else:
                await self._rest()
                continue
            self._last_traffic = time.monotonic()

    async def _rest(self) -> None:
        """Nothing to do: wait for work; after a quiet spell, check the link."""
        now = time.monotonic()
        quiet_left = self._last_traffic + self.timings.quiet_seconds - now
        if quiet_left <= 0:
            await self._keepalive()
            await self._step(self.backend.on_quiet)
            self._last_traffic = time.monotonic()
            return
        wait = quiet_left
        if self._replay_hold > now and await self.journal.has_pending():
            wait = min(wait, self._replay_hold - now)
        try:
            await asyncio.wait_for(self._wakeup.wait(), wait)
        except TimeoutError:
            pass

    async def _keepalive(self) -> None:
        """Prove the link is alive within ``keepalive_timeout``; raise Offline when it is not."""
        try:
            await asyncio.wait_for(self.backend.keepalive(), self.timings.keepalive_timeout)
        except TimeoutError:
            raise Offline(
                f"no answer from the server within {self.timings.keepalive_timeout:g} s"
            ) from None

    async def _replay_due(self) -> bool:
        return await self.journal.has_pending() and time.monotonic() >= self._replay_hold

    async def _replay(self) -> None:
        """Replay the journal; a failure other than a lost link holds the next replay back for
        a growing while instead of looping on it, and one another mailbag is sending holds it
        back for a moment."""
        if await self._step(self.journal.replay):
            self._replay_backoff.reset()
            if self.journal.held_elsewhere:  # another mailbag is sending it: a moment later
                self._replay_hold = time.monotonic() + self.timings.journal_busy_seconds
        else:
            self._replay_hold = time.monotonic() + self._replay_backoff.failed()

    async def _step(self, work: Callable[[], Awaitable[None]]) -> bool:
        """Run one piece of background work; a lost link or refused login goes up (reconnect),
        anything else is told in one line and the account carries on. True when it worked."""
        try:
            await work()
        except Exception as exc:
            failure = self.backend.classify(exc)
            if failure in (Failure.LINK, Failure.AUTH):
                raise
            self._report(failure, exc, "background work")
            return False
        return True

    async def _handle(self, request: Request) -> None:
        try:
            if isinstance(request, SyncAccount):
                self._set_state(ConnectionState.SYNCING)
                await self.backend.sync_all()
                self._set_state(ConnectionState.ONLINE)
            elif isinstance(request, OpenFolder):
                self.backend.on_open_folder(request.folder)
                await self.backend.sync_folder(request.folder)
            elif isinstance(request, LoadBody):
                await self.backend.load_body(request.folder, request.uid)
            elif isinstance(request, Search):
                await self.backend.search(request)
            elif isinstance(request, CheckFolders):
                await self.backend.check_folders()
            elif isinstance(request, AppendMessage):
                await self.backend.append(request)
            elif isinstance(request, SaveDraft):
                await save_draft(self.backend, self.journal, request)
            elif isinstance(request, FolderRequest):
                await manage_folder(self.backend, request)
            else:
                raise Unsupported(f"{type(request).__name__} is not supported")
        except asyncio.CancelledError:
            self.emit(RequestCancelled(request.request_id))
            raise
        except Unsupported as exc:
            self.emit(RequestUnsupported(request.request_id, str(exc)))
            return
        except Exception as exc:
            failure = self.backend.classify(exc)
            certificate = certificate_refusal(exc)  # told as the account's error is (see _report)
            words = f"{self.name}: {certificate.told}" if certificate else self.backend.describe(exc)
            quiet = failure in (Failure.LINK, Failure.AUTH) and self.backend.reconnects_at_once(exc)
            self.emit(RequestFailed(request.request_id, words, told=not quiet))  # told below, else
            if failure in (Failure.LINK, Failure.AUTH):
                if not quiet:
                    self.emit(ErrorReported(self.name, self.backend.describe(exc)))
                raise
            if self.state == ConnectionState.SYNCING:  # a sync that failed ends; still connected
                self._set_state(ConnectionState.ONLINE)
            self._report(failure, exc, type(request).__name__)
            return
        self.emit(RequestDone(request.request_id))

    def _report(self, failure: Failure, exc: BaseException, what: str) -> None:
        """Tell the user in one line; a bug's traceback goes to the log."""
        text = self.backend.describe(exc)
        if failure is Failure.BUG:
            log.error("account %s: %s failed", self.name, what, exc_info=exc)
            self.emit(ErrorReported(self.name, f"internal error: {text} (details in the log)"))
        elif failure is Failure.FETCH_AUTH:
            log.info("account %s: %s: %s", self.name, what, text)  # the text says "login refused"
            self.fetch_trouble = ""  # reached, and refused: that is what the state says
            self._tell_refused(self.state, text)
        elif failure is Failure.FETCH_LINK:
            log.info("account %s: %s: server out of reach: %s", self.name, what, text)
            self._tell_out_of_reach(exc)
        elif failure is Failure.LOCAL:
            log.warning("account %s: %s failed on the local cache: %s", self.name, what, text)
            self.emit(ErrorReported(self.name, local_problem(exc, text)))
        else:
            log.info("account %s: %s refused: %s", self.name, what, text)
            certificate = certificate_refusal(exc)
            if certificate is not None:
                self._tell_certificate(certificate)
            else:
                self.emit(ErrorReported(self.name, text))

    def _words(self, exc: BaseException) -> str:
        """A failure as the status bar says it: a certificate refused by what to do about it
        first (the log has the backend's words)."""
        certificate = certificate_refusal(exc)
        return certificate.told if certificate is not None else self.backend.describe(exc)

    def _tell_certificate(self, refusal: CertificateUntrusted) -> None:
        """Say what to do about a server's certificate refused: once, not at every attempt,
        until the account connects or the user retries."""
        if refusal.told != self._certificate_told:
            self._certificate_told = refusal.told
            self.emit(ErrorReported(self.name, refusal.told))

    def _tell_out_of_reach(self, exc: BaseException) -> None:
        """The server the account fetches its mail from cannot be reached: the state says so
        (its mail here is served all the same) until a check reaches it, the reason told once
        (once also when the server's words differ only in their numbers: a session or a time),
        and again when the user retries."""
        certificate = certificate_refusal(exc)
        trouble = certificate.brief if certificate else self.backend.describe(exc)
        if certificate is not None:
            self._tell_certificate(certificate)
        elif said_alike(trouble) != self._fetch_told:  # not again for another timing
            self.emit(ErrorReported(self.name, trouble))
            self._fetch_told = said_alike(trouble)
        self.fetch_trouble = trouble
        self._set_state(self.state)

    def fetch_reached(self) -> None:
        """The server the account fetches its mail from answered: its state says so again."""
        self._fetch_told = ""
        if self.fetch_trouble:
            self.fetch_trouble = ""
            self._set_state(self.state)

    def _tell_refused(self, state: ConnectionState, text: str) -> None:
        """The login was refused (``text``, a client's words): nothing is tried again until
        the user asks, and the state says so, with the reason once."""
        self.waiting_for_user = True
        reason = self._refusal = refusal_reason(text)
        self._set_state(state, f"login refused: {reason} ({FIX_PASSWORD})", reason=reason)

    def _set_state(self, state: ConnectionState, detail: str = "", *, reason: str = "") -> None:
        self.state = state
        self.emit(ConnectionChanged(self.name, state, detail or self.fetch_trouble,
                                    waiting_for_user=self.waiting_for_user, fetch_offline=bool(self.fetch_trouble),
                                    plaintext=self.backend.plaintext,
                                    sign_in=self.waiting_for_user and self.backend.signs_in, reason=reason))

    def _fail_all(self, reason: str) -> None:
        """While offline, nothing can be served: answer every waiting request at once (a sync
        follows the reconnect anyway)."""
        for queue in (self._urgent, self._background):
            while queue:
                self.emit(RequestFailed(queue.popleft().request_id, reason))

    def _cancel_all(self) -> None:
        """Stopped: every request not answered yet (queued, being applied, just submitted) is
        cancelled."""
        self._urgent.clear()
        self._background.clear()
        for rid in list(self._open):
            self.emit(RequestCancelled(rid))

    async def _quiet_disconnect(self) -> None:
        try:
            await self.backend.on_offline()
        except Exception:  # noqa: BLE001 - best effort
            log.debug("account %s: on_offline failed", self.name, exc_info=True)
        try:
            await asyncio.wait_for(self.backend.disconnect(), 5)
        except Exception:  # noqa: BLE001 - the link may already be gone
            log.debug("account %s: disconnect failed", self.name, exc_info=True)


#: What a refused login asks of the user (said after the reason, and by the status bar's key).
FIX_PASSWORD = "fix the password, then retry"


def refusal_reason(text: str) -> str:
    """Why a login was refused, from a client's words, said once: without the "login failed:"
    or "login refused:" the state says already, nor the advice the scheduler adds."""
    for prefix in ("login failed: ", "login refused: "):
        text = text.removeprefix(prefix)
    return text.removesuffix(f" ({FIX_PASSWORD})")


def backoff_delay(attempt: int, base: float = 1.0, cap: float = 120.0) -> float:
    """Full-jitter exponential backoff: a random delay up to min(cap, base * 2**attempt)."""
    return random.uniform(base / 2, min(cap, base * 2 ** min(attempt, 16)))
