"""SearchIndexer: brings the cache's search index up to date when the app is quiet.

A sync writes messages without indexing them (that is what keeps a first sync of a big folder
fast). Once new messages stop arriving for a moment, this task indexes them in short batches on a
worker thread, so search finds them without waiting. A search that comes earlier indexes what is
left itself (``Store.search``), so results are never incomplete.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailbag.store.store import Store

log = logging.getLogger(__name__)

#: Quiet time (seconds without new messages) before indexing starts, so a running sync is not
#: slowed by competing for the cache's write lock.
QUIET_SECONDS = 1.5


class SearchIndexer:
    """Indexes new messages in the background; :meth:`poke` whenever messages were added."""

    def __init__(self, store: Store, quiet_seconds: float = QUIET_SECONDS) -> None:
        self.store = store
        self.quiet_seconds = quiet_seconds
        self._poked = asyncio.Event()
        self._last_poke = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="search-indexer")
        self.poke()  # a cache left unindexed by an earlier run or by ``mailbag sync``

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def poke(self) -> None:
        """New messages were written: index them once things are quiet."""
        self._last_poke = time.monotonic()
        self._poked.set()

    async def _run(self) -> None:
        while True:
            await self._poked.wait()
            self._poked.clear()
            while (wait := self._last_poke + self.quiet_seconds - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            try:
                await self._index_all()
            except Exception:  # noqa: BLE001 - a search indexes what is left; try again later
                log.warning("search indexing failed", exc_info=True)

    async def _index_all(self) -> None:
        started, total = time.monotonic(), 0
        while True:
            if self._poked.is_set():  # more messages are coming in: wait for quiet again
                return
            done = await asyncio.to_thread(self.store.index_pending)
            if not done:
                break
            total += done
        if total:
            log.info("indexed %d messages for search in %.2f s", total, time.monotonic() - started)
