"""A POP3 download goes in batches bounded in messages and in bytes, so a drop of large
messages is never held in memory all at once."""

from __future__ import annotations

from mailbag.protocols.pop3.client import Listing
from mailbag.services.pop3_batches import BATCH, BATCH_BYTES, batches


def listing(sizes: list[int]) -> list[Listing]:
    return [Listing(n, f"uidl-{n}", size) for n, size in enumerate(sizes, 1)]


def test_small_messages_go_by_the_batch() -> None:
    cut = list(batches(listing([1000] * (2 * BATCH + 1))))
    assert [len(b) for b in cut] == [BATCH, BATCH, 1]


def test_large_messages_go_a_few_at_a_time_and_a_huge_one_alone() -> None:
    big = BATCH_BYTES // 3
    cut = list(batches(listing([big] * 5 + [BATCH_BYTES * 2, 10])))
    assert [[m.number for m in b] for b in cut] == [[1, 2, 3], [4, 5], [6], [7]]
    assert all(sum(m.size for m in b) <= BATCH_BYTES for b in cut if len(b) > 1)


def test_nothing_to_fetch_is_no_batch() -> None:
    assert list(batches([])) == []
