"""The background search indexer: new messages become searchable without a search paying for it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from mailbag.domain.models import Folder, MessageSummary
from mailbag.services.indexer import SearchIndexer
from mailbag.store.store import Store

ACCOUNT, INBOX = "acct", "INBOX"


def summaries(first: int, count: int) -> list[MessageSummary]:
    return [
        MessageSummary(uid=uid, subject=f"Harvest report {uid}", date=datetime(2024, 1, 1, tzinfo=UTC))
        for uid in range(first, first + count)
    ]


async def wait_for_empty_backlog(store: Store, seconds: float) -> bool:
    for _ in range(int(seconds / 0.05)):
        if store.index_backlog() == 0:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_messages_written_earlier_are_indexed_once_the_app_starts(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "cache.db")
    store.replace_folders(ACCOUNT, [Folder(ACCOUNT, INBOX)])
    store.upsert_summaries(ACCOUNT, INBOX, summaries(1, 9000))  # e.g. by ``mailbag sync``
    assert store.index_backlog() == 9000
    indexer = SearchIndexer(store, quiet_seconds=0.05)
    indexer.start()
    try:
        assert await wait_for_empty_backlog(store, 10.0)
    finally:
        await indexer.stop()
        store.close()


async def test_indexing_waits_while_messages_keep_arriving(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "cache.db")
    store.replace_folders(ACCOUNT, [Folder(ACCOUNT, INBOX)])
    indexer = SearchIndexer(store, quiet_seconds=1.0)  # far longer than the gaps between batches
    indexer.start()
    try:
        for batch in range(5):  # a sync writing a batch every 0.1 s
            store.upsert_summaries(ACCOUNT, INBOX, summaries(1 + batch * 100, 100))
            indexer.poke()
            await asyncio.sleep(0.1)
            assert store.index_backlog() == (batch + 1) * 100
        assert await wait_for_empty_backlog(store, 5.0)
    finally:
        await indexer.stop()
        store.close()
