"""Live updates for an IMAP account: a second connection that IDLEs (and asks for NOTIFY).

Whatever the server pushes — new mail, flag changes, expunges, other folders' STATUS — marks the
folder dirty on the account, whose command connection then syncs it incrementally; a LIST pushed by
NOTIFY (a folder made, deleted, renamed or (un)subscribed elsewhere) has it list the folders again. The watcher
reconnects on its own with the scheduler's backoff (which starts again from the bottom only after a
healthy spell), once the command connection has answered since the link was lost: when both
were cut (a server restarted, a session kicked), the command connection logs in again first, so
that a password changed meanwhile is tried once, not once per link. After a reconnect every
folder is looked at again. A refused login is not retried here: the command connection decides
(see the scheduler's failure policy).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from mailbag.protocols.imap import ImapAuthError, ImapClient, ImapConnectionError, ImapError
from mailbag.services.scheduler import Backoff

if TYPE_CHECKING:
    from mailbag.services.imap_account import ImapAccount

log = logging.getLogger(__name__)

#: Re-issue IDLE at least this often (RFC 2177 asks for less than 30 minutes).
IDLE_SECONDS = 25 * 60


class IdleWatcher:
    """Watches one folder with IDLE (INBOX, or the open one) and the others with NOTIFY."""

    def __init__(self, account: ImapAccount, *, poll_seconds: float = 60.0) -> None:
        self.account = account
        self.poll_seconds = poll_seconds
        self.folder = "INBOX"
        self.notify_active = False
        self.folder_events = False  # NOTIFY tells of folders changed elsewhere
        self.ready = asyncio.Event()  # set while IDLE (or polling) is under way
        self._retarget = asyncio.Event()

    def watch(self, folder: str) -> None:
        """Follow the folder the user has open (not needed while NOTIFY watches everything)."""
        if folder != self.folder and not self.notify_active:
            self.folder = folder
            self._retarget.set()

    async def run(self) -> None:
        backoff = Backoff(self.account.timings)
        while True:
            settings = await self.account.current_settings()
            if settings is None:
                return
            client = ImapClient(settings, self.account.name)
            try:
                await client.connect()
                self.notify_active = await client.notify(selected_folder=self.folder)
                self.folder_events = client.folder_events
                backoff.connected()
                retargeted = await self._idle(client)
                await _close(client)
                if retargeted:  # asked to watch another folder: at once
                    continue
            except asyncio.CancelledError:
                await _close(client)
                raise
            except ImapAuthError as exc:
                self._interrupted(exc)
                await _close(client)
                self.account.login_refused(str(exc))  # the account stops and asks
                return  # never resent on a timer; the account reconnects (and restarts us) or waits
            except (ImapConnectionError, ImapError, OSError) as exc:
                answered = self._interrupted(exc)
                await _close(client)
                if not isinstance(exc, (ImapConnectionError, OSError)) and self.folder != "INBOX":
                    self.folder = "INBOX"  # the open folder cannot be watched (deleted?): the Inbox
                await answered.wait()  # the command connection is alive (else we are stopped)
            await asyncio.sleep(backoff.failed())

    def _interrupted(self, exc: Exception) -> asyncio.Event:
        """The link is gone: say so, and have the command connection tested (see ``run``)."""
        self.ready.clear()
        log.info("account %s: live updates interrupted: %s", self.account.name, exc)
        self.notify_active = self.folder_events = False
        return self.account.check_link()

    async def _idle(self, client: ImapClient) -> bool:
        """IDLE until the server ends it or the user opens another folder; every push marks
        its folder dirty. Returns to have the caller reconnect: True to watch the new folder."""
        self._retarget.clear()
        consume = asyncio.create_task(self._consume(client))
        retarget = asyncio.create_task(self._retarget.wait())
        catch_up = asyncio.create_task(self._catch_up(client))
        try:
            done, _ = await asyncio.wait({consume, retarget}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.ready.clear()
            for task in (consume, retarget, catch_up):
                task.cancel()
            await asyncio.gather(consume, retarget, catch_up, return_exceptions=True)
        if consume in done and not consume.cancelled():
            consume.result()  # a connection error goes up to the backoff
            return False
        return True

    async def _catch_up(self, client: ImapClient) -> None:
        """Once the server is pushing to us, look at every folder again: whatever changed
        before that moment (while connecting, or while we were away) is picked up."""
        while "IDLE" in client.capabilities and not client.idling:
            await asyncio.sleep(0.05)
        self.ready.set()
        for folder in await self.account.selectable_folders():
            self.account.mark_dirty(folder)

    async def _consume(self, client: ImapClient) -> None:
        async for push in client.idle(
            self.folder,
            max_seconds=IDLE_SECONDS,
            poll_seconds=self.poll_seconds,
            liveness_seconds=self.account.timings.idle_liveness_seconds,
        ):
            if push.kind == "LIST":
                self.account.folders_pushed()
            else:
                self.account.mark_dirty(push.folder or self.folder)


async def _close(client: ImapClient) -> None:
    try:
        await asyncio.wait_for(client.logout(), 5)
    except Exception:  # noqa: BLE001 - the link may be gone already
        pass
