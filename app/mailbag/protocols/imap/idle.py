"""IDLE (RFC 2177) on a dedicated connection, with a liveness check and NOOP polling as fallback.

How a dead link is noticed, at the latest:
- TCP keepalive on the socket (set by :meth:`ImapClient.connect`): the kernel probes a quiet link
  after 60 s and gives up after 4 unanswered probes 15 s apart, so a link that died while idle
  is closed within about 2 minutes;
- the liveness check here: when nothing at all (no push, no ``+ idling``, no ``* OK Still here``)
  arrived for ``liveness_seconds`` (:data:`LIVENESS_SECONDS`, 5 minutes by default: longer than
  the 2 minutes of Dovecot's and most servers' IDLE keepalive, so a healthy server is never
  disturbed), the watcher sends DONE and NOOP and expects answers within the command timeout,
  else it raises :class:`ImapConnectionError`. Worst case: ``liveness_seconds`` + twice the
  command timeout.
- a server that closes the link (restart, ``doveadm kick``) ends the iterator at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from mailbag.protocols.imap.errors import ImapConnectionError, ImapError
from mailbag.protocols.imap.protocol import ImapCommand, ServerPush, StreamingProtocol

#: Re-issue IDLE at least this often (RFC 2177: servers may drop an IDLE after 30 minutes).
MAX_IDLE_SECONDS = 25 * 60
#: Silence after which the link is checked with DONE + NOOP.
LIVENESS_SECONDS = 5 * 60
#: NOOP interval where the server has no IDLE.
POLL_SECONDS = 60.0


class IdleCommand(ImapCommand):
    """IDLE: claims no untagged response (they all become pushes); notes the ``+`` that starts it."""

    def __init__(self, protocol: StreamingProtocol) -> None:
        super().__init__("IDLE", protocol.new_tag(), loop=protocol.loop, timeout=None)
        self.accepted = asyncio.Event()

    def continued(self, line: bytes) -> bool:
        self.accepted.set()
        return True


@dataclass(frozen=True)
class Link:
    """What watching needs from the client (given by ``ImapClient.idle``)."""

    lock: asyncio.Lock  # held while a command runs; held for a whole IDLE
    protocol: Callable[[], StreamingProtocol]  # the live connection (ImapConnectionError when gone)
    execute: Callable[[ImapCommand], Awaitable[object]]  # runs a command to its end; NO / BAD raise
    noop: Callable[[], Awaitable[None]]  # NOOP, taking the lock itself
    timeout: float  # for each command, and for the server to start or end IDLE
    can_idle: bool  # the server offers IDLE (else NOOP polling)


async def watch(link: Link, *, max_seconds: float, liveness_seconds: float,
                poll_seconds: float) -> AsyncIterator[ServerPush]:
    """Yield the pushes of the selected folder (and NOTIFY's STATUS pushes) until the link fails."""
    if not link.can_idle:
        async for push in _poll(link, poll_seconds):
            yield push
        return
    while True:
        async for push in _idle_round(link, max_seconds, liveness_seconds):
            yield push


def _drain(queue: asyncio.Queue[ServerPush]) -> list[ServerPush]:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


async def _poll(link: Link, poll_seconds: float) -> AsyncIterator[ServerPush]:
    while True:
        await link.noop()
        for push in _drain(link.protocol().pushes):
            yield push
        await asyncio.sleep(poll_seconds)


async def _idle_round(link: Link, max_seconds: float, liveness_seconds: float) -> AsyncIterator[ServerPush]:
    """One IDLE ... DONE; the connection's lock is held throughout, so nothing else is sent."""
    timeout = link.timeout
    async with link.lock:
        protocol = link.protocol()
        command = IdleCommand(protocol)
        task = asyncio.ensure_future(link.execute(command))
        try:
            await _started(protocol, command, task, timeout)
            for push in _drain(protocol.pushes):
                yield push
            silent = False
            started = time.monotonic()
            while not task.done():
                now = time.monotonic()
                until_reissue = started + max_seconds - now
                until_check = protocol.last_received + liveness_seconds - now
                if until_reissue <= 0:
                    break
                if until_check <= 0:
                    silent = True
                    break
                arrived = await _next_push(protocol.pushes, task, min(until_reissue, until_check))
                if arrived is not None:
                    yield arrived
                    for queued in _drain(protocol.pushes):
                        yield queued
            if task.done():
                await task  # the server ended IDLE: a dead link raises, else idle again
                return
            await _done(protocol, task, timeout)
            if silent:
                await link.execute(ImapCommand("NOOP", protocol.new_tag(), loop=protocol.loop, timeout=timeout))
            for push in _drain(protocol.pushes):
                yield push
        finally:
            if not task.done():
                # Left early (the consumer stopped): end IDLE so the connection stays usable.
                if protocol.error is None and command.accepted.is_set():
                    try:
                        await _done(protocol, task, timeout)
                    except ImapError:
                        pass
                else:
                    protocol.abort("IDLE abandoned")
                    await asyncio.wait({task})
            if task.done() and not task.cancelled():
                task.exception()


async def _next_push(pushes: asyncio.Queue[ServerPush], task: asyncio.Future[Any],
                     timeout: float) -> ServerPush | None:
    """The next push, or None when ``task`` ends or ``timeout`` passes first. The getter never
    outlives the call, also when the caller is cancelled (a folder switch)."""
    getter = asyncio.ensure_future(pushes.get())
    waiting: set[asyncio.Future[Any]] = {getter, task}
    try:
        await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        return getter.result() if getter.done() else None
    finally:
        getter.cancel()


async def _started(protocol: StreamingProtocol, command: IdleCommand, task: asyncio.Future[Any],
                   timeout: float) -> None:
    accepted = asyncio.ensure_future(command.accepted.wait())
    waiting: set[asyncio.Future[Any]] = {accepted, task}
    try:
        await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if accepted.done():
            return
    finally:
        accepted.cancel()
    if task.done():
        await task  # NO / BAD or a dead link raise
        raise ImapError("the server ended IDLE before it began")
    protocol.abort(f"no answer to IDLE within {timeout:g} s")
    await asyncio.wait({task})
    raise ImapConnectionError(protocol.error)


async def _done(protocol: StreamingProtocol, task: asyncio.Future[Any], timeout: float) -> None:
    """Send DONE and wait for IDLE's tagged answer within ``timeout``."""
    protocol.write(b"DONE\r\n")
    await asyncio.wait({task}, timeout=timeout)
    if not task.done():
        protocol.abort(f"no answer to DONE within {timeout:g} s")
        await asyncio.wait({task})
        raise ImapConnectionError(protocol.error)
    await task
