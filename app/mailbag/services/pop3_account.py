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

Steps 1 to 3 are ``pop3_batches``'. In the full-screen client a big download runs them in a
process of its own (``pop3_child``), which hands each batch stored to this one for the cache.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

from mailbag.domain.config import AccountConfig, ServerConfig
from mailbag.domain.events import EventSink, Notice, SyncProgress
from mailbag.domain.models import MessageSummary
from mailbag.domain.requests import CheckFolders
from mailbag.domain.wording import plural
from mailbag.paths import try_lock
from mailbag.protocols.maildir import INBOX, summary_of
from mailbag.protocols.maildir_layout import detect
from mailbag.protocols.maildir_delivery import discard_temporary, present
from mailbag.protocols.pop3.client import MAX_MESSAGE, Listing, Pop3Client, Pop3Settings
from mailbag.protocols.pop3.errors import (
    Pop3Error, Pop3LinkLost, Pop3LoginRefused, Pop3MessageFailed, Pop3Temporary,
)
from mailbag.services.backend import Failure
from mailbag.services.maildir_account import MaildirAccount
from mailbag.services.scheduler import Timings
from mailbag.services.secrets import SecretError, login_once_more, resolve_password
from mailbag.services.pop3_batches import (
    Delivered, Keeping, delete_due, digests_of_files, download_batches, not_here, stored_numbers, to_compare,
    vanished, without_digests,
)
from mailbag.services.pop3_child import ChildDownloadFailed, ChildJob, download_in_child
from mailbag.store.local import FETCHING, STORED
from mailbag.store.records import Pop3Download
from mailbag.store.store import Store

log = logging.getLogger(__name__)

