"""Sending through the real services: an account on the private Dovecot that sends through the
private SMTP server, a running MailService, and what the recipients' mailboxes hold."""

from __future__ import annotations

import email
import email.policy
from collections.abc import AsyncIterator, Callable
import asyncio
from contextlib import asynccontextmanager
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

from textual.pilot import Pilot

from mailbag.domain.config import AccountConfig, Config, ServerConfig
from mailbag.domain.events import TERMINAL, Event, MessageQueued, OutboxChanged, RequestDone, RequestFailed
from mailbag.domain.models import OutgoingMessage
from mailbag.domain.requests import Request, SendMessage
from mailbag.services.mail import MailService
from mailbag.services.outbox import OutboxTimings
from mailbag.store.store import Store
from mailbag.ui.app import MailbagApp
from tests.integration.accounts import Recorder, imap_account_config, other_client
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.smtp import SmtpServer

#: Retries come quickly in tests.
FAST = OutboxTimings(retry_base=0.2, retry_cap=0.5, lock_seconds=0.2)


def smtp_config(
    smtp: SmtpServer,
    *,
    security: str = "starttls",
    port: int | None = None,
    save_sent: bool = True,
    password: str | None = None,
) -> ServerConfig:
    """The ``[smtp]`` table of an account that sends through ``smtp``."""
    return ServerConfig(
        host=smtp.host,
        port=port if port is not None else (smtp.tls_port if security == "tls" else smtp.port),
        security=security,  # type: ignore[arg-type]
        username=smtp.username,
        password_command=f"printf '%s\\n' '{password or smtp.password}'",
        ca_file=smtp.ca_file,
        save_sent=save_sent,
    )


def sending_account(
    dovecot: DovecotServer, user: MailUser, smtp: SmtpServer | ServerConfig, **kwargs: object
) -> AccountConfig:
    """``user``'s IMAP account on Dovecot, sending through ``smtp``."""
    server = smtp if isinstance(smtp, ServerConfig) else smtp_config(smtp, **kwargs)  # type: ignore[arg-type]
    return replace(imap_account_config(dovecot, user), smtp=server)


def config_of(account: AccountConfig, path: Path | None = None) -> Config:
    return Config(path=path, accounts={account.name: account})


def new_message(
    sender: MailUser | str,
    to: list[str],
    *,
    cc: list[str] = (),  # type: ignore[assignment]
    subject: str = "Hello from mailbag",
    body: str = "Hi,\n\nthis was sent by mailbag.\n",
    attachments: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender if isinstance(sender, str) else sender.email
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Subject"] = subject
    message.set_content(body)
    for name, data in attachments:
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message


class Sending:
    """A running MailService and what it reported."""

    def __init__(self, service: MailService, events: Recorder) -> None:
        self.service = service
        self.events = events

    async def answer(self, request: SendMessage | Request) -> Event:
        """Submit ``request`` and wait for its terminal answer."""
        self.service.submit(request)
        return await self.events.wait_for(
            lambda e: isinstance(e, TERMINAL) and e.request_id == request.request_id
        )

    async def send(
        self, message: EmailMessage | bytes, recipients: list[str] | tuple[str, ...], send_at: float | None = None
    ) -> int:
        """Submit a SendMessage (of ``message``, or of its bytes); once it is answered, the
        message's outbox id."""
        raw = message if isinstance(message, bytes) else message.as_bytes()
        request = SendMessage(account="work", message=raw, recipients=tuple(recipients), send_at=send_at)
        self.service.submit(request)
        answer = await self.events.wait_for(
            lambda e: isinstance(e, (RequestDone, RequestFailed)) and e.request_id == request.request_id
        )
        assert isinstance(answer, RequestDone), answer
        (queued,) = [
            e for e in self.events.of(MessageQueued) if e.request_id == request.request_id
        ]
        return queued.outbox_id

    async def outbox_settles(self, timeout: float = 60.0) -> list[OutgoingMessage]:
        """Wait until nothing in the outbox waits to be sent or copied and the screen has been
        told so (the last OutboxChanged shows what the store holds: the service publishes only
        after its write, so the store alone settles first); what is left (held, uncertain)."""

        def shown() -> tuple[tuple[int, str], ...] | None:
            published = self.events.of(OutboxChanged)
            return tuple((m.id, m.state) for m in published[-1].messages) if published else None

        async def settled() -> list[OutgoingMessage]:
            while True:
                left = self.service.outbox_messages()
                if not any(m.state in ("queued", "sending", "sent") for m in left) and shown() == tuple(
                    (m.id, m.state) for m in left
                ):
                    return left
                await asyncio.sleep(0.05)

        return await asyncio.wait_for(settled(), timeout)

    def last_outbox(self) -> OutboxChanged:
        return self.events.of(OutboxChanged)[-1]


@asynccontextmanager
async def sending(
    config: Config, cache_dir: Path, timings: OutboxTimings = FAST
) -> AsyncIterator[Sending]:
    """A MailService over ``config`` with its cache in ``cache_dir``, started and stopped."""
    store = Store.open(cache_dir / "cache.sqlite3")
    events = Recorder()
    service = MailService(config, store, events, outbox_timings=timings)
    await service.start()
    try:
        yield Sending(service, events)
    finally:
        await service.stop()
        store.close()


def mailbox(dovecot: DovecotServer, user: MailUser, folder: str = "INBOX") -> list[bytes]:
    """Every message of ``user``'s ``folder`` as its bytes, oldest first."""
    client = other_client(dovecot, user)
    try:
        typ, _ = client.select(f'"{folder}"', readonly=True)
        assert typ == "OK"
        typ, data = client.uid("FETCH", "1:*", "(BODY.PEEK[])")
        return [part[1] for part in data if isinstance(part, tuple)]
    finally:
        client.logout()


def flags_in(dovecot: DovecotServer, user: MailUser, folder: str) -> list[bytes]:
    client = other_client(dovecot, user)
    try:
        client.select(f'"{folder}"', readonly=True)
        typ, data = client.fetch("1:*", "(FLAGS)")
        return [d for d in data if isinstance(d, bytes)]
    finally:
        client.logout()


def parsed(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)



@asynccontextmanager
async def sending_app(
    dovecot: DovecotServer, me: MailUser, smtp_server: SmtpServer, tmp_path: Path
) -> AsyncIterator[tuple[MailbagApp, Pilot, Store, str]]:
    """The app over the real services for ``me``, who sends through ``smtp_server``: (the app,
    its pilot, the store, the account's name), once the Inbox is listed."""
    config = config_of(sending_account(dovecot, me, smtp_server))
    store = Store.open(tmp_path / "cache.sqlite3")
    app = MailbagApp(lambda sink: MailService(config, store, sink, outbox_timings=FAST))
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            listing = app.main_screen.message_list
            await until(pilot, lambda: listing.current_row is not None, "the Inbox listed")
            yield app, pilot, store, next(iter(config.accounts))
    finally:
        store.close()


async def until(pilot: Pilot, predicate: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    """Let the app run until ``predicate()`` holds; the bound only stops a hung run."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, f"not reached: {what}"
        await pilot.pause(0.1)
