"""Live sync against the private Dovecot: IDLE pushes, NOTIFY, a kicked session."""

from __future__ import annotations

import asyncio
import time

import pytest

from mailbag.protocols.imap import ImapClient, ImapConnectionError, ServerPush
from tests.integration import test_imap_dovecot
from tests.integration.test_imap_dovecot import other_client
from tests.servers.messages import make_message

pytestmark = pytest.mark.dovecot
client = test_imap_dovecot.client  # a connected ImapClient (fixture)


class Watcher:
    """Runs ``client.idle(folder)`` in a task and collects what it yields."""

    def __init__(self, client: ImapClient, folder: str = "INBOX", **options: float) -> None:
        self.client = client
        self.pushes: asyncio.Queue[tuple[float, ServerPush]] = asyncio.Queue()
        self.task = asyncio.ensure_future(self._run(folder, options))

    async def _run(self, folder: str, options: dict[str, float]) -> None:
        async for push in self.client.idle(folder, **options):
            self.pushes.put_nowait((time.monotonic(), push))

    async def started(self) -> None:
        for _ in range(200):
            if self.client.idling:
                return
            assert not self.task.done(), self.task.exception()
            await asyncio.sleep(0.01)
        raise AssertionError("IDLE never started")

    async def next(self, kinds: tuple[str, ...], timeout: float = 60.0) -> tuple[float, ServerPush]:
        """The next push of one of ``kinds``; the bound only stops a hung run."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                at, push = await asyncio.wait_for(self.pushes.get(), max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                raise AssertionError(f"no {'/'.join(kinds)} push within {timeout:.0f} s") from None
            if push.kind in kinds:
                return at, push

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def test_each_lmtp_delivery_yields_an_exists_push(dovecot, mail_user, client) -> None:
    # How fast the push comes is a figure of the bench (python -m bench: new mail to the screen).
    watcher = Watcher(client)
    await watcher.started()
    try:
        for i in range(1, 6):
            await asyncio.to_thread(dovecot.deliver, mail_user.name, make_message(i))
            _at, push = await watcher.next(("EXISTS",))
            assert push.number == i and push.folder == "INBOX"
    finally:
        await watcher.stop()


async def test_other_clients_flag_change_and_expunge_are_pushed(dovecot, mail_user, client) -> None:
    for i in (1, 2):
        dovecot.deliver(mail_user.name, make_message(i))
    watcher = Watcher(client)
    await watcher.started()
    other = other_client(dovecot, mail_user)
    try:
        other.select("INBOX")
        other.uid("STORE", "2", "+FLAGS", "(\\Flagged)")
        _at, push = await watcher.next(("FETCH",))
        assert push.uids == (2,) and push.flags is not None and "\\Flagged" in push.flags
        assert push.modseq > 0 and push.folder == "INBOX"
        other.uid("STORE", "1", "+FLAGS", "(\\Deleted)")
        other.expunge()
        _at, push = await watcher.next(("EXPUNGE", "VANISHED"))
        assert push.uids == (1,) if push.kind == "VANISHED" else push.number == 1
    finally:
        other.logout()
        await watcher.stop()


async def test_kicked_session_ends_the_watch_promptly(dovecot, mail_user, client) -> None:
    watcher = Watcher(client)
    await watcher.started()
    await asyncio.to_thread(dovecot.kick, mail_user.name)
    # The server's BYE ends the watch; without it the IDLE would last until it is re-issued
    # (25 minutes): the bound only stops a hung run.
    with pytest.raises(ImapConnectionError):
        await asyncio.wait_for(watcher.task, 60)


async def test_notify_reports_a_delivery_into_another_folder(dovecot, mail_user, client) -> None:
    dovecot.ensure_folder(mail_user.name, "Projects/Zoë")
    assert await client.notify(selected_folder="INBOX") is True
    watcher = Watcher(client)
    await watcher.started()
    try:
        await asyncio.to_thread(dovecot.deliver, mail_user.name, make_message(3), "Projects/Zoë")
        _at, push = await watcher.next(("STATUS",))
        assert push.folder == "Projects/Zoë"
        assert push.status.get("MESSAGES") == 1
        await asyncio.to_thread(dovecot.deliver, mail_user.name, make_message(4))
        _at, push = await watcher.next(("EXISTS",))
        assert push.folder == "INBOX" and push.number == 1
    finally:
        await watcher.stop()


async def test_idle_is_reissued_and_the_connection_stays_usable(dovecot, mail_user, client) -> None:
    watcher = Watcher(client, max_seconds=0.3)
    await watcher.started()
    await asyncio.sleep(1.0)  # several DONE / IDLE rounds
    await asyncio.to_thread(dovecot.deliver, mail_user.name, make_message(5))
    _at, push = await watcher.next(("EXISTS",))
    assert push.number == 1
    await watcher.stop()
    assert await client.all_uids() == [1]


async def test_notify_pushes_a_folder_made_elsewhere_by_its_decoded_name(dovecot, mail_user, client: ImapClient):
    assert await client.notify(selected_folder="INBOX")
    assert client.folder_events
    watcher = Watcher(client)
    await watcher.started()
    try:
        other = other_client(dovecot, mail_user)
        other.create('"&AMQ-rger"')  # "Ärger", as IMAP names it (modified UTF-7)
        other.logout()
        _at, push = await watcher.next(("LIST",))
        assert push.folder == "Ärger"
    finally:
        await watcher.stop()