#: With ``download_in_child``, a download of at least this many messages runs in a process of its
#: own (starting one costs a few hundred ms of its own).
CHILD_MIN = 1000
#: How many of the messages left on the server as too big a notice names.
NAMED = 3
#: Looking at the folders (the folder tree focused) asks the server at most this often.
CHECK_SECONDS = 60.0
#: The file in the Maildir's top directory a download holds locked (see ``Pop3Account.download``).
DOWNLOAD_LOCK = "mailbag-download.lock"
#: A message the link failed on this many downloads in a row is left on the server (until retry).
GIVE_UP_AFTER = 3
#: ... and the next of those downloads comes after this long, not after a whole poll interval.
RETRY_FAILED_SECONDS = 30.0
#: What a download's progress counts.
DOWNLOADED = "messages downloaded"


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
        self._login_delay = 0.0  # the server's LOGIN-DELAY (RFC 2449): its least time between logins
        self._login_refused = False  # no download on a timer until the user retries
        self._forced = False  # the user asked to check now
        #: No message of this account downloaded yet, as this process last saw it (it looks at each
        #: of its downloads; until the first, it cannot know): the Inbox's arrivals ring no bell,
        #: be they its own first download's or those of another mailbag's that it sees arrive.
        self._first_download = True
        self._news: list[MessageSummary] = []  # a download's first unread messages, told at its end
        self._news_count = 0  # and how many unread messages it brought in all
        self._told_too_big: set[str] = set()  # UIDLs of messages too big to fetch, told once
        self._told_no_uidl = False  # a server without UIDL is told once
        self._told_expiry = False  # a server that removes mail downloaded (EXPIRE) is told once
        self._failures: dict[str, int] = {}  # UIDL -> downloads in a row whose link failed on it
        self._given_up: set[str] = set()  # UIDLs of messages left on the server for that, until retry
        self._downloading = False  # the Inbox is being filled: the watcher leaves it alone
        self.inbox = root  # the Inbox's directory (INBOX/ in a nested tree), known once connected
        self._arrived = 0  # messages of the running download taken care of so far
        #: Run a big download in a child process (the UI's interpreter stays free).
        self.download_in_child = False
        #: Whether that child reads the headers too (else this process reads them from the files).
        self.headers_in_child = True
        self._child_broken = False  # a child died unexplained: the downloads run here
        self.child: asyncio.subprocess.Process | None = None  # the download process at work, if any

    # --- the local side ---------------------------------------------------------------------------

    async def connect(self) -> None:
        layout = await self.db(detect, self.root, self.layout)
        await self.db(layout.create, INBOX)
        self.inbox = layout.inbox()
        await self.db(self._settle_unless_downloading)
        await super().connect()

    def _settle_unless_downloading(self) -> None:
        """:meth:`_settle`, unless another mailbag is downloading for this account now (it holds
        the download lock): the messages it is writing were not cut short, and must not be
        forgotten (each would be fetched again). A download settles first (see :meth:`_download`)."""
        lock = try_lock(self.root / DOWNLOAD_LOCK)
        if lock is None:
            return
        try:
            self._settle()
        finally:
            os.close(lock)

    def _settle(self) -> None:
        """Finish what a killed download left: a message being written is kept if its file made it
        into the Maildir, else forgotten (and fetched again). Only while the download lock is
        held: no other mailbag is writing then."""
        local = self.store.local
        cut = local.pop3_cut_short(self.name)
        if not cut:
            return
        kept = present(self.inbox, cut.values())
        local.pop3_stored(self.name, [uidl for uidl, key in cut.items() if key in kept])
        lost = [uidl for uidl, key in cut.items() if key not in kept]
        discard_temporary(self.inbox, [cut[uidl] for uidl in lost])
        local.pop3_forget(self.name, lost)
        log.info("pop3 %s: %d messages cut short kept, %d to fetch again", self.name, len(kept), len(lost))

    def classify(self, exc: BaseException) -> Failure:
        """A POP3 server that cannot be reached is told, and shown in the account's state, and
        the local account carries on (its mail is all here); the next check tries again. So is
        one that says "not now" (RFC 2449's [IN-USE], [LOGIN-DELAY], [SYS/TEMP]). A refused
        login is told as a refused login, and nothing is fetched until the user retries."""
        if isinstance(exc, Pop3LoginRefused):
            return Failure.FETCH_AUTH
        if isinstance(exc, (Pop3LinkLost, Pop3Temporary)):  # unreachable, or not now ([IN-USE])
            return Failure.FETCH_LINK
        if isinstance(exc, Pop3Error):
            return Failure.REFUSED
        return super().classify(exc)

    async def sync_all(self, first: str | None = None) -> None:
        await super().sync_all(first)
        await self.download()

    async def check_folders(self) -> None:
        forced, self._forced = self._forced, False
        due = self._since_download() >= max(CHECK_SECONDS, self._login_delay) and not self._login_refused
        if forced or due:
            await self.download()

    async def on_quiet(self) -> None:
        if self._login_refused:
            return
        interval: float = self.server.poll_seconds
        if self._failures:  # a message the link failed on: try again soon (see _failed_on)
            interval = min(interval, RETRY_FAILED_SECONDS)
        if self._since_download() >= max(interval, self._login_delay):
            await self.download()

    def _since_download(self) -> float:
        """Seconds since the last download began."""
        return time.monotonic() - self._last_download

    def on_retry(self) -> None:
        self._login_refused = False
        self._failures.clear()
        self._given_up.clear()  # the user asks: every message is tried again
        self._forced = True
        self.submit(CheckFolders(account=self.name))

    def writing(self, folder: str) -> bool:
        return self._downloading and folder == INBOX

    async def announce_new_mail(
        self, folder: str, fresh: Sequence[MessageSummary], count: int | None = None
    ) -> None:
        """As for any account, except that the very first download rings no bell (also when
        another mailbag downloads it: this one sees the files arrive), and that a download's
        batches ring once, when it is over."""
        if folder == INBOX and self._first_download:
            return
        if self._downloading and folder == INBOX:
            unread = [s for s in fresh if s.unread]
            self._news_count += len(unread)
            self._news += unread[: 3 - len(self._news)]
            return
        await super().announce_new_mail(folder, fresh, count)

    async def _tell_news(self) -> None:
        """The new mail a download brought, in one word (see :meth:`announce_new_mail`)."""
        news, count = self._news, self._news_count
        self._news, self._news_count = [], 0
        if count:
            await super().announce_new_mail(INBOX, news, count)

    # --- the download -----------------------------------------------------------------------------

    async def download(self) -> int:
        """Fetch what the server has and this account has not, then delete what is due on the
        server; returns how many messages arrived. Another mailbag downloading for this
        account at the same time (a ``mailbag sync`` beside the full-screen client) holds the
        Maildir's download lock: then this one leaves it to that one, and says so (its messages
        show up as any new file in the Maildir does), so that no message is fetched twice."""
        self._last_download = time.monotonic()
        # Taken here, on the loop (a file opened and flock'd without waiting): taken in a thread
        # whose await was cancelled, it would stay held, unclosed, until the process ends.
        lock = try_lock(self.root / DOWNLOAD_LOCK)
        if lock is None:
            log.info("pop3 %s: another mailbag is downloading for this account; left to it", self.name)
            self.emit(Notice(self.name, "another mailbag is downloading this account's mail; this check leaves"
                                        " it to that one"))
            return 0
        try:
            got = await self._download()
        except Pop3MessageFailed as exc:
            self._failed_on(exc)
            raise
        finally:
            os.close(lock)
        self._failures.clear()
        return got

    def _failed_on(self, exc: Pop3MessageFailed) -> None:
        """The link failed while a message was read: after :data:`GIVE_UP_AFTER` downloads in a
        row that failed on it, it is left on the server (told once), so that a server that
        fails on one message every time (a damaged file there, say) does not hold up the others.
        The retry key tries it again."""
        if not exc.uidl:
            return
        self._failures[exc.uidl] = count = self._failures.get(exc.uidl, 0) + 1
        if count < GIVE_UP_AFTER or exc.uidl in self._given_up:
            return
        self._given_up.add(exc.uidl)
        text = f"1 message could not be downloaded ({exc}) and is left on the server; retry tries it again"
        log.warning("pop3 %s: message %s failed %d downloads in a row: %s", self.name, exc.uidl, count, exc)
        self.emit(Notice(self.name, text))

    async def _download(self) -> int:
        client = await self._open()
        self.scheduler.fetch_reached()
        self._login_delay = float(client.login_delay or 0)
        self._tell_expiry(client.expire_days)
        try:
            listing = await client.list_messages()
            if not client.uidl_offered and not self._told_no_uidl:
                self._told_no_uidl = True
                self.emit(Notice(self.name, f"{self.server.host} offers no UIDL: mailbag tells its"
                                  " messages apart by size and header (TOP), one command each per check"))
            known = await self.db(self.store.local.pop3_downloads, self.name)
            if any(d.state == FETCHING for d in known.values()):  # left by a download killed meanwhile
                await self.db(self._settle)
                known = await self.db(self.store.local.pop3_downloads, self.name)
            self._first_download = not known or not await self.db(
                self.store.local.pop3_first_download_done, self.name
            )  # a first download killed part-way goes on as the first (it rings no bell)
            wanted = await self._wanted(client, [m for m in listing if not_here(m, known)])
            if wanted and (old := without_digests(listing, known)):  # kept by an older mailbag
                known = await self.db(self._give_digests, old)
            again = vanished(listing, known) if wanted else {}
            old_uidls = {uidl for uidls in again.values() for uidl in uidls}
            if self._hands_over(client, wanted):
                # Nothing is marked deleted: this frees the mailbox for the child.
                await client.quit(stored=stored_numbers(listing, known))
                got, whole = await self._fetch_in_child(client.settings, wanted)
                await self._tell_known_again(old_uidls)
                if not whole:  # the rest in a session here
                    return got + await self._download()
            else:
                got = await self._fetch(client, wanted, again, to_compare(listing, known))
                await self._tell_known_again(old_uidls)
                await delete_due(client, listing, self.store.local, self.name, self._keeping())
            if self._first_download:  # run to its end: what comes next is new mail
                await self.db(self.store.local.set_pop3_first_download_done, self.name)
                self._first_download = False
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

    def _tell_expiry(self, days: int | None) -> None:
        """Say once that the server removes mail downloaded sooner than the account's settings
        would leave it there (EXPIRE, RFC 2449): at once (0), or after ``days`` days."""
        keeps = self.server.delete_after_days
        if days is None or self._told_expiry or not self.server.leave_on_server or (keeps is not None and keeps <= days):
            return
        self._told_expiry = True
        host = self.server.host
        if days == 0:
            text = f"{host} keeps no mail once it is downloaded (EXPIRE 0): leave_on_server cannot keep it there"
        else:
            text = f"{host} removes mail {plural(days, 'day')} after it is downloaded (EXPIRE {days})"
        log.info("pop3 %s: %s", self.name, text)
        self.emit(Notice(self.name, text))

    def _keeping(self) -> Keeping:
        return Keeping(self.server.leave_on_server, self.server.delete_after_days)

    def _hands_over(self, client: Pop3Client, wanted: list[Listing]) -> bool:
        """Whether a child process downloads ``wanted``: a big download in the full-screen
        client, unless a child failed before, or the server allows no second login soon after
        this one (LOGIN-DELAY, RFC 2449)."""
        return self.download_in_child and not self._child_broken and len(wanted) >= CHILD_MIN and not client.login_delay

    async def _wanted(self, client: Pop3Client, fresh: list[Listing]) -> list[Listing]:
        """Those of ``fresh`` to download: a message over the size limit stays on the server
        (told once, named by its header where the server gives it: TOP), as does one given up
        on (see :meth:`_failed_on`)."""
        fresh = [m for m in fresh if m.uidl not in self._given_up]
        too_big = [m for m in fresh if m.size > MAX_MESSAGE and m.uidl not in self._told_too_big]
        if too_big:
            self._told_too_big.update(m.uidl for m in too_big)
            what = "1 message" if len(too_big) == 1 else f"{len(too_big)} messages"
            text = f"{what} over {MAX_MESSAGE // 2**20} MB left on the server"
            names = await self._names(client, too_big[:NAMED])
            if names:
                text += ": " + "; ".join(names) + ("; …" if len(too_big) > len(names) else "")
            log.warning("pop3 %s: %s", self.name, text)
            self.emit(Notice(self.name, text))
        return [m for m in fresh if m.size <= MAX_MESSAGE]

    def _give_digests(self, keys: dict[str, str]) -> dict[str, Pop3Download]:
        """Give the downloads ``keys`` (UIDL -> Maildir key) the digests of their files; returns
        the downloads as they are now."""
        local = self.store.local
        local.pop3_set_digests(self.name, digests_of_files(self.inbox, keys))
        return local.pop3_downloads(self.name)

    async def _tell_known_again(self, old_uidls: set[str]) -> None:
        """Say how many messages stored here under the UIDLs ``old_uidls`` the download knew
        again under new ones (see ``pop3_batches``), and so did not store twice."""
        if not old_uidls:
            return
        now = await self.db(self.store.local.pop3_downloads, self.name)
        count = sum(1 for uidl in old_uidls if uidl not in now)
        if count:
            text = (f"{self.server.host} gave {plural(count, 'message')} already here new UIDLs;"
                    " none stored twice")
            log.warning("pop3 %s: %s", self.name, text)
            self.emit(Notice(self.name, text))

    async def _names(self, client: Pop3Client, messages: list[Listing]) -> list[str]:
        """Each message's subject and sender, from its header (TOP n 0), so that the user knows
        which one is left on the server: ``"Holiday photos" from Dan Example``. None on a
        server that removes what a session read (EXPIRE 0: TOP counts), or that refuses TOP."""
        if client.expire_days == 0:
            return []
        names: list[str] = []
        for message in messages:
            try:
                header = await client.top(message.number, 0)
            except Pop3LinkLost:
                raise
            except Pop3Error:  # no TOP here
                break
            summary = summary_of(header, 0, frozenset(), time.time())
            named = f'"{summary.subject or "(no subject)"}"'
            names.append(f"{named} from {summary.from_[0].display()}" if summary.from_ else named)
        return names

    async def _fetch(
        self, client: Pop3Client, wanted: list[Listing], again: dict[str, list[str]], compare: dict[str, str]
    ) -> int:
        """Download ``wanted`` in batches; a batch is written to disk and brought into the cache
        while the next one comes. ``again``, ``compare``: see ``pop3_batches.vanished``,
        ``to_compare``."""
        async with self._filling():
            got = await download_batches(
                client, wanted, self.inbox, self.store.local, self.name,
                partial(self._arrive, len(wanted)), self.serve_urgent, known_by_digest=again, compare=compare,
            )
        if got:
            await self.sync_folder(INBOX)  # once, for what another program did meanwhile
        return got

    async def _fetch_in_child(self, settings: Pop3Settings, wanted: list[Listing]) -> tuple[int, bool]:
        """Download ``wanted`` in a child process (see ``pop3_child``) on a session of its own,
        which then deletes what is due on the server, bringing each batch it stored into the
        cache and serving urgent work meanwhile; (messages that arrived, whether the child did
        all that: else a session here does the rest). A child
        that dies unexplained, or whose login the server puts off (a mailbox still locked by the
        session just ended), is told in the log; the downloads go on here from then on."""
        job = ChildJob(
            self.name, settings, str(self.inbox), str(self.store.local.path), [m.uidl for m in wanted],
            summarise=self.headers_in_child, keeping=self._keeping(),
        )
        got = 0
        whole = False

        async def arrived(listed: int, delivered: Delivered) -> None:
            nonlocal got
            got += len(delivered)
            await self._arrive(len(wanted), listed, delivered)
            await self.serve_urgent()

        def started(proc: asyncio.subprocess.Process) -> None:
            self.child = proc

        try:
            async with self._filling():
                await download_in_child(job, arrived, on_start=started)
            whole = True
        except (ChildDownloadFailed, Pop3Temporary) as exc:  # died; or its login came too soon
            log.warning("pop3 %s: %s; downloading in this process from now on", self.name, exc)
            self._child_broken = True
        finally:
            self.child = None
            await self.db(self._settle)  # what a child killed in the middle of a batch left
        if self._arrived < len(wanted):  # some were gone from the server, or the child died
            self.emit(SyncProgress(self.name, INBOX, len(wanted), len(wanted), DOWNLOADED))
        # Once, for what another program did meanwhile, and for the files of a batch whose word
        # a child killed did not send.
        await self.sync_folder(INBOX)
        return got, whole

    @asynccontextmanager
    async def _filling(self) -> AsyncIterator[None]:
        """While a download fills the Inbox: the watcher leaves it alone, the progress counts
        from 0, and the new mail it brought is told once at its end."""
        self._downloading = True
        self._arrived = 0
        try:
            yield
        finally:
            self._downloading = False
            await self._tell_news()

    async def _arrive(self, total: int, listed: int, delivered: Delivered) -> None:
        """A batch of the download of ``total`` messages is stored: say how far the download is
        (the status bar counts; while the Inbox fills, the list is re-read less often), then
        bring what it delivered into the cache. ``listed`` counts a message gone meanwhile too."""
        self._arrived += listed
        self.emit(SyncProgress(self.name, INBOX, self._arrived, total, DOWNLOADED))
        if delivered:
            await self.add_delivered(INBOX, delivered)
