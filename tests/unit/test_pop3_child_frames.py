"""The parent's side of a POP3 download process: batches that came while it was busy are taken
together, in order, and a failure is never merged into a batch."""

from __future__ import annotations

from typing import Any

from mailbag.services.pop3_child import merged


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
