"""The account workers run on a thread and event loop of their own: requests cross to it, events
come back from it, the caller's loop never runs worker code, and stopping ends the thread."""

from __future__ import annotations

import asyncio
import re
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mailbag.domain.config import AccountConfig, Config
from mailbag.domain.events import (
    ActionApplied,
    ConnectionChanged,
    Event,
    EventSink,
    RequestCancelled,
    RequestDone,
    SyncProgress,
)
from mailbag.domain.models import ConnectionState
from mailbag.domain.requests import OpenFolder, SetFlags
from mailbag.services.demo import build_demo_mailbox
from mailbag.services.mail import THREAD_NAME, MailService
from mailbag.store.store import Store
from mailbag.ui.app import MailbagApp
from tests.integration.accounts import imap_account_config
from tests.servers.messages import make_message
from tests.ui.helpers import status_text

#: Tasks of the services, by the names they are given.
WORKER_TASKS = ("account:", "journal:", "search-indexer")


class ThreadProbe:
    """An EventSink that notes on which thread each event was produced."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, Event]] = []

    def __call__(self, event: Event) -> None:
        self.seen.append((threading.get_ident(), event))

    @property
    def events(self) -> list[Event]:
        return [event for _, event in self.seen]

    def synced(self) -> bool:
        """Whether the account came back online after its last sync."""
        states = [e.state for e in self.events if isinstance(e, ConnectionChanged)]
        return ConnectionState.SYNCING in states and states[-1] == ConnectionState.ONLINE

    def threads(self) -> set[int]:
        return {ident for ident, _ in self.seen}

    def passing_to(self, sink: EventSink) -> EventSink:
        """An EventSink that notes each event here, then hands it to ``sink``."""

        def both(event: Event) -> None:
            self(event)
            sink(event)

        return both

    async def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 20.0) -> Event:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for event in self.events:
                if predicate(event):
                    return event
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no such event; saw {self.events[-5:]}")
            await asyncio.sleep(0.02)


def worker_tasks_here() -> list[str]:
    """Names of the services' tasks on the calling loop (there must be none)."""
    return [t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith(WORKER_TASKS)]


def accounts_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


@pytest.fixture
def demo_service(tmp_path: Path) -> Iterator[tuple[MailService, ThreadProbe]]:
    config = Config(
        path=None,
        accounts={"demo": AccountConfig(name="demo", email="me@example.org", default=True,
                                        maildir=build_demo_mailbox(tmp_path / "Mail"))},
    )
    store = Store.open(tmp_path / "cache.sqlite3")
    probe = ThreadProbe()
    yield MailService(config, store, probe), probe
    store.close()


async def test_requests_cross_to_the_workers_thread_and_events_come_back_from_it(demo_service):
    service, probe = demo_service
    await service.start()
    try:
        assert service.thread.running and service.thread.ident != threading.get_ident()
        assert worker_tasks_here() == []  # the caller's loop runs none of the workers' tasks
        request = OpenFolder(account="demo", folder="INBOX")
        assert service.submit(request) == request.request_id
        await probe.wait_for(lambda e: e == RequestDone(request.request_id))
        assert probe.threads() == {service.thread.ident}
        assert any(isinstance(e, ConnectionChanged) and e.state == ConnectionState.ONLINE
                   for e in probe.events)
    finally:
        await service.stop()


async def test_triage_and_undo_from_the_caller_run_on_the_workers_thread(demo_service):
    service, probe = demo_service
    await service.start()
    try:
        await probe.wait_for(lambda e: isinstance(e, ConnectionChanged) and e.state == ConnectionState.SYNCING)
        await probe.wait_for(lambda e: probe.synced())  # the first sync is over: nothing races the flag
        row = service.rows(list(service.message_index("demo", "INBOX")[:1]))[0]
        flag = "\\Flagged"
        service.submit(SetFlags(account="demo", folder="INBOX", uids=(row.uid,), add=frozenset({flag})))
        applied = await probe.wait_for(lambda e: isinstance(e, ActionApplied) and e.undoable)
        assert applied.description == "Marking 1 message flagged…"  # done here, not yet on the server
        assert flag in service.rows([row.row_id])[0].flags

        assert service.undo() == "Marked 1 message flagged"
        await probe.wait_for(lambda e: isinstance(e, ActionApplied) and e.description.startswith("Undone"))
        assert flag not in service.rows([row.row_id])[0].flags
        assert probe.threads() == {service.thread.ident}
        assert worker_tasks_here() == []
    finally:
        await service.stop()


async def test_stop_ends_the_thread_restores_the_switch_interval_and_cancels_later_requests(demo_service):
    service, probe = demo_service
    before = len(accounts_threads())
    switch_interval = sys.getswitchinterval()
    await service.start()
    await probe.wait_for(lambda e: isinstance(e, ConnectionChanged) and e.state == ConnectionState.ONLINE)
    assert len(accounts_threads()) == before + 1
    assert sys.getswitchinterval() < switch_interval  # the UI's thread gets the GIL sooner
    await service.stop()
    assert not service.thread.running
    assert len(accounts_threads()) == before
    assert sys.getswitchinterval() == switch_interval
    request = OpenFolder(account="demo", folder="INBOX")
    service.submit(request)
    assert probe.events[-1] == RequestCancelled(request.request_id)


async def test_a_request_made_before_start_is_served_on_the_thread(demo_service):
    service, probe = demo_service
    request = OpenFolder(account="demo", folder="INBOX")
    service.submit(request)
    await service.start()
    try:
        await probe.wait_for(lambda e: e == RequestDone(request.request_id))
        assert probe.threads() == {service.thread.ident}
    finally:
        await service.stop()


async def test_an_imap_sync_runs_on_the_workers_thread_and_quitting_during_it_ends_it(
    dovecot, mail_user, tmp_path
):
    """The app over Dovecot: the first sync's events reach the screen from the workers' thread,
    and quitting while it runs stops the workers and ends the thread."""
    dovecot.deliver_many(mail_user.name, (make_message(i, size=600) for i in range(6000)))
    config = Config(path=None, accounts={"work": imap_account_config(dovecot, mail_user)})
    store = Store.open(tmp_path / "cache.db")
    probe = ThreadProbe()
    app = MailbagApp(lambda sink: MailService(config, store, probe.passing_to(sink)))
    before = len(accounts_threads())
    async with app.run_test(size=(80, 24)) as pilot:
        deadline = asyncio.get_running_loop().time() + 30
        while not re.search(r"INBOX \d+/6000", status_text(app)):  # the progress, on screen
            assert asyncio.get_running_loop().time() < deadline, status_text(app)
            await pilot.pause(0.01)
        assert any(isinstance(e, SyncProgress) for e in probe.events)
        assert worker_tasks_here() == []
        assert isinstance(app.facade, MailService)
        thread = app.facade.thread
        assert probe.threads() == {thread.ident} != {threading.get_ident()}
        await pilot.press("q")
    assert not thread.running
    assert len(accounts_threads()) == before
    assert worker_tasks_here() == []
    store.close()
