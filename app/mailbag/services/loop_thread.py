"""LoopThread: an asyncio event loop of its own, run on a thread of its own.

The account workers live here, so that their IMAP parsing and cache writes never take turns with
the UI's loop, which only paints and handles keys. Other threads hand work over with
:meth:`LoopThread.call_soon` (never waits) or :meth:`LoopThread.run` (a coroutine, answered by a
``concurrent.futures.Future``); work handed over runs in the order it was handed over.

A loop thread made ``background`` runs at a lower CPU priority than the rest of the process (on
Linux, where each thread has its own), and so do the threads it starts (its loop's executor) and
the helper processes (a POP3 download's): when the cores are busy, the thread that paints and
handles keys is the one that gets one first.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

#: How much lower a background loop thread's CPU priority is than its process's.
BACKGROUND_NICENESS = 5


def lower_this_threads_priority(by: int = BACKGROUND_NICENESS) -> None:
    """Make the calling thread ``by`` nicer (Linux only: elsewhere the priority is the whole
    process's, and left alone). A priority that cannot be changed is left as it is."""
    if not sys.platform.startswith("linux"):
        return
    thread = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + by))
    except OSError:
        log.debug("the priority of thread %s stays as it is", thread, exc_info=True)


class LoopThread:
    """One event loop on one daemon thread: :meth:`start` once, :meth:`stop` once."""

    def __init__(self, name: str, *, background: bool = False) -> None:
        self.name = name
        self.background = background
        self._loop: asyncio.AbstractEventLoop | None = None  # made by start()
        self._done: asyncio.Future[None] | None = None  # set to end the loop
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The thread's loop (RuntimeError before :meth:`start`)."""
        if self._loop is None:
            raise RuntimeError(f"{self.name} has not been started")
        return self._loop

    @property
    def running(self) -> bool:
        """Whether the thread has been started and has not ended."""
        return self._thread.is_alive()

    @property
    def ident(self) -> int | None:
        """The thread's identifier once started (as ``threading.get_ident()`` reports it there)."""
        return self._thread.ident

    def is_current(self) -> bool:
        """Whether the caller runs on this thread."""
        return threading.get_ident() == self._thread.ident

    def start(self) -> None:
        """Start the thread and its loop; returns at once (work handed over meanwhile waits)."""
        self._loop = asyncio.new_event_loop()
        self._done = self._loop.create_future()
        self._thread.start()

    def call_soon(self, fn: Callable[..., object], *args: Any) -> None:
        """Run ``fn(*args)`` on the loop, after what was handed over before; never waits.

        Raises RuntimeError once the loop has been stopped."""
        self.loop.call_soon_threadsafe(fn, *args)

    def run(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the loop; its outcome arrives on the returned future."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, fn: Callable[[], T], timeout: float) -> T:
        """Run ``fn()`` on the loop, after what was handed over before, and wait for its result.

        Raises TimeoutError when the loop does not get to it within ``timeout`` seconds; ``fn``
        then never runs. Called on the thread itself, or before the thread runs or after it
        ended, ``fn`` runs at once on the caller's thread.
        """
        if self.is_current() or not self.running:
            return fn()
        outcome: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            if not outcome.set_running_or_notify_cancel():
                return  # the caller stopped waiting
            try:
                outcome.set_result(fn())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                outcome.set_exception(exc)

        self.call_soon(run)
        try:
            return outcome.result(timeout)
        except TimeoutError:
            if outcome.cancel():
                raise
            return outcome.result()  # it has begun, and it does not wait on anything

    def stop(self, timeout: float) -> bool:
        """End the loop (its tasks are cancelled and awaited, its executor shut down) and wait up
        to ``timeout`` seconds for the thread to end. Returns whether it ended."""
        if not self.running:
            return True
        try:
            self.loop.call_soon_threadsafe(self._finish)
        except RuntimeError:  # closed meanwhile
            pass
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("thread %s did not end within %.0f s", self.name, timeout)
            return False
        return True

    def _finish(self) -> None:
        if self._done is not None and not self._done.done():
            self._done.set_result(None)

    def _main(self) -> None:
        if self.background:  # the threads and processes it starts inherit it
            lower_this_threads_priority()
        with asyncio.Runner(loop_factory=lambda: self.loop) as runner:
            runner.run(self._until_stopped())

    async def _until_stopped(self) -> None:
        assert self._done is not None
        await self._done
