"""A start reads the cache without SQLAlchemy, and opens the Store only when it is needed."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mailbag.domain.config import AccountConfig, Config, UiConfig
from mailbag.domain.models import Address, Folder, FolderRole, MessageSummary
from mailbag.services.demo import build_demo_mailbox
from mailbag.services.mail import MailService, prefetch_first_list
from mailbag.store.cache_file import CacheFile
from mailbag.store.reader import CacheReader
from mailbag.store.store import Store
from mailbag.store.version import CACHE_VERSION

ACCOUNT = "work"
START = datetime(2024, 3, 1, tzinfo=timezone.utc)
REPO = Path(__file__).resolve().parents[2]


def fill(path: Path, count: int = 40) -> None:
    """A cache with an Inbox of ``count`` messages and an empty Archive, written by the Store."""
    with Store.open(path) as store:
        store.replace_folders(
            ACCOUNT,
            [
                Folder(ACCOUNT, "Archive", "/", FolderRole.ARCHIVE),
                Folder(ACCOUNT, "INBOX", "/", FolderRole.INBOX),
            ],
        )
        store.upsert_summaries(
            ACCOUNT,
            "INBOX",
            [
                MessageSummary(
                    uid=uid,
                    date=START + timedelta(hours=uid),
                    subject=f"Report {uid}",
                    from_=(Address(f"Sender {uid}", f"s{uid}@example.org"),),
                )
                for uid in range(1, count + 1)
            ],
        )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """A cache file at the current version with 40 messages in the Inbox; no Store open on it."""
    filled = tmp_path / "cache.sqlite3"
    fill(filled)
    return filled


@pytest.fixture
def cache(path: Path) -> Iterator[CacheFile]:
    opened = CacheFile(path)
    yield opened
    opened.close()


READ_WITHOUT_STORE = """
import json, sys
from pathlib import Path
from mailbag.store.cache_file import CacheFile

