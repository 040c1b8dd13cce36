"""Helpers to point mailbag's account worker at the private Dovecot."""

from __future__ import annotations

import asyncio
import imaplib
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

from mailbag.domain.config import AccountConfig, Security, ServerConfig
from mailbag.domain.events import Event
from mailbag.services.backend import Backend
from mailbag.services.imap_account import ImapAccount
from mailbag.store.store import Store
from tests.servers.dovecot import DovecotServer, MailUser

E = TypeVar("E", bound=Event)


def imap_account_config(
    dovecot: DovecotServer,
    user: MailUser,
    *,
    security: Security = "tls",
    ca_file: Path | None = None,
    trust: bool = True,
    name: str = "work",
) -> AccountConfig:
    port = dovecot.imaps_port if security == "tls" else dovecot.imap_port
    server = ServerConfig(
        host=dovecot.host,
        port=port,
        security=security,
        username=user.name,
        password_command=f"printf '%s\\n' '{user.password}'",
        ca_file=(ca_file or dovecot.ca_file) if trust else None,
    )
    return AccountConfig(name=name, email=user.email, default=True, imap=server)


class Recorder:
    """An EventSink that keeps every event and lets a test wait for one."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]

    async def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 20.0) -> Event:
        async def poll() -> Event:
            seen = 0
            while True:
                for event in self.events[seen:]:
                    if predicate(event):
                        return event
                seen = len(self.events)
                await asyncio.sleep(0.02)

        return await asyncio.wait_for(poll(), timeout)

    async def wait_for_one(
        self, kind: type[E], where: Callable[[E], bool] = lambda _e: True, timeout: float = 20.0
    ) -> E:
        """The first event of type ``kind`` for which ``where`` holds, once it has come."""
        event = await self.wait_for(lambda e: isinstance(e, kind) and where(e), timeout)
        assert isinstance(event, kind)
        return event


def proxied_config(
    user: MailUser,
    proxy_port: int,
    *,
    name: str = "work",
    password_command: str | None = None,
    timeout: float = 30.0,
) -> AccountConfig:
    """An account that reaches Dovecot's plain IMAP port through a local proxy on ``proxy_port``."""
    server = ServerConfig(
        host="127.0.0.1",
        port=proxy_port,
        security="none",
        username=user.name,
        password_command=password_command or f"printf '%s\\n' '{user.password}'",
        timeout=timeout,
    )
    return AccountConfig(name=name, email=user.email, default=True, imap=server)


def make_account(
    dovecot: DovecotServer, user: MailUser, store_path: Path, **kwargs
) -> tuple[ImapAccount, Store, Recorder]:
    store = Store.open(store_path)
    recorder = Recorder()
    return ImapAccount(imap_account_config(dovecot, user, **kwargs), store, recorder), store, recorder


def other_client(dovecot: DovecotServer, user: MailUser) -> imaplib.IMAP4_SSL:
    """A second, independent client (the stdlib's imaplib), as another mail program would be."""
    context = ssl.create_default_context(cafile=str(dovecot.ca_file))
    client = imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=context)
    client.login(user.name, user.password)
    return client


@asynccontextmanager
async def account_running(account: Backend) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``account`` as the app does for the block; then stop it, and check that it stopped."""
    task = asyncio.create_task(account.run())
    try:
        yield task
    finally:
        await stop(account, task)


async def stop(account: Backend, task: asyncio.Task[None]) -> None:
    """Stop a running account as the app does, and check that it did stop."""
    account.request_stop()
    task.cancel()
    await asyncio.wait({task}, timeout=60)  # only a hung stop takes this long
    assert task.done(), "the account did not stop"
