"""Start-up order: cached rows are painted before the services (connections, sync) start."""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from textual.timer import Timer

from mailbag.domain.config import AccountConfig, Config
from mailbag.domain.events import Event, EventSink, RequestDone
from mailbag.domain.models import Folder, FolderRole
from mailbag.domain.requests import OpenFolder
from mailbag.services.api import ListOrder
from mailbag.services.demo import build_demo_mailbox
from mailbag.services.mail import MailService
from mailbag.store.store import Store
from mailbag.ui import app as app_module
from tests.ui.conftest import settle
from tests.ui.fake_facade import FakeFacade
from tests.ui.helpers import list_line
from tests.ui.sample import sample_facade


class _Watching(FakeFacade):
    """Records what the message list painted at the moment ``start()`` was called."""

    app: app_module.MailbagApp

    def __init__(self, sink: EventSink, accounts: Sequence[str] = ("work",)) -> None:
        super().__init__(sink, accounts)
        self.painted_at_start: str | None = None
        self.screen_mounted_at_start: bool | None = None

    async def start(self) -> None:
        screen = self.app.main_screen
        self.screen_mounted_at_start = screen.is_mounted
        if screen.is_mounted:
            self.painted_at_start = list_line(self.app, 0)[0] if screen.message_list.row_count else ""
        await super().start()


class _SlowIndex(FakeFacade):
    """Its list read waits until ``release`` is set."""

    def __init__(self, sink: EventSink, release: threading.Event) -> None:
        super().__init__(sink)
        self.release = release
        self.add_folder(Folder("work", "INBOX", "/", FolderRole.INBOX, total=1, unread=0))

    def message_index(self, account: str, folder: str, order: ListOrder = ListOrder()) -> Sequence[int]:
        self.release.wait(10)
        return super().message_index(account, folder, order)


