"""CacheWriter: writes fetched summaries to the cache on a worker thread while more are fetched.

Parsing runs on the event loop and SQLite works mostly outside the GIL, so the two overlap. A short
queue between them bounds memory; callbacks queued between batches run once everything before them
is written (a sync announces a chunk only when its rows can be read).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from mailbag.domain.models import MessageSummary

#: Batches waiting to be written before the fetch waits for the writer.
QUEUE_SIZE = 4

Write = Callable[[Sequence[MessageSummary]], Awaitable[int]]


class CacheWriter:
    """Takes batches (and callbacks) in order and writes them with ``write`` in a task of its own."""

    def __init__(self, write: Write) -> None:
        self._write = write
        self._queue: asyncio.Queue[Sequence[MessageSummary] | Callable[[], None] | None] = (
            asyncio.Queue(maxsize=QUEUE_SIZE)
        )
        self.written = 0
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while (item := await self._queue.get()) is not None:
            if callable(item):
                item()
            else:
                self.written += await self._write(item)

    async def put(self, batch: Sequence[MessageSummary]) -> None:
        """Queue a batch (waits while the queue is full); a failed write raises here."""
        await self._put(batch)

    async def then(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once every batch queued so far is written."""
        await self._put(callback)

    async def flush(self) -> None:
        """Wait until every batch queued so far is written."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def written() -> None:
            if not done.done():
                done.set_result(None)

        await self._put(written)
        await asyncio.wait({done, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if self._task.done():
            self._task.result()

    async def close(self) -> int:
        """Write what is queued, stop; returns how many summaries were written in all."""
        await self._put(None)
        await self._task
        return self.written

    async def abort(self) -> None:
        """Stop at once (after a failure elsewhere); what is still queued is dropped."""
        if not self._task.done():
            self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _put(self, item: Sequence[MessageSummary] | Callable[[], None] | None) -> None:
        put = asyncio.ensure_future(self._queue.put(item))
        await asyncio.wait({put, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if not put.done():
            put.cancel()
        if self._task.done():
            self._task.result()  # the writer's error (a cache failure)
            if item is not None:
                raise RuntimeError("cache writer stopped")
