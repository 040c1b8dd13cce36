"""Fixtures for the UI tests: an app over the in-memory facade, with a frozen clock."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot

from mailbag.ui.app import MailbagApp
from mailbag.ui.screens.main import READER_DEBOUNCE
from tests.ui.fake_facade import NOW, FakeFacade
from tests.ui.sample import sample_facade

AppMaker = Callable[..., MailbagApp]


@pytest.fixture
def make_app() -> AppMaker:
    """Build a MailbagApp over a facade built by ``build`` (the sample mailbox by default)."""

    def make(build: Callable[..., FakeFacade] = sample_facade, **kwargs: object) -> MailbagApp:
        return MailbagApp(build, now=lambda: NOW, **kwargs)  # type: ignore[arg-type]

    return make


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
