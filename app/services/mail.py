"""MailService: every account's worker behind the one facade the UI talks to."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Sequence

from app.domain.config import AccountConfig, Config
from app.domain.events import EventSink
from app.domain.mime import render_message
from app.domain.models import Folder, MessageRow, RenderedMessage
from app.domain.requests import Request
from app.services.account import AccountWorker
from app.services.imap_account import ImapAccount
from app.services.maildir_account import MaildirAccount
from app.store.store import Store

log = logging.getLogger(__name__)


def make_worker(account: AccountConfig, store: Store, sink: EventSink) -> AccountWorker:
    """The worker that serves ``account``, by its kind."""
    if account.imap is not None:
        return ImapAccount(account, store, sink)
    if account.maildir is not None:
        return MaildirAccount(account.name, account.maildir, store, sink)
    raise ValueError(f"account {account.name}: no supported backend configured")


class MailService:
    """Implements :class:`app.services.api.MailFacade` over the account workers and the cache."""

    def __init__(self, config: Config, store: Store, sink: EventSink) -> None:
        self.config = config
        self.store = store
        self.workers: dict[str, AccountWorker] = {
            name: make_worker(account, store, sink) for name, account in config.accounts.items()
        }
        self._tasks: list[asyncio.Task[None]] = []
        self._rendered: OrderedDict[tuple[str, str, int], RenderedMessage] = OrderedDict()

    @property
    def accounts(self) -> list[str]:
        default = self.config.default_account()
        names = list(self.workers)
        if default is not None and default.name in names:
            names.remove(default.name)
            names.insert(0, default.name)
        return names

    async def start(self) -> None:
        for name, worker in self.workers.items():
            self._tasks.append(asyncio.create_task(worker.run(), name=f"account:{name}"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - shutting down
                pass
        self._tasks.clear()

    def submit(self, request: Request) -> int:
        worker = self.workers.get(request.account)
        if worker is None:
            raise KeyError(f"no account named {request.account!r}")
        return worker.submit(request)

    def folders(self, account: str) -> list[Folder]:
        return self.store.folders(account)

    def message_index(self, account: str, folder: str) -> Sequence[int]:
        return self.store.message_index(account, folder)

    def rows(self, row_ids: Sequence[int]) -> list[MessageRow]:
        return self.store.rows(row_ids)

    def rendered(self, account: str, folder: str, uid: int) -> RenderedMessage | None:
        key = (account, folder, uid)
        cached = self._rendered.get(key)
        if cached is not None:
            self._rendered.move_to_end(key)
            return cached
        raw = self.store.body(account, folder, uid)
        if raw is None:
            return None
        message = render_message(raw)
        self._rendered[key] = message
        if len(self._rendered) > 32:
            self._rendered.popitem(last=False)
        return message
