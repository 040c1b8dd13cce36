"""``python -m bench.pop3_keys``: key to screen while a POP3 account downloads 10,000 messages,
next to the same keys once the download is over.

The benchmark's private Dovecot (bench/server.py) serves the mailbox over POP3S; the app runs
in-process over the real services on a ``RecordingDriver`` (bench/inprocess.py) at 80x24, on
the POP3 account's Inbox as it fills. ``j``/``k`` are timed at key-repeat pace from the first
rows until every message is here, then as many again with nothing to do. Printed, not
asserted. A write after a key is taken as its frame: while rows arrive, some frames are the
list's own, so the figure during the download may flatter it a little.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path

from textual import events
from textual.pilot import Pilot

from bench.figures import Figure
from bench.inprocess import REPEAT, SIZE, RecordingApp, RecordingDriver, environment, percentile
from bench.mailbag_run import Account, compile_mailbag
from bench.report import table
from bench.server import BenchServer, default_cache_dir
from mailbag.domain.config import load_config
from mailbag.services.mail import MailService
from mailbag.store.store import Store
from mailbag.ui.widgets.message_list import MessageList

#: Presses in one direction before turning back, so every press moves the cursor.
LEG = 50


async def run(home: Path, account: Account, count: int) -> tuple[list[float], list[float], float]:
    """(samples while downloading, samples after it) in ms, and how long the download went on
    once the first rows were on screen."""
    with environment(home, account) as config_path:
        config_path.write_text(config_path.read_text().replace(".imap]", ".pop3]"))
        config = load_config(config_path)
        store = Store.open(home / "cache.sqlite3")
        app = RecordingApp(lambda sink: MailService(config, store, sink))
        try:
            async with app.run_test(size=SIZE) as pilot:
                listing = app.screen.query_one(MessageList)
                while listing.row_count < 2 * LEG:
                    await pilot.pause(0.02)
                listing.focus()

                def downloaded() -> bool:
                    return store.counts("bench", "INBOX")[0] >= count

                started = time.perf_counter()
                busy = await presses(app, pilot, downloaded)
                seconds = time.perf_counter() - started
                while store.index_backlog():
                    await pilot.pause(0.1)  # the search index is built once the download is over
                await pilot.pause(1.0)
                quiet = await presses(app, pilot, lambda: False, len(busy) or 100)
                return busy, quiet, seconds
        finally:
            store.close()


async def presses(app: RecordingApp, pilot: Pilot[None], done: object, total: int = 0) -> list[float]:
    """Key-to-screen samples (ms) until ``done()`` holds (or of ``total`` moves). Keys go in as
    the terminal's driver hands them over, every ``REPEAT`` s (Pilot.press would wait for the
    whole process to be idle, which it is not while the download runs)."""
    assert callable(done)
    driver = app._driver
    assert isinstance(driver, RecordingDriver)
    samples: list[float] = []
    n = 0
    while (total and n < total) or (not total and not (n % 15 == 0 and done())):  # done() reads the cache
        key = "j" if (n // LEG) % 2 == 0 else "k"
        before = len(driver.writes)
        pressed = time.perf_counter()
        driver.process_message(events.Key(key, key))
        await asyncio.sleep(REPEAT)
        while len(driver.writes) == before and time.perf_counter() - pressed < 5:
            await asyncio.sleep(0.001)  # the frame is late: wait for it before the next key
        if len(driver.writes) > before:
            samples.append((driver.writes[before][0] - pressed) * 1000)
        n += 1
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pop3_keys", description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir().with_name(
        default_cache_dir().name + "-pop3"))
    parser.add_argument("--home-dir", type=Path, default=None,
                        help="where each run's Maildir and cache go (default: the temp dir); e.g. "
                             "/dev/shm to leave the disk's cost of making files out")
    args = parser.parse_args()
    rows = {q: Figure(args.count, f"key to screen (j/k) during the first POP3 download, {label}", "ms",
                      reference="same once it is over", goal="< 16 ms" if q == 0.95 else "", digits=1)
            for q, label in ((0.5, "p50"), (0.95, "p95"))}
    compile_mailbag()  # the download process starts as an installed one would
    with BenchServer(args.cache_dir) as server:
        filled = server.mailbox(args.count)
        d = server.dovecot
        account = Account("localhost", d.pop3s_port, filled.user.name, filled.user.password, d.ca_file)
        homes: list[Path] = []  # kept until the end (see bench/pop3.py: deleting files slows the next run)
        try:
            for n in range(args.runs):
                homes.append(home := Path(tempfile.mkdtemp(prefix="mailbag-bench-pop3-keys-", dir=args.home_dir)))
                os.sync()
                busy, quiet, seconds = asyncio.run(run(home, account, args.count))
                for q, figure in rows.items():
                    figure.samples.append(percentile(busy, q))
                    figure.reference_samples.append(percentile(quiet, q))
                print(f"  run {n + 1}: {seconds:.1f} s of download with rows on screen, p50 {rows[0.5].samples[-1]:.1f} / p95 {rows[0.95].samples[-1]:.1f} ms"
                      f" ({len(busy)} keys); after p50 {rows[0.5].reference_samples[-1]:.1f} /"
                      f" {rows[0.95].reference_samples[-1]:.1f} ms ({len(quiet)} keys); load {os.getloadavg()[0]:.1f}",
                      flush=True)
        finally:
            for home in homes:
                shutil.rmtree(home, ignore_errors=True)
    print(table(list(rows.values())))


if __name__ == "__main__":
    main()
