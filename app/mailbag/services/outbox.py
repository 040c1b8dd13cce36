"""The outbox: messages are committed to the local store first, then sent by SMTP, then copied to
the account's Sent folder. Runs on the workers' loop, next to the account workers.

States (see :class:`~mailbag.domain.models.OutgoingState`) and what moves a message on:

- queued: waiting for its time (``send_at``) or for its next try after a temporary failure (a
  4xx reply, a server that cannot be reached, a TLS failure), tried again with jittered backoff.
- sending: recorded once the server said go ahead for the message's bytes. A message found in
  this state at start was being handed over when mailbag stopped: it becomes uncertain.
- sent: the server took it; it stays only while its copy for the Sent folder is owed (stored
  with its own retries through the account worker; a retry first looks for the Message-ID, so
  the copy is never stored twice). Then it leaves the outbox.
- held: the server refused it for good (5xx) or the login was refused; the reason is kept. It
  is sent again only when the user says so (``SendOutgoingNow``).
- uncertain: the link was lost after the message was handed over; it may have gone out, so it
  is never sent again unless the user says so.

Every request is answered exactly once (``SendMessage`` once the message is committed). One
process at a time sends (a lock beside the local store): a second mailbag queues, the first
sends.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from mailbag.domain.config import AccountConfig, Config
from mailbag.domain.events import (
    TERMINAL,
    ErrorReported,
    Event,
    EventSink,
    MessageQueued,
    Notice,
    OutboxChanged,
    RequestCancelled,
    RequestDone,
    RequestFailed,
    RequestUnsupported,
)
from mailbag.domain.models import SEEN, FolderRole, MarkWhenSent, OutgoingMessage, OutgoingState
from mailbag.domain.envelope import EnvelopeError, check_address, envelope_address, message_id_of, prepare
from mailbag.domain.requests import (
    AppendMessage,
    CancelOutgoing,
    Request,
    SendMessage,
    SendOutgoingNow,
    SetFlags,
)
from mailbag.domain.sanitize import clean_line
from mailbag.domain.wording import said_alike
from mailbag.protocols.smtp.client import SmtpSettings, submit
from mailbag.protocols.smtp.errors import (
    SmtpAuthFailed,
    SmtpError,
    SmtpPermanent,
    SmtpTemporary,
    SmtpUncertain,
)
from mailbag.services.failures import Unsupported
from mailbag.services.scheduler import backoff_delay
from mailbag.services.secrets import SecretError, login_once_more, resolve_password
from mailbag.store.local import (
    COPY_NONE,
    COPY_OWED,
    HELD,
    QUEUED,
    SENDING,
    SENT,
    UNCERTAIN,
    LocalStore,
)
from mailbag.store.records import OutboxItem

if TYPE_CHECKING:
    from mailbag.store.store import Store

log = logging.getLogger(__name__)

#: Requests the outbox serves (the account workers serve the others).
OUTBOX_REQUESTS = (SendMessage, CancelOutgoing, SendOutgoingNow)
#: States the user may cancel a message in, or send it again from.
_USER_STATES = (QUEUED, HELD, UNCERTAIN)
#: A message found being handed over when mailbag starts.
_STOPPED_WHILE_SENDING = "mailbag stopped while handing the message over: it may have been sent"


@dataclass(frozen=True, slots=True)
class OutboxTimings:
    """Seconds between tries after a temporary failure (tests shrink them)."""

    retry_base: float = 5.0
    retry_cap: float = 600.0
    #: While another mailbag sends, how often to look whether it still does; while this one
    #: sends, how often to look for messages another one (``mailbag send``) queued.
    lock_seconds: float = 10.0


class CopyStore(Protocol):
    """Stores the copy of a sent message in its account's Sent folder (raises on failure)."""

    async def __call__(self, request: AppendMessage) -> None: ...


class NoSentFolderCopy(Exception):
    """The account cannot store messages: no copy is made."""


class SendCancelled(Exception):
    """The message was cancelled or taken while its sending began."""