cache = CacheFile(Path(sys.argv[1]))
index = cache.reader.message_index("work", "INBOX")
rows = cache.reader.rows(index[:3])
print(json.dumps({
    "folders": [f.name for f in cache.reader.folders("work")],
    "count": len(index),
    "subjects": [r.subject for r in rows],
    "store_open": cache.is_open,
    "sqlalchemy": "sqlalchemy" in sys.modules,
}))
cache.close()
"""


def test_a_current_cache_is_read_without_importing_sqlalchemy(path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", READ_WITHOUT_STORE, str(path)],
        capture_output=True, text=True, cwd=REPO, check=True, timeout=60,
    )

    seen = json.loads(done.stdout)
    assert seen == {
        "folders": ["INBOX", "Archive"],
        "count": 40,
        "subjects": ["Report 40", "Report 39", "Report 38"],
        "store_open": False,
        "sqlalchemy": False,
    }


def test_a_missing_cache_is_built_by_the_store_first(tmp_path: Path) -> None:
    path = tmp_path / "new" / "cache.sqlite3"
    path.parent.mkdir()

    cache = CacheFile(path)
    try:
        assert cache.is_open
        assert path.exists()
        assert cache.reader.folders(ACCOUNT) == []
    finally:
        cache.close()


def test_an_older_cache_is_rebuilt_before_anything_reads_it(path: Path) -> None:
    with closing(sqlite3.connect(path)) as raw:
        raw.execute(f"PRAGMA user_version={CACHE_VERSION - 1}")
        raw.commit()

    assert CacheReader.open_current(path) is None
    cache = CacheFile(path)
    try:
        assert cache.is_open
        assert cache.reader.folders(ACCOUNT) == []  # refilled by the next sync
    finally:
        cache.close()


def test_the_store_opens_once_however_many_threads_ask(cache: CacheFile) -> None:
    got: list[Store] = []
    threads = [threading.Thread(target=lambda: got.append(cache.store)) for _ in range(6)]
    assert not cache.is_open
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 6 and all(s is got[0] for s in got)
    assert got[0].reader is cache.reader


def test_the_reader_sees_what_the_store_writes_later(cache: CacheFile) -> None:
    assert len(cache.reader.message_index(ACCOUNT, "INBOX")) == 40
    cache.store.upsert_summaries(ACCOUNT, "INBOX", [MessageSummary(uid=99, subject="Late")])
    cache.store.set_hidden(ACCOUNT, "INBOX", range(1, 39), True)
    index = cache.reader.message_index(ACCOUNT, "INBOX")
    assert sorted(r.uid for r in cache.reader.rows(index)) == [39, 40, 99]


def test_a_closed_reader_refuses_to_read(path: Path) -> None:
    reader = CacheReader(path)
    assert len(reader.message_index(ACCOUNT, "INBOX")) == 40
    reader.close()
    with pytest.raises(sqlite3.ProgrammingError):
        reader.folders(ACCOUNT)


async def test_the_service_paints_from_the_reader_and_opens_the_store_when_it_starts(
    tmp_path: Path, cache: CacheFile
) -> None:
    config = Config(
        path=None,
        accounts={"demo": AccountConfig(name="demo", email="me@example.org", default=True,
                                        maildir=build_demo_mailbox(tmp_path / "Mail"))},
    )
    # The cache holds an account the config no longer has; the demo account is not cached yet.
    service = MailService(config, cache, lambda _event: None)
    try:
        assert service.folders("demo") == []
        assert len(service.rows(cache.reader.message_index(ACCOUNT, "INBOX"))) == 40
        assert not cache.is_open

        await service.start()

        assert cache.is_open
    finally:
        await service.stop()


def test_a_prefetched_list_is_taken_once_and_only_for_the_same_list(path: Path) -> None:
    reader = CacheReader(path)
    try:
        expected = reader.message_index(ACCOUNT, "INBOX")
        reader.prefetch_index(ACCOUNT, "INBOX")
        assert reader.prefetched_index(ACCOUNT, "INBOX", "date", reverse=True) is None
        assert wait_for_prefetch(reader) == expected
        assert reader.prefetched_index(ACCOUNT, "INBOX") is None  # taken
    finally:
        reader.close()


def test_opening_the_store_drops_a_prefetched_list_so_a_write_is_never_hidden(
    cache: CacheFile,
) -> None:
    cache.reader.prefetch_index(ACCOUNT, "INBOX")
    cache.store.set_hidden(ACCOUNT, "INBOX", [40], True)  # opens the Store, then writes

    assert cache.reader.prefetched_index(ACCOUNT, "INBOX") is None
    assert len(cache.reader.message_index(ACCOUNT, "INBOX")) == 39


def test_the_first_list_read_ahead_is_the_default_accounts_inbox(cache: CacheFile) -> None:
    accounts = {
        "other": AccountConfig(name="other", email="o@example.org", maildir=Path("unused")),
        ACCOUNT: AccountConfig(name=ACCOUNT, email="w@example.org", default=True,
                               maildir=Path("unused")),
    }
    prefetch_first_list(Config(path=None, accounts=accounts), cache)

    assert cache.reader.message_index(ACCOUNT, "INBOX", "date", reverse=True)  # another list:
    assert cache.reader.prefetched_index(ACCOUNT, "INBOX") is None  # ...the read ahead is gone
    prefetch_first_list(Config(path=None, accounts=accounts), cache)
    assert wait_for_prefetch(cache.reader) == cache.reader.message_index(ACCOUNT, "INBOX")


def test_no_list_is_read_ahead_for_thread_view_or_once_the_store_is_open(
    cache: CacheFile,
) -> None:
    account = AccountConfig(name=ACCOUNT, email="w@example.org", maildir=Path("unused"))
    threaded = Config(path=None, ui=UiConfig(threads=True), accounts={ACCOUNT: account})
    prefetch_first_list(threaded, cache)
    assert cache.reader._prefetched is None

    cache.store  # noqa: B018 - opens it
    prefetch_first_list(Config(path=None, accounts={ACCOUNT: account}), cache)
    assert cache.reader._prefetched is None


def wait_for_prefetch(reader: CacheReader) -> object:
    for _ in range(200):
        got = reader.prefetched_index(ACCOUNT, "INBOX")
        if got is not None:
            return got
        time.sleep(0.01)
    raise AssertionError("the list read ahead never finished")
