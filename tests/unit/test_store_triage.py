"""The cache's support for triage: hidden rows, copies under new UIDs, list orders."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mailbag.domain.models import SEEN, Address, MessageSummary
from mailbag.store.store import Store

A, INBOX, ARCHIVE = "work", "INBOX", "Archive"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "c.db")
    yield s
    s.close()


def summary(uid: int, *, sender: str = "", size: int = 0, subject: str = "") -> MessageSummary:
    return MessageSummary(
        uid=uid,
        date=datetime(2024, 5, 1, tzinfo=timezone.utc) + timedelta(hours=uid),
        subject=subject or f"message {uid}",
        from_=(Address(sender or f"Sender {uid}", f"s{uid}@example.org"),),
        size=size,
    )


def subjects(store: Store, ids) -> list[str]:
    return [r.subject for r in store.rows(ids)]


def test_hidden_rows_leave_lists_and_counts_but_not_uids(store: Store) -> None:
    store.upsert_summaries(A, INBOX, [summary(u) for u in (1, 2, 3)])
    assert store.set_hidden(A, INBOX, [2], True) == 1
    assert subjects(store, store.message_index(A, INBOX)) == ["message 3", "message 1"]
    assert store.counts(A, INBOX) == (2, 2)
    assert store.uids(A, INBOX) == [1, 2, 3]  # still on the server until the move is done
    store.upsert_summaries(A, INBOX, [summary(2)])  # a sync does not unhide it
    assert len(store.message_index(A, INBOX)) == 2
    store.set_hidden(A, INBOX, [2], False)
    assert store.counts(A, INBOX) == (3, 3)


def test_the_folder_counts_move_with_the_rows_in_one_write(store: Store) -> None:
    """What the folder tree reads (the recorded counts) never lags the rows a reader sees."""
    store.upsert_summaries(A, INBOX, [summary(u) for u in (1, 2, 3)])
    store.set_counts(A, INBOX, 3, 3)
    store.set_counts(A, ARCHIVE, 0, 0)

    def recorded() -> dict[str, tuple[int, int]]:
        return {f.name: (f.total, f.unread) for f in store.folders(A)}

    store.set_hidden(A, INBOX, [2, 3], True, ARCHIVE)  # a move waiting for the server
    assert recorded() == {INBOX: (1, 1), ARCHIVE: (2, 2)}
    store.set_hidden(A, INBOX, [2, 3], True, ARCHIVE)  # already hidden: counted once
    assert recorded() == {INBOX: (1, 1), ARCHIVE: (2, 2)}
    store.update_flags(A, INBOX, [(1, frozenset({SEEN}))])
    assert recorded() == {INBOX: (1, 0), ARCHIVE: (2, 2)}
    store.set_hidden(A, INBOX, [3], False, ARCHIVE)  # the move of one is rolled back
    assert recorded() == {INBOX: (2, 1), ARCHIVE: (1, 1)}


def test_copy_to_keeps_fields_and_body_under_new_uids(store: Store) -> None:
    store.upsert_summaries(A, INBOX, [summary(1), summary(2)])
    store.update_flags(A, INBOX, [(1, frozenset({SEEN}))])
    store.put_body(A, INBOX, 1, b"Subject: message 1\r\n\r\nhello")
    assert store.copy_to(A, INBOX, ARCHIVE, {1: 501, 2: 502}) == 2
    copied = store.summary(A, ARCHIVE, 501)
    assert copied is not None and copied.subject == "message 1" and SEEN in copied.flags
    assert store.body(A, ARCHIVE, 501) == b"Subject: message 1\r\n\r\nhello"
    assert store.counts(A, ARCHIVE) == (2, 1)
    assert store.copy_to(A, INBOX, ARCHIVE, {1: 501}) == 0  # already there


@pytest.mark.parametrize(
    ("key", "reverse", "expected"),
    [
        ("date", False, ["c", "b", "a"]),
        ("date", True, ["a", "b", "c"]),
        ("sender", False, ["b", "c", "a"]),
        ("size", False, ["a", "c", "b"]),
        ("subject", True, ["c", "b", "a"]),
    ],
)
def test_list_orders(store: Store, key: str, reverse: bool, expected: list[str]) -> None:
    store.upsert_summaries(
        A,
        INBOX,
        [
            summary(1, sender="zed", size=900, subject="a"),
            summary(2, sender="Alice", size=10, subject="b"),
            summary(3, sender="bob", size=500, subject="c"),
        ],
    )
    assert subjects(store, store.message_index(A, INBOX, key, reverse)) == expected
