"""The live watcher on a server without NOTIFY: it follows the open folder, and leaves nothing behind."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from mailbag.domain.config import AccountConfig, ServerConfig
from mailbag.domain.events import RequestDone
from mailbag.services.imap_account import ImapAccount
from mailbag.store.store import Store
from tests.integration.accounts import Recorder
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.messages import make_message


def no_notify_config(dovecot: DovecotServer, user: MailUser) -> AccountConfig:
    server = ServerConfig(host=dovecot.no_notify_host, port=dovecot.no_notify_imap_port, security="none",
                          username=user.name, password_command=f"printf '%s\\n' '{user.password}'")
    return AccountConfig(name="work", email=user.email, default=True, imap=server)


async def wait_until(predicate: Any, timeout: float = 20.0, every: float = 0.02) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(every)

    await asyncio.wait_for(poll(), timeout)


async def test_folder_switches_without_notify_leave_no_pending_task(dovecot, mail_user, tmp_path) -> None:
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(3)))
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    store = Store.open(tmp_path / "cache.db")
    events = Recorder()
    account = ImapAccount(no_notify_config(dovecot, mail_user), store, events)
    task = asyncio.create_task(account.run())
    try:
        await events.wait_for(lambda e: isinstance(e, RequestDone), timeout=30)
        await wait_until(lambda: account.watcher is not None and account.watcher.ready.is_set())
        watcher = account.watcher
        assert watcher is not None and watcher.notify_active is False
        for folder in ("Archive", "INBOX", "Sent", "INBOX"):
            account.on_open_folder(folder)
            # Looked at on every turn of the loop: the reconnect may take less than a poll interval.
            await wait_until(lambda: not watcher.ready.is_set(), every=0)
            await wait_until(watcher.ready.is_set)
            assert watcher.folder == folder
        gc.collect()
        await asyncio.sleep(0)
    finally:
        account.request_stop()
        task.cancel()
        await asyncio.wait({task}, timeout=15)
        store.close()
        loop.set_exception_handler(previous)
    assert [context.get("message") for context in errors] == []
