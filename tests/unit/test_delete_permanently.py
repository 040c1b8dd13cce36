"""`D` (delete permanently) through the real MailService over a Maildir account."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from mailbag.domain.config import AccountConfig, Config
from mailbag.domain.events import ActionApplied, Event, RequestDone, RequestFailed
from mailbag.domain.requests import DeleteMessages, OpenFolder
from mailbag.protocols.maildir import MaildirStore
from mailbag.services.demo import DEMO_ACCOUNT, build_demo_mailbox
from mailbag.services.mail import MailService
from mailbag.store.cache_file import CacheFile


async def wait_for(events: list[Event], predicate: Callable[[Event], bool]) -> Event:
    async def poll() -> Event:
        while True:
            for event in events:
                if predicate(event):
                    return event
            await asyncio.sleep(0.02)

    return await asyncio.wait_for(poll(), 30)


async def test_delete_permanently_reports_success_and_removes_the_message(tmp_path: Path) -> None:
    root = build_demo_mailbox(tmp_path / "Mail")
    account = AccountConfig(name=DEMO_ACCOUNT, email="me@example.org", default=True, maildir=root)
    config = Config(path=None, accounts={DEMO_ACCOUNT: account})
    events: list[Event] = []
    cache = CacheFile(tmp_path / "cache.sqlite3")
    service = MailService(config, cache, events.append)
    await service.start()
    try:
        opened = service.submit(OpenFolder(account=DEMO_ACCOUNT, folder="INBOX"))
        await wait_for(events, lambda e: isinstance(e, (RequestDone, RequestFailed)) and e.request_id == opened)
        uids = sorted(MaildirStore(root, DEMO_ACCOUNT).flags("INBOX"))
        victim = uids[0]

        deleted = service.submit(
            DeleteMessages(account=DEMO_ACCOUNT, folder="INBOX", uids=(victim,), permanent=True)
        )
        reply = await wait_for(
            events, lambda e: isinstance(e, (RequestDone, RequestFailed)) and e.request_id == deleted
        )

        assert isinstance(reply, RequestDone), reply
        applied = [e.description for e in events if isinstance(e, ActionApplied) and not e.undoable]
        assert applied[:1] == ["Deleting 1 message permanently…"]
        for _ in range(500):
            if victim not in MaildirStore(root, DEMO_ACCOUNT).flags("INBOX"):
                break
            await asyncio.sleep(0.02)
        assert sorted(MaildirStore(root, DEMO_ACCOUNT).flags("INBOX")) == uids[1:]
    finally:
        await service.stop()
        cache.close()