class OutboxService:
    """Queues, sends and copies the messages of every account's outbox."""

    def __init__(
        self,
        config: Config,
        local: LocalStore,
        sink: EventSink,
        store_copy: CopyStore,
        timings: OutboxTimings | None = None,
        flag_original: Callable[[Request], object] | None = None,
    ) -> None:
        self.config = config
        self.local = local
        self._sink = sink
        self._store_copy = store_copy
        #: Submits the flag change a sent reply or forward makes on its original (the triage
        #: journal's path); None where no account worker runs (``mailbag send``).
        self._flag_original = flag_original
        self.timings = timings or OutboxTimings()
        self._wakeup = asyncio.Event()
        self._sending: int | None = None  # the message being sent now
        self._again: set[int] = set()  # asked to be sent now while being sent: no backoff after
        self._told_waiting: dict[int, str] = {}  # message -> why it waits, as the status bar was told (said_alike)
        self._copying: dict[int, asyncio.Task[None]] = {}
        self._told_no_copy: set[tuple[str, str]] = set()  # (account, reason) said in the status bar
        self._queueing: set[asyncio.Task[None]] = set()
        self._stopped = False
        self.sends = False  # this process holds the outbox lock

    # --- requests ---------------------------------------------------------------------------

    def submit(self, request: Request) -> int:
        """Serve an outbox request on the workers' loop; its one terminal answer comes at once,
        or for SendMessage once the message is committed."""
        rid = request.request_id
        if self._stopped:
            self._sink(RequestCancelled(rid))
        elif isinstance(request, SendMessage):
            task = asyncio.get_running_loop().create_task(self._queue(request))
            self._queueing.add(task)
            task.add_done_callback(self._queueing.discard)
        elif isinstance(request, CancelOutgoing):
            self._answer(rid, self._cancel(request.outbox_id))
        elif isinstance(request, SendOutgoingNow):
            self._answer(rid, self._send_now(request.outbox_id))
        else:
            self._sink(RequestUnsupported(rid, f"the outbox cannot do {type(request).__name__}"))
        return rid

    def _answer(self, rid: int, error: str) -> None:
        self._sink(RequestFailed(rid, error) if error else RequestDone(rid))
        if not error:
            self.publish()
            self._wakeup.set()

    async def _queue(self, request: SendMessage) -> None:
        rid = request.request_id
        try:
            item_id = await asyncio.to_thread(
                self.queue, request.account, request.message, request.recipients, request.send_at,
                request.mark,
            )
        except (EnvelopeError, LookupError) as exc:
            self._sink(RequestFailed(rid, str(exc)))
            return
        except Exception as exc:  # noqa: BLE001 - the disk: tell, nothing was queued
            log.error("outbox: queueing a message failed", exc_info=exc)
            self._sink(RequestFailed(rid, f"the message could not be stored in the outbox: {exc}"))
            return
        self._sink(MessageQueued(rid, request.account, item_id))
        self._sink(RequestDone(rid))
        self.publish()
        self._wakeup.set()

    def queue(
        self,
        account_name: str,
        raw: bytes,
        recipients: Sequence[str] | None = None,
        send_at: float | None = None,
        mark: MarkWhenSent | None = None,
    ) -> int:
        """Check ``raw`` and commit it to the outbox (blocking: call it from a thread); returns
        its id; ``mark`` is flagged once it is sent. Without ``recipients`` (``sendmail -t``) they are read from To, Cc and Bcc, and
        the Bcc field is taken out. Raises EnvelopeError or LookupError (no such account, or
        one that cannot send)."""
        account = self._account(account_name)
        outgoing = prepare(raw, domain=_domain(account.email), strip_bcc=recipients is None)
        chosen = outgoing.recipients if recipients is None else recipients
        envelope = tuple(dict.fromkeys(envelope_address(check_address(r.strip())) for r in chosen))
        if not envelope:
            raise EnvelopeError("the message has no recipients")
        return self.local.add_outbox(
            account.name,
            outgoing.raw,
            sender=envelope_address(account.email),
            recipients=envelope,
            subject=outgoing.subject,
            send_at=send_at,
            mark=mark,
        )

    def _account(self, name: str) -> AccountConfig:
        account = self.config.accounts.get(name)
        if account is None:
            raise LookupError(f"no account named {name!r}")
        if account.smtp is None:
            raise LookupError(f"account {name} has no [accounts.{name}.smtp] table to send with")
        return account

    def _cancel(self, item_id: int) -> str:
        if self.local.remove_outbox(item_id, _USER_STATES):
            return ""
        return self._why_not(item_id, "cancelled")

    def _send_now(self, item_id: int) -> str:
        if item_id == self._sending:  # being tried now: should this try fail, the next is at once
            self._again.add(item_id)
            return ""
        if self.local.update_outbox(
            item_id, _USER_STATES, QUEUED, error="", next_attempt=0.0, reset_attempts=True,
            clear_send_at=True,
        ):
            return ""
        return self._why_not(item_id, "sent again")

    def _why_not(self, item_id: int, what: str) -> str:
        item = self.local.outbox_item(item_id)
        if item is None:
            return "that message is no longer in the outbox"
        if item.id == self._sending or item.state == SENDING:
            return f"the message is being sent; it cannot be {what} now"
        return f"the message was sent; it cannot be {what}"

    # --- what the screen shows ----------------------------------------------------------------

    def messages(self) -> tuple[OutgoingMessage, ...]:
        """Every message in the outbox, oldest first, as the screen shows it."""
        return tuple(self._shown(item) for item in self.local.outbox(with_raw=False))

    def _shown(self, item: OutboxItem) -> OutgoingMessage:
        shown = outgoing_message(item)
        if item.id == self._sending:
            shown = replace(shown, state=OutgoingState.SENDING)
        return shown

    def publish(self) -> None:
        """Tell the screen what the outbox holds now."""
        self._sink(OutboxChanged(self.messages()))

    # --- the sending loop ---------------------------------------------------------------------

    async def run(self) -> None:
        """Send what is due, copy what was sent, until cancelled. Only one process sends: while
        another holds the outbox, this one only queues, and looks again now and then."""
        try:
            while not self.sends and not self._stopped:
                self.sends = await asyncio.to_thread(self.local.lock_outbox)
                if self.sends:
                    break
                self.publish()
                self._wakeup.clear()
                await self._rest(self.timings.lock_seconds)
            if self.sends and not self._stopped:
                await asyncio.to_thread(self.recover)
                self.publish()
            # stop() also sets the wake-up, and Python 3.11's wait_for can then swallow the
            # cancellation that follows it: the flag ends the loop whichever way it goes.
            while not self._stopped:
                self._wakeup.clear()  # before reading the outbox: a change from now on wakes it
                # Another process (mailbag send) queues without waking this one: look again soon.
                await self._rest(min(await self.step(), self.timings.lock_seconds))
        finally:
            await self._stop()

    def recover(self) -> None:
        """A message left being handed over by a mailbag that stopped may have gone out: it is
        uncertain (call only while holding the outbox lock)."""
        for item in self.local.outbox(state=SENDING, with_raw=False):
            self.local.update_outbox(item.id, [SENDING], UNCERTAIN, error=_STOPPED_WHILE_SENDING)

    async def step(self, *, now_or_never: bool = False) -> float:
        """Send every message that is due and start the copies that are owed; returns how long
        until the next one is due (seconds; inf: nothing waits). ``now_or_never``: every one
        whose time has come, once, without waiting out a backoff (``mailbag send --flush``)."""
        next_due = math.inf
        for item in self.local.outbox(with_raw=False):
            now = time.time()
            if now_or_never:
                item = replace(item, next_attempt=0.0)
            if item.state == QUEUED:
                due = max(item.send_at or 0.0, item.next_attempt)
                if due <= now:
                    await self.attempt(item.id)
                    next_due = 0.0 if not now_or_never else next_due  # more may have come
                else:
                    next_due = min(next_due, due - now)
            elif item.state == SENT and item.copy == COPY_OWED and item.id not in self._copying:
                if item.next_attempt <= now:
                    self._start_copy(item.id)
                else:
                    next_due = min(next_due, item.next_attempt - now)
        return next_due

    async def signed_in(self, account: str) -> None:
        """``account`` has just signed in with OAuth2: its waiting messages go now."""
        for item in await asyncio.to_thread(self.local.outbox, account, QUEUED, with_raw=False):
            await asyncio.to_thread(self.local.update_outbox, item.id, [QUEUED], QUEUED, next_attempt=0.0)
        self._wakeup.set()

    async def _rest(self, seconds: float) -> None:
        """Wait ``seconds``, or less when woken (a message queued, one to send now)."""
        if seconds <= 0:
            return
        try:
            await asyncio.wait_for(self._wakeup.wait(), min(seconds, 3600.0))
        except TimeoutError:
            pass

    async def attempt(self, item_id: int) -> str:
        """Try to send one queued message now; returns its state afterwards ("" when it left the
        outbox: sent, and no copy owed)."""
        item = await asyncio.to_thread(self.local.outbox_item, item_id)
        if item is None or item.state != QUEUED:
            return item.state if item is not None else ""
        self._sending = item.id
        self.publish()
        try:
            return await self._attempt(item)
        finally:
            self._sending = None
            self._again.discard(item.id)
            self.publish()

    async def _attempt(self, item: OutboxItem) -> str:
        account = self.config.accounts.get(item.account)
        if account is None or account.smtp is None:
            return await self._outcome(item, HELD, f"account {item.account} cannot send any more")
        server = account.smtp
        what = "OAuth2 token" if server.uses_oauth2 else "password"
        try:
            secret = await resolve_password(server)
        except SecretError as exc:
            # Not signed in (yet): that is done in the app, and the message waits for it.
            state = QUEUED if server.oauth2 is not None else HELD
            return await self._outcome(item, state, f"no {what} for {server.host}: {exc}", retry=state == QUEUED)

        async def handing_over() -> None:
            if not await asyncio.to_thread(self.local.update_outbox, item.id, [QUEUED], SENDING):
                raise SendCancelled()

        async def send(secret: str) -> str:
            return await submit(
                SmtpSettings.of(server, secret), item.sender or account.email, list(item.recipients),
                item.raw, handing_over,
            )

        try:
            reply = await login_once_more(server, secret, send, SmtpAuthFailed)
        except SecretError as exc:
            return await self._outcome(item, HELD, f"no {what} for {server.host}: {exc}")
        except SendCancelled:
            return ""
        except SmtpTemporary as exc:
            return await self._outcome(item, QUEUED, exc.reason, retry=True)
        except (SmtpPermanent, SmtpAuthFailed) as exc:
            return await self._outcome(item, HELD, exc.reason)
        except SmtpUncertain as exc:
            return await self._outcome(item, UNCERTAIN, exc.reason)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug: log it, keep the message
            log.error("outbox: sending message %d failed", item.id, exc_info=exc)
            text = f"internal error: {exc} (details in the log)"
            if await asyncio.to_thread(self.local.update_outbox, item.id, [SENDING], UNCERTAIN, error=text):
                self._tell_not_sent(item, UNCERTAIN, text)
                return UNCERTAIN
            return await self._outcome(item, QUEUED, text, retry=True)
        log.info("outbox: message %d sent (%s)", item.id, clean_line(reply))
        self._told_waiting.pop(item.id, None)
        self._sink(Notice(item.account, sent_words(item)))
        self._mark_original(item)
        if self._wants_copy(account):
            await asyncio.to_thread(
                self.local.update_outbox, item.id, [SENDING], SENT, error="", copy=COPY_OWED,
                next_attempt=0.0, reset_attempts=True,
            )
            self._start_copy(item.id)
            return SENT
        await asyncio.to_thread(self.local.remove_outbox, item.id, [SENDING])
        return ""

    def _mark_original(self, item: OutboxItem) -> None:
        """A reply or forward went out: its original gets \\Answered or $Forwarded, through the
        journal (which keeps it across restarts and sets on the server only what it takes)."""
        mark = item.mark
        if mark is None or self._flag_original is None or mark.account not in self.config.accounts:
            return
        request = SetFlags(account=mark.account, folder=mark.folder, uids=(mark.uid,), add=frozenset({mark.flag}))
        try:
            self._flag_original(request)
        except Exception:  # noqa: BLE001 - the message is sent all the same
            log.exception("outbox: flagging the original of message %d failed", item.id)

    async def _outcome(self, item: OutboxItem, state: str, reason: str, retry: bool = False) -> str:
        """Record a failed attempt: its reason, and for a retry when the next one is due."""
        log.info("outbox: message %d %s: %s", item.id, state, reason)
        delay = self._retry_delay(item.attempts + 1) if retry and item.id not in self._again else 0.0
        self._again.discard(item.id)
        await asyncio.to_thread(
            self.local.update_outbox, item.id, [QUEUED, SENDING], state, error=reason,
            attempted=True, next_attempt=time.time() + delay,
        )
        self._tell_not_sent(item, state, reason)
        return state

    def _tell_not_sent(self, item: OutboxItem, state: str, reason: str) -> None:
        """Say in the status bar why ``item`` did not go (as mutt and aerc say a failed send): a
        message held or left uncertain each time; one that waits for another try when its
        reason is new, not at every try while a server stays out of reach."""
        if state == QUEUED:
            if self._told_waiting.get(item.id) == said_alike(reason):
                return
            self._told_waiting[item.id] = said_alike(reason)
        else:
            self._told_waiting.pop(item.id, None)
        self._sink(ErrorReported(item.account, not_sent_words(item, state, reason)))

    def _retry_delay(self, attempts: int) -> float:
        return backoff_delay(attempts, self.timings.retry_base, self.timings.retry_cap)

    @staticmethod
    def _wants_copy(account: AccountConfig) -> bool:
        return bool(account.smtp and account.smtp.save_sent) and account.keeps_folders

    # --- the copy in Sent -----------------------------------------------------------------

    def _start_copy(self, item_id: int) -> None:
        if item_id in self._copying or self._stopped:
            return
        task = asyncio.get_running_loop().create_task(self._copy(item_id), name=f"outbox-copy:{item_id}")
        self._copying[item_id] = task
        task.add_done_callback(lambda _t: self._copying.pop(item_id, None))

    async def _copy(self, item_id: int) -> None:
        item = await asyncio.to_thread(self.local.outbox_item, item_id)
        if item is None or item.state != SENT or item.copy != COPY_OWED:
            return
        request = AppendMessage(
            account=item.account,
            role=FolderRole.SENT,
            raw=item.raw,
            flags=frozenset({SEEN}),
            message_id=message_id_of(item.raw),
        )
        try:
            await self._store_copy(request)
        except asyncio.CancelledError:
            raise
        except NoSentFolderCopy as exc:
            log.info("outbox: no copy of message %d in Sent: %s", item.id, exc)
            told = (item.account, said_alike(str(exc)))
            if told not in self._told_no_copy:  # once, not for every message
                self._told_no_copy.add(told)
                self._sink(ErrorReported(item.account, f"Sent, but no copy kept in Sent: {clean_line(str(exc))}"))
        except Exception as exc:  # noqa: BLE001 - retried with backoff; the reason is shown
            reason = f"sent; the copy for Sent waits: {exc}"
            log.info("outbox: message %d: %s", item.id, reason)
            await asyncio.to_thread(
                self.local.update_outbox, item.id, [SENT], SENT, error=reason, attempted=True,
                next_attempt=time.time() + self._retry_delay(item.attempts + 1),
            )
            self.publish()
            self._wakeup.set()
            return
        await asyncio.to_thread(self.local.update_outbox, item.id, [SENT], SENT, copy=COPY_NONE)
        await asyncio.to_thread(self.local.remove_outbox, item.id, [SENT])
        self.publish()

    async def copies_done(self) -> None:
        """Wait for the copies being stored now (the command line waits before it exits)."""
        while self._copying:
            await asyncio.gather(*self._copying.values(), return_exceptions=True)

    # --- stopping ---------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop taking requests (they are answered RequestCancelled); end the loop by cancelling
        :meth:`run`'s task."""
        self._stopped = True
        self._wakeup.set()

    async def _stop(self) -> None:
        self._stopped = True
        if self._queueing:  # a message being committed is answered once it is
            await asyncio.gather(*self._queueing, return_exceptions=True)
        for task in list(self._copying.values()):
            task.cancel()
        if self._copying:
            await asyncio.gather(*self._copying.values(), return_exceptions=True)


