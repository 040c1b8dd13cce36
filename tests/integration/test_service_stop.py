"""Quitting is prompt: stopping the services never waits out a worker's safety timeout."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mailbag.services import mail
from mailbag.services.mail import MailService
from mailbag.store.store import Store
from tests.ui.real_services import maildir_config


async def test_stopping_right_after_the_start_ends_every_worker_without_waiting_them_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # stop() wakes the outbox and cancels it in one go; on Python 3.11 wait_for could take the
    # wake-up and drop the cancellation, and the outbox then slept until its next due time.
    # With the safety timeout made huge, such a worker would hold the quit for ever.
    monkeypatch.setattr(mail, "STOP_SECONDS", 3600.0)
    for attempt in range(5):
        store = Store.open(tmp_path / f"cache{attempt}.sqlite3")
        service = MailService(maildir_config(tmp_path / f"Mail{attempt}", []), store, lambda _e: None)
        await service.start()
        await asyncio.sleep(0.2)  # the outbox is resting, waiting for work
        try:
            await asyncio.wait_for(service.stop(), 60)  # a generous "is it alive" bound
        finally:
            store.close()
