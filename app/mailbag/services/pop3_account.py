"""A POP3 account: a local Maildir account whose INBOX a downloader fills from the server.

Everything the user does (read, search, flags, folders, moves) is local, as for a Maildir account.
The download (:meth:`Pop3Account.download`) never loses or doubles a message:

1. the UIDLs of a batch read from the server are recorded in the local store as *fetching*;
2. the batch is written to the Maildir's ``tmp/``, made durable and renamed into ``new/``;
3. it is recorded as *stored* (one transaction) and put into the cache from memory;
4. only then may a DELE go out, and the server removes nothing before QUIT.

A run killed between 1 and 3 leaves *fetching* rows: the next start keeps those whose file is
in the Maildir and fetches the others again. A run killed before QUIT leaves every message on the
server, and the next run deletes again what is due.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path

from mailbag.domain.config import AccountConfig, ServerConfig
from mailbag.domain.events import ErrorReported, EventSink, SyncProgress
from mailbag.domain.models import MessageSummary
from mailbag.domain.requests import CheckFolders
from mailbag.protocols.maildir import INBOX
from mailbag.protocols.maildir_layout import detect
from mailbag.protocols.maildir_delivery import (
    deliver,
    discard_temporary,
    new_key,
    present,
)
from mailbag.protocols.pop3.client import MAX_MESSAGE, WINDOW, Listing, Pop3Client, Pop3Settings
from mailbag.protocols.pop3.errors import Pop3Error, Pop3LoginRefused
from mailbag.services.backend import Failure
from mailbag.services.maildir_account import MaildirAccount
from mailbag.services.scheduler import Timings
from mailbag.services.secrets import SecretError, login_once_more, resolve_password
from mailbag.services.summary_process import SummaryProcess, summaries
from mailbag.store.local import FETCHING, STORED
from mailbag.store.records import Pop3Download
from mailbag.store.store import Store

log = logging.getLogger(__name__)

#: Makes the summaries of a batch's messages (in a thread, or in a child process).
Summarise = Callable[[Sequence[bytes], float], Awaitable[list[MessageSummary | None]]]

#: Messages fetched, written and recorded together: at most this many ...
BATCH = WINDOW * 8
#: ... and of at most this many bytes (a single bigger message is a batch of its own).
BATCH_BYTES = 32 * 2**20
#: Batches being written and recorded while the next one is read.
STORING = 2
#: With ``summarise_in_child``, a download of at least this many messages reads their headers
#: in a process of its own (starting one costs a few hundred ms of its own).
CHILD_MIN = 1000
#: Looking at the folders (the folder tree focused) asks the server at most this often.
CHECK_SECONDS = 60.0
_DAY = 86400.0


class Pop3Account(MaildirAccount):
    """Serves the account's local Maildir; fills its INBOX from the POP3 server on connect, every
    ``poll_interval``, and when the user asks (check now / retry)."""

    def __init__(
        self, account: AccountConfig, root: Path, store: Store, sink: EventSink, timings: Timings | None = None
    ) -> None:
        super().__init__(account.name, root, store, sink, timings, layout=account.maildir_layout)
        assert account.pop3 is not None
        self.server: ServerConfig = account.pop3
        self.plaintext = account.plaintext
        self.signs_in = account.pop3 is not None and account.pop3.oauth2 is not None
        self._last_download = float("-inf")  # monotonic time of the last attempt
        self._login_refused = False  # no download on a timer until the user retries
        self._forced = False  # the user asked to check now
        self._quiet_new_mail = False  # the very first download rings no bell
        self._told_too_big: set[str] = set()  # UIDLs of messages too big to fetch, told once
        self._downloading = False  # the Inbox is being filled: the watcher leaves it alone
        self.inbox = root  # the Inbox's directory (INBOX/ in a nested tree), known once connected
        self._arrived = 0  # messages of the running download taken care of so far
        #: Read the headers of a big download in a child process (the UI's interpreter stays free).
        self.summarise_in_child = False

    # --- the local side ---------------------------------------------------------------------------

    async def connect(self) -> None:
        layout = await self.db(detect, self.root, self.layout)
        await self.db(layout.create, INBOX)
        self.inbox = layout.inbox()
        await self.db(self._settle)
        await super().connect()

    def _settle(self) -> None:
        """Finish what a killed download left: a message being written is kept if its file made it
        into the Maildir, else forgotten (and fetched again)."""
        local = self.store.local
        cut = {d.uidl: d.key for d in local.pop3_downloads(self.name).values() if d.state == FETCHING}
        if not cut:
            return
        kept = present(self.inbox, cut.values())
        local.pop3_stored(self.name, [uidl for uidl, key in cut.items() if key in kept])
        lost = [uidl for uidl, key in cut.items() if key not in kept]
        discard_temporary(self.inbox, [cut[uidl] for uidl in lost])
        local.pop3_forget(self.name, lost)
        log.info("pop3 %s: %d messages cut short kept, %d to fetch again", self.name, len(kept), len(lost))

    def classify(self, exc: BaseException) -> Failure:
        """A POP3 server that cannot be reached or refuses the login is told, and the local
        account carries on (its mail is all here); the next check tries again."""
        if isinstance(exc, Pop3Error):
            return Failure.REFUSED
        return super().classify(exc)

    async def sync_all(self, first: str | None = None) -> None:
        await super().sync_all(first)
        await self.download()

    async def check_folders(self) -> None:
        forced, self._forced = self._forced, False
        due = time.monotonic() - self._last_download >= CHECK_SECONDS and not self._login_refused
        if forced or due:
            await self.download()

    async def on_quiet(self) -> None:
        if self._login_refused:
            return
        if time.monotonic() - self._last_download >= self.server.poll_seconds:
            await self.download()

    def on_retry(self) -> None:
        self._login_refused = False
        self._forced = True
        self.submit(CheckFolders(account=self.name))

    def writing(self, folder: str) -> bool:
        return self._downloading and folder == INBOX

    async def announce_new_mail(self, folder: str, fresh: Sequence[MessageSummary]) -> None:
        if not self._quiet_new_mail:
            await super().announce_new_mail(folder, fresh)

    # --- the download -----------------------------------------------------------------------------

    async def download(self) -> int:
        """Fetch what the server has and this account has not, then delete what is due on the
        server; returns how many messages arrived."""
        self._last_download = time.monotonic()
        client = await self._open()
        try:
            listing = await client.list_messages()
            known = await self.db(self.store.local.pop3_downloads, self.name)
            self._quiet_new_mail = not known
            try:
                got = await self._fetch(client, [m for m in listing if m.uidl not in known])
            finally:
                self._quiet_new_mail = False
            await self._delete_due(client, listing)
        finally:
            client.abort()
        return got

    async def _open(self) -> Pop3Client:
        s = self.server
        what = "OAuth2 token" if s.uses_oauth2 else "password"
        try:
            password = await resolve_password(s)
            return await login_once_more(
                s, password, lambda secret: Pop3Client.open(Pop3Settings.of(s, secret)), Pop3LoginRefused
            )
        except SecretError as exc:
            self._login_refused = True
            raise Pop3LoginRefused(f"{what} for {self.name}: {exc}") from None
        except Pop3LoginRefused as exc:
            self._login_refused = True
            raise Pop3LoginRefused(f"{exc} (fix the password, then retry)") from None

    async def _fetch(self, client: Pop3Client, fresh: list[Listing]) -> int:
        """Download ``fresh`` in batches; a batch is written to disk and brought into the cache
        while the next one comes."""
        too_big = [m for m in fresh if m.size > MAX_MESSAGE and m.uidl not in self._told_too_big]
        if too_big:
            self._told_too_big.update(m.uidl for m in too_big)
            what = "1 message" if len(too_big) == 1 else f"{len(too_big)} messages"
            text = f"{what} over {MAX_MESSAGE // 2**20} MB left on the server"
            log.warning("pop3 %s: %s", self.name, text)
            self.emit(ErrorReported(self.name, text))
        got = 0
        storing: list[asyncio.Task[int]] = []  # in the order read; each adds to the cache after the one before
        wanted = [m for m in fresh if m.size <= MAX_MESSAGE]
        child = SummaryProcess() if self.summarise_in_child and len(wanted) >= CHILD_MIN else None
        summarise = child.summaries if child is not None else self._summaries
        self._downloading = True
        self._arrived = 0
        try:
            for batch in batches(wanted):
                keys = {m.uidl: new_key() for m in batch}
                uidl_of = {m.number: m.uidl for m in batch}
                written = [
                    (keys[uidl_of[number]], uidl_of[number], raw)
                    async for number, raw in client.retrieve([m.number for m in batch])
                    if raw is not None
                ]
                if len(storing) == STORING:
                    got += await storing.pop(0)
                    await self.serve_urgent()  # what the user asked for goes between two batches
                after = storing[-1] if storing else None
                storing.append(asyncio.create_task(self._store(written, summarise, after, (len(batch), len(wanted)))))
        finally:
            try:
                for task in storing:  # what was read is kept, whatever happens next
                    await asyncio.wait([task])
                for task in storing:
                    got += task.result()
            finally:
                self._downloading = False
                if child is not None:
                    child.close()
        if got:
            await self.sync_folder(INBOX)  # once, for what another program did meanwhile
        return got

    async def _summaries(self, raws: Sequence[bytes], received: float) -> list[MessageSummary | None]:
        return await self.db(summaries, raws, received)

    async def _store(
        self, written: list[tuple[str, str, bytes]], summarise: Summarise, after: asyncio.Task[int] | None,
        progress: tuple[int, int],
    ) -> int:
        """Record a batch of ``(key, uidl, message)`` as being written, write it into the Maildir
        (its headers read meanwhile, from memory, by ``summarise``), record it stored, and put it
        into the cache once the batch ``after`` is there, saying first how far the download is
        (``progress``: this batch's size, messages listed as the status bar counts them; while
        the Inbox fills, the list is re-read less often). A message gone meanwhile counts too."""
        local = self.store.local
        await self.db(local.pop3_fetching, self.name, {uidl: key for key, uidl, _raw in written})
        delivered = [(key, raw) for key, _uidl, raw in written]
        summaries_made, _ = await asyncio.gather(
            summarise([raw for _key, raw in delivered], time.time()),
            self.db(deliver, self.inbox, delivered),
        )
        await self.db(local.pop3_stored, self.name, sorted(uidl for _key, uidl, _raw in written))
        if after is not None:
            await asyncio.wait([after])  # UIDs in the order the server lists the messages
        self._arrived += progress[0]
        self.emit(SyncProgress(self.name, INBOX, self._arrived, progress[1]))
        if delivered:
            await self.add_delivered(INBOX, [(key, s) for (key, _raw), s in zip(delivered, summaries_made)])
        return len(written)

    async def _delete_due(self, client: Pop3Client, listing: list[Listing]) -> None:
        """DELE what is stored here and due to go from the server, then QUIT (which commits it)."""
        known = await self.db(self.store.local.pop3_downloads, self.name)
        victims = [m for m in listing if self._due(known.get(m.uidl))]
        refused = set(await client.delete([m.number for m in victims])) if victims else set()
        await client.quit()
        if victims:
            done = [m.uidl for m in victims if m.number not in refused]
            await self.db(self.store.local.pop3_deleted, self.name, done)

    def _due(self, download: Pop3Download | None) -> bool:
        if download is None or download.state != STORED or download.deleted is not None:
            return False
        if not self.server.leave_on_server:
            return True
        days = self.server.delete_after_days
        return days is not None and time.time() - download.downloaded >= days * _DAY



def batches(listing: Sequence[Listing]) -> Iterator[list[Listing]]:
    """``listing`` cut into batches of at most :data:`BATCH` messages and :data:`BATCH_BYTES`."""
    batch: list[Listing] = []
    size = 0
    for message in listing:
        if batch and (len(batch) == BATCH or size + message.size > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(message)
        size += message.size
    if batch:
        yield batch
