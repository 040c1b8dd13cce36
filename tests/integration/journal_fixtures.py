"""What the journal's fault tests share: an offline account, and a TCP proxy that cuts the link
between mailbag and Dovecot at a chosen command."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from mailbag.domain.config import AccountConfig
from mailbag.domain.events import ActionApplied
from mailbag.domain.requests import Request
from mailbag.services.imap_account import ImapAccount
from mailbag.store.store import Store
from tests.integration.accounts import (
    Recorder,
    account_running,
    imap_account_config,
    other_client,
    proxied_config,
)
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.messages import make_message
from tests.servers.ports import closed_port


def offline_config(dovecot: DovecotServer, user: MailUser) -> AccountConfig:
    """The account as configured, but its server unreachable (mailbag used offline)."""
    config = imap_account_config(dovecot, user)
    assert config.imap is not None
    return dataclasses.replace(config, imap=dataclasses.replace(config.imap, port=closed_port()))


async def triage_offline(
    dovecot: DovecotServer, user: MailUser, db: Path, requests: list[Request]
) -> None:
    """Apply ``requests`` while the server cannot be reached, then close mailbag: they wait in
    the journal."""
    with Store.open(db) as store:
        events = Recorder()
        account = ImapAccount(offline_config(dovecot, user), store, events)
        async with account_running(account):
            for request in requests:
                account.submit(request)
            await events.wait_for(
                lambda e: len([a for a in events.of(ActionApplied) if not a.on_server])
                == len(requests)
            )


class CuttingProxy:
    """Forwards IMAP between mailbag and Dovecot's plain port. When a client line contains
    ``cut_at``, it is forwarded, the server's answer is awaited (so the server has done it) and
    then the link is dropped before any of that answer reaches mailbag.

    ``cuts`` limits how many links are cut (None: every one); ``hold`` keeps the cut link open,
    answer withheld, until ``release`` is set (so a test can kill the client at that moment).
    With ``deliver_late`` the link is not cut: the answer is withheld until ``release`` is set,
    then delivered (an answer that is slow to come).
    """

    def __init__(
        self,
        port: int,
        cut_at: bytes,
        *,
        cuts: int | None = 1,
        hold: bool = False,
        deliver_late: bool = False,
    ) -> None:
        self.target_port = port
        self.cut_at = cut_at
        self.cuts_left = cuts
        self.hold = hold
        self.deliver_late = deliver_late
        self.cut = asyncio.Event()  # set each time a link was cut (or is being held)
        self.release = asyncio.Event()
        self.times_cut = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> CuttingProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        self.release.set()
        for writer in list(self._writers):
            writer.transport.abort()  # every link ends, and with it its handler
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers.update((client_w, server_w))
        armed = asyncio.Event()  # the command goes to the server: swallow its answer
        answered = asyncio.Event()
        tag = b""

        async def upstream() -> None:
            nonlocal tag
            while line := await client_r.readline():
                if self.cut_at in line and self.cuts_left != 0:
                    if self.cuts_left is not None:
                        self.cuts_left -= 1
                    tag = line.split(b" ", 1)[0]
                    armed.set()
                server_w.write(line)
                await server_w.drain()
                if armed.is_set() and not self.deliver_late:
                    await answered.wait()  # nothing more goes up this link
                    return

        async def downstream() -> None:
            answer = b""
            while data := await server_r.read(65536):
                if not armed.is_set():
                    client_w.write(data)
                    await client_w.drain()
                    continue
                answer += data
                if answer.startswith(tag + b" ") or b"\r\n" + tag + b" " in answer:
                    if not self.deliver_late:
                        answered.set()  # the server has done it and said so
                        return
                    self.times_cut += 1
                    self.cut.set()
                    await self.release.wait()
                    client_w.write(answer)
                    await client_w.drain()
                    answer = b""
                    armed.clear()

        pumps = [asyncio.ensure_future(upstream()), asyncio.ensure_future(downstream())]
        try:
            # until the link ends, or the server did the command (its answer goes nowhere)
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            if answered.is_set():
                self.times_cut += 1
                self.cut.set()
                if self.hold:
                    await self.release.wait()
        finally:
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            for writer in (client_w, server_w):
                writer.transport.abort()
                self._writers.discard(writer)
            self._tasks.discard(task)


def server_headers(
    dovecot: DovecotServer, user: MailUser, folder: str, field: str, connect: Callable[..., Any] = other_client
) -> list[str]:
    """The ``field`` header of every message in ``folder``, copies counted, in UID order, as
    another client (``connect``) sees it."""
    client = connect(dovecot, user)
    try:
        client.select(f'"{folder}"', readonly=True)
        _, data = client.uid("FETCH", "1:*", f"(BODY.PEEK[HEADER.FIELDS ({field.upper()})])")
    finally:
        client.logout()
    return [item[1].decode().split(":", 1)[1].strip() for item in data if isinstance(item, tuple)]


async def synced(
    dovecot: DovecotServer, user: MailUser, db: Path, count: int, folder: str = "INBOX"
) -> dict[int, int]:
    """Deliver messages 0..count-1 to ``folder``, sync the account into the cache at ``db``;
    message -> uid."""
    from tests.integration.test_live_triage import running, uid_of

    dovecot.deliver_many(user.name, (make_message(i) for i in range(count)), folder=folder)
    async with running(dovecot, user, db) as (_account, store, _events):
        return {i: uid_of(store, folder, i) for i in range(count)}


@contextlib.asynccontextmanager
async def proxied_account(
    dovecot: DovecotServer, user: MailUser, db: Path, proxy: CuttingProxy
) -> AsyncIterator[tuple[ImapAccount, Store, Recorder]]:
    """A running account that reaches Dovecot's plain port through ``proxy``."""
    with Store.open(db) as store:
        events = Recorder()
        account = ImapAccount(proxied_config(user, proxy.port), store, events)
        async with account_running(account):
            yield account, store, events
