"""``python -m bench.send``: from SendMessage to the message in the recipient's INBOX.

A private Dovecot and the tests' aiosmtpd (STARTTLS, AUTH, delivering over LMTP) run on loopback;
mailbag's services run as in the app (MailService, the outbox, the account worker on its own
thread). Each sample is the time from submitting SendMessage (what the compose screen's send key
does) until another client sees the message in the recipient's INBOX (STATUS polled every 5 ms),
and until the sender's copy is in Sent. Printed, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import imaplib
import ssl
import tempfile
import time
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

from bench.figures import Figure
from bench.report import table
from mailbag.domain.config import AccountConfig, Config, ServerConfig
from mailbag.domain.requests import SendMessage
from mailbag.services.mail import MailService
from mailbag.store.store import Store
from tests.integration.accounts import Recorder, imap_account_config
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.smtp import SmtpServer


def sending_config(dovecot: DovecotServer, smtp: SmtpServer, sender: MailUser) -> tuple[Config, AccountConfig]:
    """A config of one account, ``sender`` on ``dovecot``, sending through ``smtp``."""
    server = ServerConfig(
        host=smtp.host, port=smtp.port, security="starttls", username=smtp.username,
        password_command=f"printf '%s\\n' '{smtp.password}'", ca_file=smtp.ca_file,
    )
    account = replace(imap_account_config(dovecot, sender), smtp=server)
    return Config(path=None, accounts={account.name: account}), account


def count(dovecot: DovecotServer, user: MailUser, folder: str) -> int:
    context = ssl.create_default_context(cafile=str(dovecot.ca_file))
    with imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=context) as client:
        client.login(user.name, user.password)
        _typ, data = client.status(f'"{folder}"', "(MESSAGES)")
        return int(data[0].split()[-1].rstrip(b")"))


async def wait_for_count(dovecot: DovecotServer, user: MailUser, folder: str, wanted: int) -> None:
    while await asyncio.to_thread(count, dovecot, user, folder) < wanted:
        await asyncio.sleep(0.005)


def message(sender: MailUser, to: MailUser, n: int, size: int) -> bytes:
    mail = EmailMessage()
    mail["From"] = sender.email
    mail["To"] = to.email
    mail["Subject"] = f"bench message {n}"
    mail.set_content(("All work and no play. " * (size // 22 + 1))[:size] + "\n")
    return mail.as_bytes()


async def measure(runs: int, size: int) -> list[Figure]:
    dovecot = DovecotServer(Path(tempfile.mkdtemp(prefix="mailbag-bench-send-")))
    dovecot.start()
    smtp = SmtpServer(dovecot)
    smtp.start()
    try:
        sender, to = dovecot.add_user(), dovecot.add_user()
        config, account = sending_config(dovecot, smtp, sender)
        store = Store.open(Path(tempfile.mkdtemp(prefix="mailbag-bench-cache-")) / "cache.sqlite3")
        service = MailService(config, store, Recorder())
        await service.start()
        inbox, sent = Figure(size, "SendMessage -> in the recipient's INBOX", "ms", digits=0), Figure(
            size, "SendMessage -> copy in the sender's Sent", "ms", digits=0
        )
        try:
            for n in range(1, runs + 1):
                started = time.perf_counter()
                service.submit(SendMessage(
                    account=account.name, message=message(sender, to, n, size), recipients=(to.email,)
                ))
                await wait_for_count(dovecot, to, "INBOX", n)
                inbox.samples.append((time.perf_counter() - started) * 1000)
                await wait_for_count(dovecot, sender, "Sent", n)
                sent.samples.append((time.perf_counter() - started) * 1000)
        finally:
            await service.stop()
            store.close()
        return [inbox, sent]
    finally:
        smtp.stop()
        dovecot.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.send", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--size", type=int, default=4000, help="body size in bytes")
    args = parser.parse_args()
    print(table(asyncio.run(measure(args.runs, args.size))))


if __name__ == "__main__":
    main()
