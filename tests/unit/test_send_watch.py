"""``mailbag send`` while another mailbag holds the outbox: it waits for that mailbag's verdict."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from mailbag import send_command
from mailbag.store.local import QUEUED, SENDING, SENT
from mailbag.store.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "cache.sqlite3")
    yield opened
    opened.close()


async def test_a_message_being_handed_over_is_waited_for_not_called_queued(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(send_command, "WATCH_SECONDS", 0.01)
    item = store.local.add_outbox("work", b"To: x@example.org\r\n\r\nhello")
    assert store.local.update_outbox(item, [QUEUED], SENDING)
    watching = asyncio.create_task(send_command._watch(SimpleNamespace(local=store.local), item))  # type: ignore[arg-type]
    for _ in range(20):
        await asyncio.sleep(0.01)
    assert not watching.done()  # "sending" is no verdict
    assert store.local.update_outbox(item, [SENDING], SENT, error="")
    assert await watching == send_command.Verdict(send_command.EX_OK)


async def test_a_message_tried_and_put_back_is_reported_queued_with_the_reason(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(send_command, "WATCH_SECONDS", 0.01)
    item = store.local.add_outbox("work", b"To: x@example.org\r\n\r\nhello")
    watching = asyncio.create_task(send_command._watch(SimpleNamespace(local=store.local), item))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    assert not watching.done()
    assert store.local.update_outbox(item, [QUEUED], SENDING)
    assert store.local.update_outbox(item, [SENDING], QUEUED, error="connection refused", attempted=True)
    verdict = await watching
    assert verdict.status == send_command.EX_TEMPFAIL
    assert verdict.line.startswith("not sent yet: connection refused;")
