"""``python -m bench.send_keys``: key to screen while a message with a 20 MB attachment is built
and sent, next to the same keys when nothing is being sent.

A private Dovecot and the tests' aiosmtpd (STARTTLS, AUTH, delivering over LMTP) run on loopback;
the app runs in-process over the real services on a ``RecordingDriver`` (bench/inprocess.py) at
80x24, its list on a 300-message Inbox. Each run times ``j``/``k`` at key-repeat pace first with
nothing to send, then while the send key's work goes on: the message built in a thread of the UI's
process (as the compose screen does), queued with SendMessage, handed to the SMTP server by the
outbox and its copy stored in Sent by the account worker, until the copy is there. Printed, not
asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import threading
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

from textual.pilot import Pilot

from bench.figures import Figure
from bench.inprocess import REPEAT, SIZE, RecordingApp, percentile, timed_presses
from bench.report import table
from bench.send import count, sending_config
from mailbag.domain.compose import Draft, DraftAttachment
from mailbag.domain.config import Config
from mailbag.domain.outgoing import build_message
from mailbag.domain.requests import SendMessage
from mailbag.services.mail import MailService
from mailbag.store.store import Store
from mailbag.ui.widgets.message_list import MessageList
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.smtp import SmtpServer

ROWS = 300
ATTACHMENT = 20 * 1024 * 1024
#: Presses in one direction before turning back, so every press moves the cursor.
LEG = 50


def inbox(user: MailUser) -> list[bytes]:
    messages = []
    for n in range(ROWS):
        mail = EmailMessage()
        mail["From"] = f"Person {n} <person{n}@example.org>"
        mail["To"] = user.email
        mail["Subject"] = f"Message {n}"
        mail.set_content("Hello.\n")
        messages.append(mail.as_bytes())
    return messages


async def presses(app: RecordingApp, pilot: Pilot[None], total: int, until: threading.Event | None) -> list[float]:
    """Key-to-screen samples (ms) of ``total`` moves, or of moves until ``until`` is set."""
    samples: list[float] = []
    n = 0
    while (until is None and n < total) or (until is not None and not until.is_set()):
        key = "j" if (n // LEG) % 2 == 0 else "k"
        got, _ = await timed_presses(app, pilot, key, 1, REPEAT)
        samples += [s * 1000 for s in got]
        n += 1
    return samples


async def run(config: Config, account: str, draft: Draft, to: MailUser, sender: MailUser,
              dovecot: DovecotServer, home: Path, idle_moves: int) -> tuple[list[float], list[float]]:
    """(idle samples, samples while sending) of one run, in ms."""
    store = Store.open(home / "cache.sqlite3")
    app = RecordingApp(lambda sink: MailService(config, store, sink))
    try:
        async with app.run_test(size=SIZE) as pilot:
            listing = app.screen.query_one(MessageList)
            while listing.row_count < ROWS:
                await pilot.pause(0.05)
            listing.focus()
            await pilot.pause(1.0)  # start-up work (resync, the first reader) done
            idle = await presses(app, pilot, idle_moves, None)
            sent_before = count(dovecot, sender, "Sent")
            done = threading.Event()

            def send() -> None:
                out = build_message(draft, now=datetime.now(timezone.utc))
                app.facade.submit(SendMessage(account=account, message=out.message, recipients=out.recipients))
                while count(dovecot, sender, "Sent") <= sent_before:
                    threading.Event().wait(0.02)
                done.set()

            sending = threading.Thread(target=send, name="bench-send")
            sending.start()
            busy = await presses(app, pilot, 0, done)
            sending.join()
            return idle, busy
    finally:
        store.close()


def measure(runs: int, idle_moves: int) -> list[Figure]:
    root = Path(tempfile.mkdtemp(prefix="mailbag-bench-send-keys-"))
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        os.environ[name] = str(root / name.lower())
    dovecot = DovecotServer(Path(tempfile.mkdtemp(prefix="mailbag-bench-send-keys-dovecot-")))
    dovecot.start()
    smtp = SmtpServer(dovecot)
    smtp.start()
    try:
        sender, to = dovecot.add_user(), dovecot.add_user()
        dovecot.deliver_many(sender.name, inbox(sender))
        config, account = sending_config(dovecot, smtp, sender)
        big = root / "big.bin"
        big.write_bytes(os.urandom(ATTACHMENT))
        draft = Draft(account=account.name, from_=sender.email, to=to.email, subject="Big",
                      body="Attached.\n", attachments=(DraftAttachment(path=str(big)),))
        rows = {q: Figure(ATTACHMENT, f"key to screen (j/k) while a 20 MB message is built and sent, {label}",
                          "ms", reference="same with nothing to send", goal="< 16 ms" if q == 0.95 else "",
                          digits=1)
                for q, label in ((0.5, "p50"), (0.95, "p95"))}
        for n in range(runs):
            home = root / f"run{n}"
            home.mkdir()
            idle, busy = asyncio.run(run(config, account.name, draft, to, sender, dovecot, home, idle_moves))
            for q, figure in rows.items():
                figure.samples.append(percentile(busy, q))
                figure.reference_samples.append(percentile(idle, q))
            print(f"  run {n + 1}: sending p50 {rows[0.5].samples[-1]:.1f} / p95 {rows[0.95].samples[-1]:.1f} ms"
                  f" ({len(busy)} keys); idle {rows[0.5].reference_samples[-1]:.1f} /"
                  f" {rows[0.95].reference_samples[-1]:.1f} ms ({len(idle)} keys)", flush=True)
        return list(rows.values())
    finally:
        smtp.stop()
        dovecot.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.send_keys", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle-moves", type=int, default=150, help="key presses timed with nothing to send")
    args = parser.parse_args()
    print(table(measure(args.runs, args.idle_moves)))


if __name__ == "__main__":
    main()