def outgoing_message(item: OutboxItem) -> OutgoingMessage:
    """An outbox row as the screen shows it (the server's words cleaned for the screen)."""
    return OutgoingMessage(
        id=item.id,
        account=item.account,
        state=OutgoingState(item.state),
        subject=clean_line(item.subject),
        recipients=tuple(clean_line(r) for r in item.recipients),
        reason=clean_line(item.last_error),
        send_at=item.send_at,
        attempts=item.attempts,
        created=item.created,
    )


def _domain(email: str) -> str:
    return email.rpartition("@")[2] or "localhost"


class RequestCopier:
    """Stores copies through the account workers: an AppendMessage, and its answer awaited (the
    worker connects, reconnects and queues it as any request)."""

    def __init__(self, submit: Callable[[Request], int]) -> None:
        self._submit = submit
        self._waiting: dict[int, asyncio.Future[Event]] = {}

    async def __call__(self, request: AppendMessage) -> None:
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._waiting[request.request_id] = future
        try:
            self._submit(request)
            answer = await future
        finally:
            self._waiting.pop(request.request_id, None)
        if isinstance(answer, RequestUnsupported):
            raise NoSentFolderCopy(answer.reason)
        if isinstance(answer, RequestFailed):
            raise RuntimeError(answer.error)
        if isinstance(answer, RequestCancelled):
            raise RuntimeError("mailbag stopped")

    def take(self, event: Event) -> bool:
        """Whether ``event`` answers a copy's request (it is then this copier's, not the UI's)."""
        if not isinstance(event, TERMINAL):
            return False
        future = self._waiting.get(event.request_id)
        if future is None:
            return False
        if not future.done():
            future.set_result(event)
        return True


