"""``python -m bench.key_burst``: what handling keys in order costs. A burst of ``j`` typed at once
(a paste, keys batched over SSH) on the app over the UI tests' in-memory facade, timed until the
cursor reaches the last row, next to the same burst under Textual's own routing (which let a key
overtake the keys before it; see ``mailbag/ui/key_order.py``). No server, no cache.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from textual import events
from textual.app import App

from bench.figures import Spread
from mailbag.domain.events import EventSink
from mailbag.domain.models import Folder, FolderRole
from mailbag.ui import app as app_module
from mailbag.ui.app import MailbagApp
from tests.ui.fake_facade import NOW, FakeFacade


class TextualRouting(MailbagApp):
    """The app with Textual's own key routing, as before keys were handled in order."""

    CSS_PATH = str(Path(app_module.__file__).with_name("main.tcss"))

    async def on_event(self, event: events.Event) -> None:
        await App.on_event(self, event)


def _facade(count: int) -> Callable[[EventSink], FakeFacade]:
    def build(sink: EventSink) -> FakeFacade:
        facade = FakeFacade(sink)
        facade.add_folder(Folder("work", "INBOX", "/", FolderRole.INBOX, total=count, unread=0))
        for n in range(count):
            facade.add_message("work", "INBOX", row_id=n + 1, subject=f"Message {n}",
                               date=NOW - timedelta(minutes=n), body="Hi\n")
        return facade

    return build


async def burst_time(app_class: type[MailbagApp], keys: int) -> float:
    """Seconds from posting ``keys`` j's at once to the cursor on row ``keys``."""
    app = app_class(_facade(keys + 10), now=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.5)
        listing = app.main_screen.message_list
        start = time.perf_counter()
        for _ in range(keys):
            app.post_message(events.Key("j", "j"))
        while listing.cursor < keys:
            await asyncio.sleep(0.001)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=int, default=150)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    samples: dict[str, list[float]] = {"in order": [], "Textual's routing": []}
    for _ in range(args.runs):  # interleaved, so both see the same load
        samples["in order"].append(asyncio.run(burst_time(MailbagApp, args.keys)))
        samples["Textual's routing"].append(asyncio.run(burst_time(TextualRouting, args.keys)))
    for name, times in samples.items():
        print(f"{args.keys} j at once, {name}: {Spread.of(times).show(3)} s (min / median / max)")


if __name__ == "__main__":
    main()
