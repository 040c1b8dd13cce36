"""Fixtures for the UI tests: an app over the in-memory facade, with a frozen clock; snapshots
taken with steady text cursors."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from mailbag.ui.app import MailbagApp
from mailbag.ui.screens.main import READER_DEBOUNCE
from tests.ui.fake_facade import NOW, FakeFacade
from tests.ui.helpers import steady_cursors
from tests.ui.sample import sample_facade

AppMaker = Callable[..., MailbagApp]


@pytest.fixture
def make_app() -> AppMaker:
    """Build a MailbagApp over a facade built by ``build`` (the sample mailbox by default)."""

    def make(build: Callable[..., FakeFacade] = sample_facade, **kwargs: object) -> MailbagApp:
        return MailbagApp(build, now=lambda: NOW, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def snap_compare(snap_compare: Callable[..., bool]) -> Callable[..., bool]:
    """pytest-textual-snapshot's ``snap_compare``, its picture taken with every text cursor of
    the screen shown and no longer blinking (else a blink decides the picture)."""

    def compare(
        app: object, *, run_before: Callable[[Pilot], Awaitable[None] | None] | None = None, **options: object
    ) -> bool:
        async def steady(pilot: Pilot) -> None:
            if run_before is not None:
                result = run_before(pilot)
                if inspect.isawaitable(result):
                    await result
            steady_cursors(pilot.app)
            await pilot.pause()

        return snap_compare(app, run_before=steady, **options)

    return compare


async def settle(pilot: Pilot) -> None:
    """Let workers finish and the debounce timers (reader, search) expire.

    Two rounds: a timer that fires late on a busy machine starts a worker the first round missed.
    """
    await pilot.pause()
    for _ in range(2):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(READER_DEBOUNCE + 0.1)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def open_message(pilot: Pilot) -> None:
    """Open the message under the cursor (Enter) once the list is there, and let it show."""
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
