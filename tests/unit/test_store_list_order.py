"""The list order of a big folder: every sort key, hidden rows left out, read from the right index."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mailbag.domain.models import Address, MessageRow, MessageSummary
from mailbag.store.store import Store

ACCOUNT = "work"
INBOX = "INBOX"
ARCHIVE = "Archive"
COUNT = 3000
START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def shuffled_folder(seed: int, uids: range) -> list[MessageSummary]:
    """Messages whose uid order, date order and insertion order all differ; some share a date
    (to the second), some have none."""
    rng = random.Random(seed)
    result = []
    for uid in uids:
        date = None if rng.random() < 0.03 else START + timedelta(seconds=rng.randrange(COUNT // 2))
        result.append(
            MessageSummary(
                uid=uid,
                date=date,
                size=rng.randrange(1, 500) * 100,
                subject=f"subject {rng.randrange(200):03d}",
                from_=(Address(f"{rng.choice('aBcD')}sender {rng.randrange(50):02d}", "s@example.org"),),
            )
        )
    rng.shuffle(result)
    return result


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "cache.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    s = Store.open(db_path)
    s.upsert_summaries(ACCOUNT, INBOX, shuffled_folder(1, range(1, COUNT + 1)))
    s.set_hidden(ACCOUNT, INBOX, range(7, COUNT + 1, 97), True)  # moves waiting for the server
    yield s
    s.close()


def date_key(row: MessageRow) -> tuple[bool, float, int]:
    """Newest first, ties by the higher uid, undated last."""
    return (row.date is None, -row.date.timestamp() if row.date else 0.0, -row.uid)


def visible_uids() -> set[int]:
    return set(range(1, COUNT + 1)) - set(range(7, COUNT + 1, 97))


def test_date_order_of_a_big_folder_is_exact_and_leaves_hidden_rows_out(store: Store) -> None:
    index = store.message_index(ACCOUNT, INBOX)
    rows = store.rows(index)

    assert {r.uid for r in rows} == visible_uids()
    assert rows == sorted(rows, key=date_key)
    assert list(store.message_index(ACCOUNT, INBOX, "date", reverse=True)) == list(index)[::-1]


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("key", ["sender", "subject", "size"])
def test_other_orders_of_a_big_folder(store: Store, key: str, reverse: bool) -> None:
    rows = store.rows(store.message_index(ACCOUNT, INBOX, key, reverse))

    assert {r.uid for r in rows} == visible_uids()
    if key == "size":
        sizes = [r.size for r in rows]
        assert sizes == sorted(sizes, reverse=not reverse)
    else:
        texts = [(r.sender if key == "sender" else r.subject).lower() for r in rows]
        assert texts == sorted(texts, reverse=reverse)
        # within one sender or subject, newest first
        for a, b in zip(rows, rows[1:]):
            same = a.sender.lower() == b.sender.lower() if key == "sender" else a.subject == b.subject
            if same and a.date and b.date:
                assert a.date >= b.date


def test_unified_list_merges_folders_by_date(store: Store) -> None:
    store.upsert_summaries(ACCOUNT, ARCHIVE, shuffled_folder(2, range(1, 1001)))
    index = store.reader.message_index_many([(ACCOUNT, INBOX), (ACCOUNT, ARCHIVE), (ACCOUNT, "Nowhere")])
    rows = store.rows(index)

    assert len(rows) == len(visible_uids()) + 1000
    assert {r.folder for r in rows} == {INBOX, ARCHIVE}
    dates = [r.date for r in rows if r.date is not None]
    assert dates == sorted(dates, reverse=True)
    assert all(r.date is None for r in rows[len(dates) :])  # undated last
    assert len(store.reader.message_index_many([(ACCOUNT, "Nowhere")])) == 0


def test_empty_folder_has_an_empty_list(store: Store) -> None:
    store.set_hidden(ACCOUNT, INBOX, range(1, COUNT + 1), True)
    assert len(store.message_index(ACCOUNT, INBOX)) == 0
    assert store.counts(ACCOUNT, INBOX) == (0, 0)


def plan(db_path: Path, sql: str) -> str:
    with closing(sqlite3.connect(db_path)) as conn:
        return "\n".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", (1,)))


@pytest.mark.parametrize("order", ["date DESC, uid DESC", "date ASC, uid ASC"])
def test_list_order_comes_from_a_covering_index_without_sorting(
    store: Store, db_path: Path, order: str
) -> None:
    found = plan(db_path, f"SELECT id FROM messages WHERE folder_id = ? AND hidden = 0 ORDER BY {order}")
    assert "COVERING INDEX" in found
    assert "TEMP B-TREE" not in found


def test_counts_come_from_a_covering_index(store: Store, db_path: Path) -> None:
    found = plan(
        db_path, "SELECT count(*), sum(unread) FROM messages WHERE folder_id = ? AND hidden = 0"
    )
    assert "COVERING INDEX" in found
