"""Figures measured inside one Python process, on the real app over a real cache at 80x24:
key to screen (time from a key press to the frame written for it), bytes written per cursor move,
and local search latency.

Textual's headless driver writes nothing, so the app runs on ``RecordingDriver``: headless input,
but every frame is rendered to terminal bytes exactly as on a terminal, and each write is recorded
with its time and size instead of reaching a terminal.
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import constants
from textual.drivers.headless_driver import HeadlessDriver
from textual.pilot import Pilot

from mailbag.domain.config import load_config
from mailbag.services.mail import MailService
from mailbag.store.store import Store
from mailbag.ui import app as app_module
from mailbag.ui.app import MailbagApp
from mailbag.ui.widgets.message_list import MessageList
from bench import corpus
from bench.mailbag_run import Account, sync_env, write_config

SIZE = (80, 24)
#: Spacing of key presses: a held key repeats about 30 times a second.
REPEAT = 1 / 30
#: A rested cursor: long enough for the reader to show the message.
REST = 0.6


class RecordingDriver(HeadlessDriver):
    """Headless input, real output: frames are rendered and their writes recorded, not sent."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.writes: list[tuple[float, int]] = []

    @property
    def is_headless(self) -> bool:
        return False

    def write(self, data: str) -> None:
        self.writes.append((time.perf_counter(), len(data.encode("utf-8"))))


class RecordingApp(MailbagApp):
    """mailbag's app on a ``RecordingDriver``. As ``mailbag`` itself does once the UI is built
    (``run_ui``), what exists then is frozen out of the garbage collector's sight: its full passes
    over the start-up objects are not what a user of the app sees."""

    CSS_PATH = str(Path(app_module.__file__).parent / MailbagApp.CSS_PATH)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        gc.freeze()

    def _build_driver(self, headless: bool, inline: bool, mouse: bool,
                      size: tuple[int, int] | None) -> RecordingDriver:
        driver = self._driver = RecordingDriver(self, debug=constants.DEBUG, mouse=mouse, size=size)
        return driver


@contextmanager
def environment(home: Path, account: Account) -> Iterator[Path]:
    """Run in-process code against ``home``'s XDG dirs and password; yields the config path."""
    saved = dict(os.environ)
    os.environ.update(sync_env(home, account))
    try:
        yield write_config(home, account)
    finally:
        os.environ.clear()
        os.environ.update(saved)


@dataclass(frozen=True)
class KeyRun:
    """Per cursor move: latency samples (s), bytes while held, bytes when the cursor rests."""

    latencies: list[float]
    held_bytes: list[int]
    rested_bytes: list[int]


async def _key_run(config_path: Path, count: int, moves: int, rested: int) -> KeyRun:
    config = load_config(config_path)
    from mailbag import paths

    store = Store.open(paths.cache_db())
    app = RecordingApp(lambda sink: MailService(config, store, sink), theme=config.ui.theme,
                       keymap=config.keymap)
    try:
        async with app.run_test(size=SIZE) as pilot:
            listing = app.screen.query_one(MessageList)
            deadline = time.monotonic() + 120
            while listing.row_count < count:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the list shows {listing.row_count} of {count} rows")
                await pilot.pause(0.05)
            listing.focus()
            await pilot.pause(1.0)  # let start-up work (resync, first reader) finish
            latencies, held = await timed_presses(app, pilot, "j", moves, REPEAT)
            _, rested_bytes = await timed_presses(app, pilot, "j", rested, REST)
            return KeyRun(latencies, held, rested_bytes)
    finally:
        store.close()


async def timed_presses(
    app: MailbagApp, pilot: Pilot[None], key: str, count: int, spacing: float
) -> tuple[list[float], list[int]]:
    """Press ``key`` ``count`` times, ``spacing`` s apart, on an app on a ``RecordingDriver``:
    (seconds from each press to the first frame written for it, for the presses that wrote one;
    bytes written per press)."""
    driver = app._driver
    assert isinstance(driver, RecordingDriver)
    latencies: list[float] = []
    sizes: list[int] = []
    for _ in range(count):
        before = len(driver.writes)
        pressed = time.perf_counter()
        await pilot.press(key)
        await pilot.pause(spacing)
        writes = driver.writes[before:]
        if writes:
            latencies.append(writes[0][0] - pressed)
        sizes.append(sum(n for _, n in writes))
    return latencies, sizes


def key_run(home: Path, account: Account, count: int, moves: int = 200, rested: int = 10) -> KeyRun:
    """``moves`` presses of j at key-repeat pace and ``rested`` presses with a pause, on a synced
    cache under ``home`` (the app also connects to the server, as it would for a user)."""
    with environment(home, account) as config:
        return asyncio.run(_key_run(config, count, moves, rested))


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# --- local search -------------------------------------------------------------------------------

SUBJECT_WORD = "Invoice"
BODY_WORD = corpus.RARE_WORD


def cache_bodies(home: Path, account: Account, count: int, share: int) -> float:
    """Put the newest ``share`` messages' bodies into the cache through the store's own write path
    (the generator's bytes, identical to what the server holds; message i has UID i + 1).
    Returns the seconds it took."""
    with environment(home, account):
        from mailbag import paths

        store = Store.open(paths.cache_db())
        started = time.perf_counter()
        try:
            for i in range(count - share, count):
                store.put_body("bench", "INBOX", i + 1, corpus.message(i, count))
        finally:
            store.close()
        return time.perf_counter() - started


def build_index(home: Path, account: Account) -> float:
    """Index every cached message for search, as the app does in the background after a sync
    (``mailbag sync`` leaves that for later). Returns the seconds it took."""
    with environment(home, account):
        from mailbag import paths

        store = Store.open(paths.cache_db())
        started = time.perf_counter()
        try:
            while store.index_pending():
                pass
        finally:
            store.close()
        return time.perf_counter() - started


def search_seconds(home: Path, account: Account, query: str, runs: int) -> tuple[list[float], int]:
    """Seconds for ``MailService.local_search`` plus reading the first screenful of rows (what
    the list paints first), ``runs`` times; and how many matches the search returned."""
    with environment(home, account) as config_path:
        from mailbag import paths

        config = load_config(config_path)
        store = Store.open(paths.cache_db())
        service = MailService(config, store, lambda event: None)
        samples: list[float] = []
        found = 0
        try:
            for _ in range(runs):
                started = time.perf_counter()
                outcome = service.local_search(query, account="bench", folder="INBOX")
                if outcome.error:
                    raise RuntimeError(f"search {query!r}: {outcome.error}")
                service.rows(outcome.row_ids[:SIZE[1]])
                samples.append(time.perf_counter() - started)
                found = len(outcome.row_ids)
        finally:
            store.close()
        return samples, found


def median(samples: list[float]) -> float:
    return statistics.median(samples)
