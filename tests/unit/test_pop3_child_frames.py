"""The parent's side of a POP3 download process: batches that came while it was busy are taken
together, in order, a failure is never merged into a batch, and a summary comes through whole."""

from __future__ import annotations

import pickle
from datetime import datetime, timezone
from typing import Any

from mailbag.domain.models import Address
from mailbag.protocols.maildir import summary_of
from mailbag.services.pop3_child import _frame, merged


def test_batches_that_came_together_are_one_batch_in_order() -> None:
    frames = [
        {"batch": 256, "delivered": [("k1", None)]},
        {"batch": 256, "delivered": [("k2", None), ("k3", None)]},
        {"batch": 10, "delivered": []},
    ]
    assert merged(frames) == [{"batch": 522, "delivered": [("k1", None), ("k2", None), ("k3", None)]}]


def test_keys_and_summaries_are_not_mixed_and_a_failure_stays_apart() -> None:
    error = {"error": "link", "message": "lost"}
    frames: list[dict[str, Any]] = [
        {"batch": 2, "keys": ["a", "b"]},
        {"batch": 1, "keys": ["c"]},
        error,
        {"batch": 1, "keys": ["d"]},
        {"batch": 1, "delivered": [("e", None)]},
    ]
    assert merged(frames) == [
        {"batch": 3, "keys": ["a", "b", "c"]},
        error,
        {"batch": 1, "keys": ["d"]},
        {"batch": 1, "delivered": [("e", None)]},
    ]


def test_a_summary_comes_through_a_frame_as_it_went_in() -> None:
    summary = summary_of(
        b"From: =?utf-8?q?Zo=C3=AB?= <zoe@example.org>\r\nTo: a@example.org, \"B, Bee\" <b@example.org>\r\n"
        b"Cc: c@example.org\r\nSubject: Lunch?\r\nDate: Sat, 05 Dec 2026 12:00:00 +0100\r\n"
        b"Message-ID: <1@example.org>\r\nReferences: <0@example.org>\r\n\r\nbody\r\n",
        0, frozenset(), 0.0,
    )
    frame = _frame({"batch": 1, "delivered": [("key", summary)]})
    came = pickle.loads(frame[8:])["delivered"][0][1]
    assert came == summary
    assert came.from_ == (Address("Zoë", "zoe@example.org"),)
    assert [a.display() for a in came.to] == ["a@example.org", "B, Bee"]
    assert came.date == datetime(2026, 12, 5, 11, 0, tzinfo=timezone.utc)