class DirectCopier:
    """Stores copies over a connection of its own (``mailbag send``, which runs no account
    worker): connect, store, disconnect."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store

    async def __call__(self, request: AppendMessage) -> None:
        from mailbag.services.workers import make_worker

        account = self.config.accounts[request.account]
        if not account.keeps_folders:
            raise NoSentFolderCopy(f"{account.name} has no folders to keep a copy in")
        backend = make_worker(account, self.store, lambda _event: None)
        try:
            await backend.connect()
            await backend.append(request)
        except Unsupported as exc:  # no Sent folder, and none can be made
            raise NoSentFolderCopy(str(exc)) from None
        except Exception as exc:
            raise RuntimeError(backend.describe(exc)) from exc
        finally:
            try:
                await asyncio.wait_for(backend.disconnect(), 5)
            except Exception:  # noqa: BLE001 - the link may be gone already
                log.debug("outbox: disconnect after the copy failed", exc_info=True)


def not_sent_words(item: OutboxItem, state: str, reason: str) -> str:
    """What the status bar says of ``item`` not sent, in ``state`` for ``reason``, the reason
    first (a line cut at 80 columns keeps it): ``"Lunch?" not sent yet: 451 4.3.0 … (the
    outbox tries again)``."""
    subject = clean_line(item.subject)
    what = f'"{subject}"' if subject else "a message without a subject"
    if state == HELD:
        return f"{what} not sent: {clean_line(reason)} (held in the outbox)"
    if state == UNCERTAIN:
        return f"{what} may have been sent: {clean_line(reason)} (left in the outbox, not sent again)"
    return f"{what} not sent yet: {clean_line(reason)} (the outbox tries again)"


def sent_words(item: OutboxItem) -> str:
    """What the status bar says once the server took ``item``: ``Sent "Lunch?" to
    bob@example.org and 2 more``."""
    recipients = [clean_line(r) for r in item.recipients]
    to = recipients[0] if recipients else "its recipients"
    if len(recipients) > 1:
        to += f" and {len(recipients) - 1} more"
    subject = clean_line(item.subject)
    return f'Sent "{subject}" to {to}' if subject else f"Sent a message without a subject to {to}"
