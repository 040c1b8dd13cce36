"""``python -m bench.maildir``: a Maildir account's first look at a big folder, as mbsync leaves one.

Writes a Maildir tree whose Inbox holds ``--messages`` messages (50,000 by default, each a few
hundred bytes, a third unread, Dovecot's ``,S=`` size in each name), then runs the account's
sync into a fresh cache, in process: the time until the list first has rows to show (the first
``MessagesChanged``), until the whole folder is cached, and a second sync over the warm cache
with nothing changed (what every look after a change in the tree costs). Medians of ``--runs``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from mailbag.domain.events import Event, MessagesChanged
from mailbag.services.maildir_account import MaildirAccount
from mailbag.store.store import Store


def write_tree(root: Path, count: int) -> None:
    """An Inbox of ``count`` messages, oldest first by their files' names and times."""
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for n in range(count):
        body = (f"From: Sender {n % 97} <s{n % 97}@example.org>\nTo: me@example.org\n"
                f"Subject: message number {n}\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n"
                f"Message-ID: <{n}@example.org>\n\nbody {n}\n").encode()
        flags = "S" if n % 3 else ""
        (root / "cur" / f"{1700000000 + n}.M{n}P1.host,S={len(body)}:2,{flags}").write_bytes(body)


async def first_sync(root: Path, cache: Path) -> tuple[float, float, float]:
    """Seconds to the first rows, to the whole folder, and of a sync with nothing new."""
    store = Store.open(cache)
    started = time.perf_counter()
    first: list[float] = []

    def sink(event: Event) -> None:
        if isinstance(event, MessagesChanged) and not first:
            first.append(time.perf_counter() - started)

    try:
        await MaildirAccount("bench", root, store, sink).sync_once()
        whole = time.perf_counter() - started
        again = time.perf_counter()
        await MaildirAccount("bench", root, store, sink).sync_once()
        return first[0], whole, time.perf_counter() - again
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--home-dir", type=Path, default=None, help="where the tree and caches go")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.home_dir) as scratch:
        root = Path(scratch) / "Mail"
        write_tree(root, args.messages)
        samples = [asyncio.run(first_sync(root, Path(scratch) / f"cache{run}.sqlite3")) for run in range(args.runs)]
    print(f"| {args.messages:,} messages, medians of {args.runs} | seconds |")
    print("|---|---|")
    for at, what in enumerate(("first rows to show", "the whole folder cached", "a sync with nothing new")):
        print(f"| {what} | {statistics.median(s[at] for s in samples):.2f} |")


if __name__ == "__main__":
    main()