@pytest.fixture
def no_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the first list (never the safety timer) may start the services."""
    monkeypatch.setattr(app_module, "START_AT_LATEST", 60.0)


async def test_cached_rows_paint_before_the_services_start(make_app, no_fallback):
    app = make_app(lambda sink: sample_facade(sink, _Watching))
    app.facade.app = app
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.facade.started
        assert "Quarterly report" in (app.facade.painted_at_start or "")


async def test_an_empty_folder_starts_the_services_at_once(make_app, no_fallback):
    def empty(sink: EventSink) -> FakeFacade:
        facade = _Watching(sink)
        facade.add_folder(Folder("work", "INBOX", "/", FolderRole.INBOX, total=0, unread=0))
        return facade

    app = make_app(empty)
    app.facade.app = app
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.facade.started
        assert app.facade.painted_at_start == ""
        assert app.main_screen.message_list.row_count == 0


async def test_a_cache_never_filled_starts_the_services_before_the_screen(make_app, no_fallback):
    app = make_app(lambda sink: _Watching(sink))
    app.facade.app = app
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.facade.started
        assert app.facade.screen_mounted_at_start is False


class _SlowStart(FakeFacade):
    """An empty cache whose start takes until ``release`` is set; records the order of calls."""

    def __init__(self, sink: EventSink) -> None:
        super().__init__(sink)
        self.release = asyncio.Event()
        self.calls: list[str] = []

    async def start(self) -> None:
        self.calls.append("start")
        await self.release.wait()
        self.calls.append("started")
        await super().start()

    async def stop(self) -> None:
        self.calls.append("stop")
        await super().stop()


async def test_quitting_while_a_first_start_is_under_way_stops_what_it_started(make_app, no_fallback):
    app = make_app(_SlowStart)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.main_screen.is_mounted  # the screen did not wait for the start
        assert app.facade.calls == ["start"]
        quitting = asyncio.create_task(pilot.press("q"))
        await asyncio.sleep(0.2)
        assert app.facade.calls == ["start"]  # stop waits for the start
        app.facade.release.set()
        await quitting
    assert app.facade.calls == ["start", "started", "stop"]


async def test_no_account_still_starts_the_services(make_app, no_fallback):
    app = make_app(lambda sink: FakeFacade(sink, accounts=()))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.facade.started


async def test_a_slow_first_list_does_not_hold_the_services_back(make_app, monkeypatch):
    monkeypatch.setattr(app_module, "START_AT_LATEST", 0.2)
    release = threading.Event()
    app = make_app(lambda sink: _SlowIndex(sink, release))
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(50):
            if app.facade.started:
                break
            await pilot.pause(0.05)
        assert app.facade.started
        assert app.main_screen.message_list.index_pending  # the list has not landed yet
        release.set()
        await settle(pilot)


async def test_a_list_read_ahead_paints_without_waiting_for_a_list_read(make_app, no_fallback):
    """The first list, read while the UI was starting, is shown at mount: even a list read that
    never finishes does not hold the rows back."""
    release = threading.Event()

    def read_ahead(sink: EventSink) -> FakeFacade:
        facade = _SlowIndex(sink, release)
        facade.add_message("work", "INBOX", row_id=1, subject="Read ahead at start")
        facade.ready = True
        return facade

    app = make_app(read_ahead)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert not app.main_screen.message_list.index_pending
            assert "Read ahead at start" in list_line(app, 0)[0]
            assert app.facade.ready_calls == [("work", "INBOX", ListOrder())]
            await settle(pilot)
            assert app.facade.started
    finally:
        release.set()


async def test_quitting_before_the_start_never_starts_the_services(make_app, monkeypatch):
    """q comes while the first list is still being read: neither that read ending nor the safety
    timer (START_AT_LATEST after mount) starts the services afterwards."""
    release = threading.Event()
    app = make_app(lambda sink: _SlowIndex(sink, release))
    # The safety timer is fired by the test once q is handled. (With a real 0.2 s timer, a busy
    # machine let it fire before the key arrived: the services then started before the quit.)
    safety: list[Callable[[], object]] = []
    set_timer = app.set_timer

    def holding_the_safety_timer(delay: float, callback: Callable[[], object] | None = None, **kwargs: Any) -> Timer:
        if delay == app_module.START_AT_LATEST and callback is not None:
            safety.append(callback)
            delay = 3600.0
        return set_timer(delay, callback, **kwargs)

    monkeypatch.setattr(app, "set_timer", holding_the_safety_timer)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        assert app.facade.stopped
        release.set()  # the first list is read now
        (fire,) = safety
        result = fire()
        if inspect.isawaitable(result):
            await result
    assert not app.facade.started


async def test_the_service_serves_what_was_asked_before_it_started(tmp_path):
    """The UI submits its first request (open the Inbox) before the workers exist."""
    config = Config(
        path=None,
        accounts={"demo": AccountConfig(name="demo", email="me@example.org", default=True,
                                        maildir=build_demo_mailbox(tmp_path / "Mail"))},
    )
    store = Store.open(tmp_path / "cache.sqlite3")
    events: list[Event] = []
    service = MailService(config, store, events.append)
    try:
        request = OpenFolder(account="demo", folder="INBOX")
        assert service.submit(request) == request.request_id
        with pytest.raises(KeyError):
            service.submit(OpenFolder(account="nobody", folder="INBOX"))
        await asyncio.sleep(0.1)
        assert RequestDone(request.request_id) not in events  # nothing runs before start()
        await service.start()
        for _ in range(200):
            if RequestDone(request.request_id) in events:
                break
            await asyncio.sleep(0.05)
        assert RequestDone(request.request_id) in events
        assert len(service.message_index("demo", "INBOX")) > 10
    finally:
        await service.stop()
        store.close()


def test_an_account_no_worker_can_serve_is_refused_at_once(tmp_path):
    config = Config(path=None, accounts={"pop": AccountConfig(name="pop", email="me@example.org")})
    store = Store.open(tmp_path / "cache.sqlite3")
    try:
        with pytest.raises(ValueError, match="no supported backend"):
            MailService(config, store, lambda _event: None)
    finally:
        store.close()
