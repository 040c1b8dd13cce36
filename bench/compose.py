"""``python -m bench.compose``: what writing a message costs on a large cache, in-process.

The addresses offered for completion are read from a cache of 100,000 messages (10,000 senders,
and 5,000 messages in Sent to 2,000 people) once when the compose screen opens; each key typed in
To, Cc or Bcc then looks them up in memory. A message with a 20 MB attachment, and a reply to all
of a list's 2,000 people, are built as the send key does (off the UI's loop). Nothing here needs
a server.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from bench.figures import Figure
from bench.report import table
from mailbag.domain.compose import Draft, DraftAttachment
from mailbag.domain.models import Address, Folder, FolderRole, MessageSummary
from mailbag.domain.outgoing import build_message
from mailbag.store.store import Store
from mailbag.ui.completion import AddressBook


def seconds(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def person(rng: random.Random, pool: int) -> Address:
    n = rng.randrange(pool)
    return Address(f"Person {n} Example", f"person{n}@example{n % 97}.org")


def fill(store: Store, count: int) -> None:
    rng = random.Random(3)
    store.replace_folders("bench", [Folder("bench", "INBOX", "/", FolderRole.INBOX),
                                    Folder("bench", "Sent", "/", FolderRole.SENT)])
    batch = [MessageSummary(uid=uid, subject=f"Message {uid}", from_=(person(rng, 10_000),),
                            to=(Address("Me", "me@example.org"),)) for uid in range(1, count + 1)]
    store.upsert_summaries("bench", "INBOX", batch)
    sent = [MessageSummary(uid=uid, from_=(Address("Me", "me@example.org"),), to=(person(rng, 2_000),),
                           cc=(person(rng, 2_000),)) for uid in range(1, count // 20 + 1)]
    store.upsert_summaries("bench", "Sent", sent)


def measure(runs: int) -> list[Figure]:
    figures = []
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(Path(folder) / "cache.sqlite3")
        try:
            fill(store, 100_000)
            samples = [seconds(store.reader.known_addresses) for _ in range(runs)]
            figures.append(Figure(100_000, "read the addresses for completion", "ms",
                                  [1000 * s for s in samples], goal="< 300 ms, in a thread", digits=0))
            known = store.reader.known_addresses()
            books = [AddressBook(known)]
            figures.append(Figure(len(known), "prepare them (once, in the same thread)", "ms",
                                  [1000 * seconds(lambda: books.append(AddressBook(known))) for _ in range(runs)],
                                  goal="< 300 ms", digits=0))
            typed = ["p", "person12", "Person 9999", "zzz", "ann@example.org, person4"]
            per_key = [1000 * seconds(lambda: [books[0].complete(t) for t in typed]) / len(typed)
                       for _ in range(runs)]
            figures.append(Figure(len(known), "complete one address (per key)", "ms", per_key,
                                  goal="< 16 ms", digits=2))
        finally:
            store.close()
        big = Path(folder) / "big.bin"
        big.write_bytes(os.urandom(20 * 1024 * 1024))
        draft = Draft(account="bench", from_="me@example.org", to="ann@example.org", subject="Big",
                      body="Attached.\n", attachments=(DraftAttachment(path=str(big)),))
        now = datetime.now(timezone.utc)
        figures.append(Figure(20 * 1024 * 1024, "build a message with a 20 MB attachment", "s",
                              [seconds(lambda: build_message(draft, now=now)) for _ in range(runs)],
                              goal="-", digits=2))
        everyone = ", ".join(f'"Person {n}, Example" <person{n}@example.org>' for n in range(2_000))
        reply_all = Draft(account="bench", from_="me@example.org", to="list@example.org", cc=everyone,
                          subject="Re: Big list", body="Agreed.\n")
        figures.append(Figure(2_000, "build a reply to all of 2,000 people", "s",
                              [seconds(lambda: build_message(reply_all, now=now)) for _ in range(runs)],
                              goal="-", digits=2))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.compose", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (default: 3)")
    print(table(measure(parser.parse_args().runs)))


if __name__ == "__main__":
    main()
