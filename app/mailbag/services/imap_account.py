"""An IMAP account: connects, keeps the cache in step with the server, serves requests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from mailbag.domain.config import AccountConfig, ServerConfig
from mailbag.domain.events import (
    BodyLoaded,
    ErrorReported,
    EventSink,
    MessagesChanged,
    SearchResults,
    SyncProgress,
)
from mailbag.domain.folder_names import inbox_prefix, server_name
from mailbag.domain.models import Folder, FolderRole, FolderState, MessageSummary, unkept_keywords
from mailbag.domain.requests import CheckFolders, Search
from mailbag.domain.sanitize import clean_line
from mailbag.domain.search import parse_query
from mailbag.protocols.imap import (
    FromUid,
    ImapAuthError,
    ImapClient,
    ImapConnectionError,
    ImapError,
    ImapSessionEnded,
    ImapSettings,
    SelectResult,
)
from mailbag.services.backend import (
    AuthenticationFailed,
    Backend,
    Capability,
    Failure,
    Offline,
    Refused,
)
from mailbag.services.cache_writer import CacheWriter
from mailbag.services.imap_watch import IdleWatcher
from mailbag.services.journal import MoveOutcome, ServerRefused, UidValidityChanged
from mailbag.services.scheduler import Timings
from mailbag.services.secrets import SecretError, login_once_more, resolve_password
from mailbag.services.sync_child import ChildJob, FolderChanged, fetch_in_child
from mailbag.store.store import Store

log = logging.getLogger(__name__)

#: Full sync chunk sizes, newest first: a small first chunk fills the visible list quickly.
FIRST_CHUNK = 300
#: A server search fetches the summaries of at most this many matches the cache lacks (the
#: newest); the others are counted in SearchResults.more.
SEARCH_FETCH_LIMIT = 300
CHUNK = 5000
#: Summaries per cache transaction.
WRITE_BATCH = 1000
#: With ``sync_in_child``, a first sync with at least this many summaries left after its first
#: chunk fetches them in a child process (starting one costs a few hundred ms of its own).
CHILD_MIN = 2 * CHUNK


class FolderRecreated(Exception):
    """The folder being synced was deleted and created anew on the server (new UIDVALIDITY)."""


class ImapAccount(Backend):
    """One IMAP account on one command connection."""

    capabilities = frozenset(Capability)

    def __init__(
        self, config: AccountConfig, store: Store, sink: EventSink, timings: Timings | None = None
    ) -> None:
        if config.imap is None:
            raise ValueError(f"account {config.name} has no [imap] section")
        super().__init__(config.name, store, sink, timings or imap_timings(config.imap))
        self.config = config
        self.plaintext = config.plaintext
        self.signs_in = config.imap is not None and config.imap.oauth2 is not None
        self.client: ImapClient | None = None
        self._selected: str | None = None
        self._selected_validity = 0
        self._validity: dict[str, int] = {}  # folder -> UIDVALIDITY its last SELECT reported
        self._permanent: dict[str, frozenset[str] | None] = {}  # folder -> its PERMANENTFLAGS
        self._settings: ImapSettings | None = None
        self.watcher: IdleWatcher | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self._statuses_seen = float("-inf")  # when the other folders' STATUS was last looked at
        self._relist_asked = False  # NOTIFY told of a folder changed elsewhere: list them again
        self._check_task: asyncio.Task[None] | None = None
        #: Fetch the bulk of a first sync in a child process (the UI's interpreter stays free).
        self.sync_in_child = False
        self.child: asyncio.subprocess.Process | None = None  # the one at work, if any

    # --- connection -----------------------------------------------------------------------

    async def connect(self) -> None:
        server = self.config.imap
        assert server is not None
        what = "OAuth2 token" if server.uses_oauth2 else "password"
        try:
            password = await resolve_password(server)
            await login_once_more(server, password, self._login, ImapAuthError)
        except SecretError as exc:
            raise AuthenticationFailed(f"{what} for {self.name}: {exc}") from None
        except ImapAuthError as exc:
            raise AuthenticationFailed(str(exc)) from None
        if "NAMESPACE" in self._client().capabilities:
            self.folder_prefix = (await self._client().namespace())[0]
        await self._refresh_folders()

    async def _login(self, password: str) -> None:
        """Connect and log in to the account's server with ``password`` (or access token)."""
        server = self.config.imap
        assert server is not None
        settings = ImapSettings.of(server, password)
        self._settings = settings
        self.client = ImapClient(settings, self.name, on_alert=self._server_alert)
        self._selected = None
        await self.client.connect()

    def _server_alert(self, text: str) -> None:
        """An [ALERT] from the server, which must reach the user (RFC 3501 7.1): the status bar."""
        self.emit(ErrorReported(self.name, f"server alert: {text}"))

    async def _refresh_folders(self) -> list[Folder]:
        """LIST the folders into the cache first, so the tree has names, roles and counts."""
        self._relist_asked = False
        folders = await self._client().list_folders()
        await self.publish_folders(folders)
        return folders

    async def disconnect(self) -> None:
        client, self.client = self.client, None
        self._selected = None
        if client is not None:
            await client.logout()

    def reconnects_at_once(self, exc: BaseException) -> bool:
        return isinstance(exc, ImapSessionEnded)

    def classify(self, exc: BaseException) -> Failure:
        if isinstance(exc, ImapAuthError):
            return Failure.AUTH
        if isinstance(exc, ImapConnectionError):
            return Failure.LINK
        if isinstance(exc, (ImapError, FolderRecreated)):
            return Failure.REFUSED
        return super().classify(exc)

    async def probe(self) -> bool:
        """Whether the server's port accepts a TCP connection (no TLS, no login)."""
        server = self.config.imap
        assert server is not None
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(server.host, server.port), self.timings.probe_seconds
            )
        except (OSError, TimeoutError):
            return False
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True

    def _client(self) -> ImapClient:
        if self.client is None:
            raise Offline(f"{self.name} is not connected")
        return self.client

    async def _select(self, folder: str, **kwargs: Any) -> SelectResult:
        # A failed SELECT leaves no folder selected (RFC 3501 6.3.1): forget the old one first.
        self._selected = None
        result = await self._client().select(folder, **kwargs)
        self._selected, self._selected_validity = folder, result.uidvalidity
        self._validity[folder] = result.uidvalidity
        self._permanent[folder] = result.permanentflags
        return result

    def last_uidvalidity(self, folder: str) -> int:
        return self._validity.get(folder, 0)

    def permanent_flags(self, folder: str) -> frozenset[str] | None:
        return self._permanent.get(folder)

    async def _ensure_selected(self, folder: str, uidvalidity: int = 0) -> None:
        """Select ``folder`` unless it is selected; with ``uidvalidity``, raise FolderRecreated
        when the folder selected is no longer the one of that UIDVALIDITY."""
        if self._selected != folder:
            result = await self._select(folder)
            if folder not in self.syncing:
                await self._look_at(folder, result)
        if uidvalidity and self._selected_validity != uidvalidity:
            raise FolderRecreated(folder)

    async def _look_at(self, folder: str, selected: SelectResult) -> None:
        """A folder selected again (for a body, a search): when its count or next UID is not the
        cache's, another client changed it since (a message expunged, one added) and nothing
        told (no IDLE, no NOTIFY, or a link of theirs that missed it): sync it soon."""
        state = await self.db(self.store.folder_state, self.name, folder)
        if state is None or not state.complete:
            return  # a sync is due anyway
        total, _unread = await self.db(self.store.counts, self.name, folder)
        status = {"UIDVALIDITY": selected.uidvalidity, "UIDNEXT": selected.uidnext, "MESSAGES": selected.exists}
        if status_differs(status, state, total, 0):
            log.info("%s/%s: changed on the server since it was synced; syncing it", self.name, folder)
            self.mark_dirty(folder)

    # --- sync -----------------------------------------------------------------------------

    async def sync_all(self, first: str | None = None) -> None:
        """Sync every folder whose STATUS shows a change (one LIST-STATUS round trip tells);
        folders the cache already matches are not even selected. A folder the server refuses
        is reported and skipped; the others are synced all the same."""
        folders = await self._refresh_folders()
        order = _sync_order(folders, first)
        statuses = await self._client().status_many([f.name for f in order])
        failed: list[str] = []
        for folder in order:
            reported = self.take_dirty(folder.name)
            if folder.name != first and not reported and not await self._changed(folder.name, statuses):
                continue
            try:
                await self.sync_folder(folder.name)
            except ImapConnectionError:
                raise
            except (ImapError, FolderRecreated) as exc:
                log.warning("%s/%s: not synced: %s", self.name, folder.name, exc)
                failed.append(clean_line(folder.name))
            await self.serve_urgent()
        if failed:
            raise ImapError(f"{len(failed)} folder(s) not synced: {', '.join(failed)[:200]}")

    async def _changed(self, folder: str, statuses: dict[str, dict[str, int]]) -> bool:
        """Whether the server's STATUS of ``folder`` differs from what the cache holds."""
        status = statuses.get(folder)
        state = await self.db(self.store.folder_state, self.name, folder)
        if status is None or state is None or not state.complete:
            return True
        if "HIGHESTMODSEQ" in status and state.highestmodseq:
            total = unread = 0  # not needed: the mod-sequence tells
        else:
            total, unread = await self.db(self.store.counts, self.name, folder)
        return status_differs(status, state, total, unread)

    async def sync_folder(self, folder: str) -> None:
        if folder in self.syncing:
            self.mark_dirty(folder)  # already under way: look again afterwards
            return
        self.syncing.add(folder)
        try:
            try:
                await self._sync_folder(folder)
            except FolderRecreated:
                log.info("%s/%s: recreated on the server during its sync; again", self.name, folder)
                await self._sync_folder(folder)
        except ImapError as exc:
            if isinstance(exc, ImapConnectionError) or not await self._gone(folder):
                raise
            log.info("%s/%s: gone from the server, not synced: %s", self.name, folder, exc)
        finally:
            self.syncing.discard(folder)
        self._note_pushes()  # what changed while the folder was synced: again, once more

    async def _sync_folder(self, folder: str) -> None:
        client = self._client()
        state = await self.db(self.store.folder_state, self.name, folder)
        qresync = "QRESYNC" in client.enabled
        known = state if state is not None and state.complete else None
        if known is not None and qresync and known.highestmodseq:
            selected = await self._select(folder, qresync=(known.uidvalidity, known.highestmodseq))
        else:
            selected = await self._select(folder)
        if not selected.uidnext:  # RFC 3501 6.3.1: a server may leave UIDNEXT out
            selected = replace(selected, uidnext=await self._next_uid(folder, known))
        if known is not None and selected.uidvalidity != known.uidvalidity:
            log.info("%s/%s: UIDVALIDITY changed, resyncing", self.name, folder)
            known = None
        if known is None:
            await self._full_sync(folder, selected)
        else:
            await self._incremental_sync(folder, selected, known, qresync)
            await self.db(
                self.store.set_folder_state,
                self.name,
                folder,
                FolderState(selected.uidvalidity, selected.uidnext, selected.highestmodseq),
            )
        await self.publish_counts(folder)

    async def _next_uid(self, folder: str, known: FolderState | None) -> int:
        """UIDNEXT of the selected folder when SELECT did not say: from STATUS, else one past the
        newest message's UID (new mail is then still found, from that UID on)."""
        client = self._client()
        uidnext = (await client.status(folder)).get("UIDNEXT", 0)
        if not uidnext:
            last = await client.last_uid()
            uidnext = last + 1 if last else (known.uidnext if known is not None else 1)
        return max(uidnext, 1)

    async def _full_sync(self, folder: str, selected: SelectResult) -> None:
        """Fetch every message's summary, newest first, in chunks; serve urgent work in between.

        The folder is marked incomplete first (dropping what the cache holds of an older
        UIDVALIDITY), and complete at the end, when the cached messages the server did not list
        are dropped: a sync cut short anywhere leaves the next one to finish and reconcile.

        The newest FIRST_CHUNK are found by their sequence numbers (the last ones), so the list
        fills before the server has listed every UID; UID SEARCH ALL then names the rest. One
        writer serves every chunk, so the next chunk is being fetched while the last batches of
        the one before are written; each chunk is announced once its rows are in the cache.

        A sync that resumes one cut short (the same UIDVALIDITY) fetches only the summaries the
        cache lacks, and the flags of those it holds (they may have changed meanwhile).
        """
        validity = selected.uidvalidity
        dropped = await self.db(self.store.begin_full_sync, self.name, folder, validity)
        if dropped:
            self.emit(MessagesChanged(self.name, folder, removed=dropped))
        cached = set(await self.db(self.store.uids, self.name, folder))
        listed: list[int] = []
        if selected.exists:
            first = selected.exists - FIRST_CHUNK + 1
            newest = await self._client().uids_of_sequence(first)
            listed = newest
            writer = CacheWriter(partial(self.db, self.store.upsert_summaries, self.name, folder))
            rest: list[int] = []
            try:
                missing = [u for u in newest if u not in cached]
                total = max(selected.exists - len(cached), len(missing))
                done = await self._fetch_chunk(folder, validity, writer, missing, 0, total)
                if first > 1:
                    # urgent work may have selected another folder
                    await self._ensure_selected(folder, validity)
                    listed = await self._client().all_uids()
                    fetched = set(newest)
                    rest = [u for u in listed if u not in fetched and u not in cached]
                    total = done + len(rest)
                    if not self._in_child(rest):
                        for end in range(len(rest), 0, -CHUNK):
                            chunk = rest[max(0, end - CHUNK) : end]
                            done = await self._fetch_chunk(folder, validity, writer, chunk, done, total)
                await writer.close()
            finally:
                await writer.abort()
            if self._in_child(rest):
                await self._fetch_in_child(folder, validity, rest, done, total)
            if cached:
                await self._refresh_flags(folder, validity, sorted(cached.intersection(listed)))
        final = FolderState(validity, selected.uidnext, selected.highestmodseq)
        removed = await self.db(self.store.finish_full_sync, self.name, folder, listed, final)
        if removed:
            self.emit(MessagesChanged(self.name, folder, removed=removed))

    async def _refresh_flags(self, folder: str, uidvalidity: int, uids: list[int]) -> None:
        """Read the server's flags of ``uids`` (cached by a sync cut short) into the cache."""
        if not uids:
            return
        await self._ensure_selected(folder, uidvalidity)
        changed = 0
        async for batch in self._client().fetch_flags(uids):
            changed += await self._apply_flags(folder, [(u, f) for u, f, _ in batch])
        if changed:
            self.emit(MessagesChanged(self.name, folder, changed=changed))

    def _in_child(self, rest: Sequence[int]) -> bool:
        """Whether the rest of a first sync is fetched by a process of its own."""
        return self.sync_in_child and len(rest) >= CHILD_MIN

    async def _fetch_in_child(
        self, folder: str, uidvalidity: int, uids: list[int], done: int, total: int
    ) -> None:
        """Fetch ``uids`` into the cache in a child process (see ``sync_child``), announcing each
        chunk it has written and serving urgent work on this connection meanwhile."""
        settings = await self.current_settings()
        assert settings is not None
        job = ChildJob(self.name, folder, uidvalidity, uids, str(self.store.reader.path), CHUNK, WRITE_BATCH)
        before = 0

        async def chunk_done(count: int) -> None:
            nonlocal before
            self._announce_chunk(folder, done + count, total, count - before)
            before = count
            if await self._urgent_work():
                await self.serve_urgent()

        def started(proc: asyncio.subprocess.Process) -> None:
            self.child = proc

        try:
            await fetch_in_child(job, settings, chunk_done, on_start=started)
        except FolderChanged:
            raise FolderRecreated(folder) from None
        finally:
            self.child = None

    async def _fetch_chunk(
        self,
        folder: str,
        uidvalidity: int,
        writer: CacheWriter,
        chunk: Sequence[int],
        done: int,
        total: int,
    ) -> int:
        """Fetch one chunk of a full sync into ``writer``, announce it once written and serve
        urgent work; returns how many messages are done."""
        if chunk:
            await self._ensure_selected(folder, uidvalidity)
            async for batch in self._client().fetch_summaries(chunk, batch_size=WRITE_BATCH):
                await writer.put(batch)
            done += len(chunk)
            await writer.then(partial(self._announce_chunk, folder, done, total, len(chunk)))
        if await self._urgent_work():
            await writer.flush()  # what urgent work reads or changes must be written first
            await self.serve_urgent()
        return done

    def _announce_chunk(self, folder: str, done: int, total: int, added: int) -> None:
        self.emit(SyncProgress(self.name, folder, done, total))
        self.emit(MessagesChanged(self.name, folder, added=added))

    async def _incremental_sync(
        self, folder: str, selected: SelectResult, known: FolderState, qresync: bool
    ) -> None:
        client = self._client()
        changed = removed = added = 0
        if qresync and known.highestmodseq:
            removed += await self.db(self.store.remove_uids, self.name, folder, selected.vanished)
            changed += await self._apply_flags(folder, [(u, f) for u, f, _ in selected.changed])
        elif selected.highestmodseq and known.highestmodseq:
            async for batch in client.fetch_flags(changedsince=known.highestmodseq):
                changed += await self._apply_flags(folder, [(u, f) for u, f, _ in batch])
            removed += await self._remove_missing(folder, await client.all_uids())
        else:
            present: list[int] = []
            async for batch in client.fetch_flags():
                present.extend(u for u, _, _ in batch)
                changed += await self._apply_flags(folder, [(u, f) for u, f, _ in batch])
            removed += await self._remove_missing(folder, present)
        fresh: list[MessageSummary] = []
        if selected.uidnext > known.uidnext:
            start = max(known.uidnext, 1)
            added = await self._fetch_into_cache(folder, FromUid(start), min_uid=start, collect=fresh)
        if added or changed or removed:
            self.emit(MessagesChanged(self.name, folder, added, changed, removed))
        await self.announce_new_mail(folder, fresh)

    async def _fetch_into_cache(
        self,
        folder: str,
        uids: Sequence[int] | FromUid,
        *,
        min_uid: int = 0,
        collect: list[MessageSummary] | None = None,
    ) -> int:
        """Stream summaries into the cache (parsing and writing overlap, see CacheWriter)."""

        async def write(batch: Sequence[MessageSummary]) -> int:
            if collect is not None:  # new to the cache (not put there by our own move)
                collect.extend(await self.db(self.not_cached, folder, batch))
            return await self.db(self.store.upsert_summaries, self.name, folder, batch)

        writer = CacheWriter(write)
        try:
            async for batch in self._client().fetch_summaries(uids, batch_size=WRITE_BATCH):
                fresh = [s for s in batch if s.uid >= min_uid]
                if fresh:
                    await writer.put(fresh)
            return await writer.close()
        finally:
            await writer.abort()

    async def _apply_flags(self, folder: str, changes: list[tuple[int, frozenset[str]]]) -> int:
        if not changes:
            return 0
        return await self.db(self.store.update_server_flags, self.name, folder, changes)

    async def _remove_missing(self, folder: str, present: Sequence[int]) -> int:
        cached = await self.db(self.store.uids, self.name, folder)
        gone = set(cached).difference(present)
        if not gone:
            return 0
        return await self.db(self.store.remove_uids, self.name, folder, sorted(gone))

    # --- requests -------------------------------------------------------------------------

    async def load_body(self, folder: str, uid: int) -> None:
        await self._ensure_selected(folder)
        await self.check_cached_validity(folder, self._selected_validity)
        raw = await self._client().fetch_body(uid)
        self._note_pushes()
        await self.db(self.store.put_body, self.name, folder, uid, raw)
        self.emit(BodyLoaded(self.name, folder, uid))

    async def _select_for_action(self, folder: str, uidvalidity: int) -> None:
        """SELECT ``folder`` for an action, even when it is selected already (it may have been
        deleted or recreated since), and make sure its UIDVALIDITY is the one the action's uids
        belong to."""
        with refusal_rolls_back():
            await self._select(folder)
        if not uidvalidity or self._selected_validity != uidvalidity:
            raise UidValidityChanged(folder)

    def _note_pushes(self) -> None:
        """What the server reported on the command link along with its answers (an EXPUNGE
        in a UID FETCH answer, new mail after a NOOP): those folders are synced again soon.
        Without IDLE and NOTIFY this is often the first word of a change."""
        client = self.client
        if client is None:
            return
        try:
            pushes = client.pushes
        except ImapConnectionError:
            return
        while not pushes.empty():
            push = pushes.get_nowait()
            if push.folder and push.kind not in ("RECENT", "LIST"):
                self.mark_dirty(push.folder)

    async def server_set_flags(
        self, folder: str, uidvalidity: int, uids: list[int], add: set[str], remove: set[str]
    ) -> None:
        await self._select_for_action(folder, uidvalidity)
        unkept = unkept_keywords(add | remove, self._permanent.get(folder))
        if unkept:  # recorded before the folder said so: the next sync shows them gone
            log.info("%s/%s keeps no %s; not stored", self.name, folder, ", ".join(sorted(unkept)))
            add, remove = add - unkept, remove - unkept
            self.mark_dirty(folder)
        if not add and not remove:
            return
        with refusal_rolls_back():
            await self._client().store_flags(uids, add=add, remove=remove)

    async def server_move(
        self, folder: str, uidvalidity: int, uids: list[int], target: str, *, copy: bool = False
    ) -> MoveOutcome:
        await self._select_for_action(folder, uidvalidity)
        client = self._client()
        with refusal_rolls_back():
            result = await (client.copy(uids, target) if copy else client.move(uids, target))
        return MoveOutcome(result.uidvalidity, dict(zip(result.source, result.target)))

    async def server_expunge(self, folder: str, uidvalidity: int, uids: list[int]) -> None:
        await self._select_for_action(folder, uidvalidity)
        with refusal_rolls_back():
            await self._client().expunge_uids(uids)

    async def server_position(self, folder: str) -> tuple[int, int]:
        with refusal_rolls_back():
            status = await self._client().status(folder)
        return status.get("UIDVALIDITY", 0), status.get("UIDNEXT", 0)

    async def server_present(self, folder: str, uidvalidity: int, uids: list[int]) -> set[int]:
        await self._select_for_action(folder, uidvalidity)
        present: set[int] = set()
        with refusal_rolls_back():
            async for batch in self._client().fetch_flags(uids):
                present.update(uid for uid, _flags, _modseq in batch)
        return present & set(uids)

    async def server_find(
        self, folder: str, uidvalidity: int, since_uid: int, message_ids: set[str]
    ) -> dict[str, list[int]]:
        with refusal_rolls_back():
            await self._select(folder)
        found: dict[str, list[int]] = {}
        if not message_ids or not uidvalidity or self._validity.get(folder) != uidvalidity:
            return found
        since_uid = max(1, since_uid)
        async for batch in self._client().fetch_summaries(FromUid(since_uid)):
            for summary in batch:
                if summary.uid >= since_uid and summary.message_id in message_ids:
                    found.setdefault(summary.message_id, []).append(summary.uid)
        return {mid: sorted(uids) for mid, uids in found.items()}

    async def server_fingerprints(self, folder: str, uidvalidity: int, uids: list[int]) -> dict[int, str]:
        await self._select_for_action(folder, uidvalidity)
        result: dict[int, str] = {}
        with refusal_rolls_back():
            async for batch in self._client().fetch_fingerprints(uids):
                result.update(batch)
        return result

    async def server_find_fingerprints(
        self, folder: str, uidvalidity: int, since_uid: int, fingerprints: set[str]
    ) -> dict[str, list[int]]:
        with refusal_rolls_back():
            await self._select(folder)
        if not fingerprints or not uidvalidity or self._validity.get(folder) != uidvalidity:
            return {}
        since_uid = max(1, since_uid)
        found: dict[str, list[int]] = {}
        async for batch in self._client().fetch_fingerprints(FromUid(since_uid)):
            for uid, fingerprint in batch:
                if uid >= since_uid and fingerprint in fingerprints:
                    found.setdefault(fingerprint, []).append(uid)
        return {fingerprint: sorted(uids) for fingerprint, uids in found.items()}

    async def keepalive(self) -> None:
        """NOOP on the command link (what it reports is synced)."""
        await self._client().noop()
        self._note_pushes()

    async def on_quiet(self) -> None:
        """Without NOTIFY, look at every folder's STATUS (at most every ``poll_seconds``)."""
        assert self.config.imap is not None
        if asyncio.get_running_loop().time() - self._statuses_seen >= self.config.imap.poll_seconds:
            await self.check_folders()

    async def check_folders(self) -> None:
        """Without NOTIFY, look at every folder's STATUS now (with it, the server tells). With
        NOTIFY, list the folders again all the same: a server may hold back its word of a folder
        changed elsewhere (Dovecot tells of a rename only after the watching connection's next
        command), and one LIST is cheap."""
        watcher = self.watcher
        if watcher is not None and watcher.notify_active:
            await self._relist()
            return
        self._statuses_seen = asyncio.get_running_loop().time()
        await self.refresh_statuses()

    def folders_pushed(self) -> None:
        """NOTIFY told of a folder made, deleted, renamed or (un)subscribed elsewhere: list the
        folders again on the command connection, once for a burst of such pushes."""
        if not self._relist_asked:
            self._relist_asked = True
            self.submit(CheckFolders(account=self.name))

    async def _gone(self, folder: str) -> bool:
        """Whether ``folder`` has left the server (another program deleted or renamed it; its
        change reported before the folders were listed again): list them, which tells the user."""
        await self._relist()
        return folder not in {f.name for f in await self.db(self.store.folders, self.name)}

    async def _relist(self) -> None:
        """List the folders again; store and show the list when its shape differs from the
        cache's (a folder gone is told as deleted or renamed by another program)."""
        self._relist_asked = False
        listed = await self._client().list_folders()
        if _shape(listed) != _shape(await self.db(self.store.folders, self.name)):
            await self.publish_folders(listed)

    async def _check_on_schedule(self, interval: float) -> None:
        """Without NOTIFY nothing tells of changes in the folders IDLE does not watch: ask for
        every folder's STATUS every ``interval`` seconds, whatever else the account is doing.
        With NOTIFY, list the folders that often (see :meth:`check_folders`)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(max(0.0, self._statuses_seen + interval - loop.time()))
            if loop.time() - self._statuses_seen < interval:
                continue  # looked at meanwhile (the app regained focus, a quiet spell)
            self.submit(CheckFolders(account=self.name))  # with NOTIFY: only the folder list
            self._statuses_seen = loop.time()

    async def server_append(self, folder: str, raw: bytes, flags: frozenset[str]) -> int | None:
        with refusal_rolls_back():
            return await self._client().append(folder, raw, flags)

    # --- folders themselves ----------------------------------------------------------------

    async def refresh_folders(self) -> list[Folder]:
        return await self._refresh_folders()

    async def server_name(self, name: str) -> str:
        """A name the user typed as the server needs it: under the personal namespace's prefix
        (``INBOX.`` on Courier and Cyrus) unless it is there already or is INBOX."""
        prefix = self.folder_prefix
        if prefix is None:
            prefix = inbox_prefix(await self.db(self.store.folders, self.name))
        return server_name(name, prefix)

    async def _leave(self, folder: str, delimiter: str | None) -> None:
        """Stop having ``folder`` (or a folder below it) selected, before it goes or moves."""
        selected = self._selected
        if selected is not None and (
            selected == folder or (delimiter and selected.startswith(folder + delimiter))
        ):
            if folder.upper() != "INBOX":
                await self._select("INBOX")

    async def server_create_folder(self, name: str) -> str:
        with refusal_rolls_back():
            full = await self.server_name(name)
            await self._client().create(full)
        return full

    async def server_rename_folder(self, folder: str, new_name: str) -> str:
        folders = await self.db(self.store.folders, self.name)
        delimiter = next((f.delimiter for f in folders if f.name == folder), None)
        with refusal_rolls_back():
            full = await self.server_name(new_name)
            await self._leave(folder, delimiter)
            await self._client().rename(folder, full)
        return full

    async def server_delete_folder(self, folder: str) -> None:
        with refusal_rolls_back():
            await self._leave(folder, None)
            await self._client().delete(folder)
        self._validity.pop(folder, None)

    async def server_subscribe(self, folder: str, subscribe: bool) -> None:
        with refusal_rolls_back():
            await self._client().subscribe(folder, subscribe)

    async def server_holds(self, folder: str, message_id: str) -> bool:
        with refusal_rolls_back():
            await self._ensure_selected(folder)
            return bool(await self._client().uids_with_message_id(message_id))

    async def refresh_statuses(self) -> None:
        """List the folders again (another client may have made, renamed or deleted some), then
        mark dirty every folder whose STATUS differs from the cache (new mail, flags, expunges)."""
        await self._relist()
        folders = await self.selectable_folders()
        if self._selected is not None:
            # A server may answer STATUS of the selected folder from its view of it, which
            # takes in new mail only when a command lets it: NOOP first.
            await self._client().noop()
            self._note_pushes()
        statuses = await self._client().status_many(folders)
        for name in statuses:
            if await self._changed(name, statuses):
                self.mark_dirty(name)

    async def search(self, request: Search) -> None:
        """IMAP SEARCH in the asked folder(s); matches go out as SearchResults, one event per
        folder, the last one complete. Matches the cache lacks (new since the last sync, or a
        folder not synced yet) are fetched into it first."""
        query = parse_query(request.query)
        if query.error:
            raise Refused(query.error)
        if query.folders():
            folders = list(query.folders())
        elif request.folder is not None:
            folders = [request.folder]
        else:
            folders = await self.selectable_folders()
        budget = SEARCH_FETCH_LIMIT
        for index, folder in enumerate(folders):
            await self._ensure_selected(folder)
            uids = await self._client().search_query(query)
            cached = set(await self.db(self.store.uids, self.name, folder))
            missing = sorted(set(uids).difference(cached), reverse=True)  # newest first
            fetch, left = missing[:budget], missing[budget:]
            budget -= len(fetch)
            if fetch:
                added = await self._fetch_into_cache(folder, sorted(fetch))
                self.emit(MessagesChanged(self.name, folder, added=added))
                await self.publish_counts(folder)
            shown = [uid for uid in uids if uid in cached] + fetch
            row_ids = await self.db(self.store.row_ids_for, self.name, folder, shown) if shown else []
            last = index == len(folders) - 1
            self.emit(SearchResults(request.request_id, tuple(row_ids), complete=last, more=len(left)))
            if not last:
                await self.serve_urgent()
        if not folders:
            self.emit(SearchResults(request.request_id, (), complete=True))

    def on_open_folder(self, folder: str) -> None:
        if self.watcher is not None:
            self.watcher.watch(folder)

    async def on_online(self) -> None:
        assert self.config.imap is not None
        interval = self.config.imap.poll_seconds
        if self.watcher is None:
            self.watcher = IdleWatcher(self, poll_seconds=interval)
            self._watch_task = asyncio.create_task(self.watcher.run(), name=f"idle:{self.name}")
        if self._check_task is None:
            self._statuses_seen = asyncio.get_running_loop().time()  # the sync looks at them now
            self._check_task = asyncio.create_task(
                self._check_on_schedule(interval), name=f"check:{self.name}"
            )

    async def on_offline(self) -> None:
        task, self._watch_task = self._watch_task, None
        check, self._check_task = self._check_task, None
        self.watcher = None
        if check is not None:
            check.cancel()
            await asyncio.gather(check, return_exceptions=True)
        if task is not None:
            task.cancel()
            # Never hold up the reconnect on a watcher still saying goodbye to a dead link.
            await asyncio.wait({task}, timeout=2)

    async def current_settings(self) -> ImapSettings | None:
        """The login of the last connection, for another link (the watcher's, a sync child's);
        with OAuth2, with a token that is still good (the last one may have expired since)."""
        settings, server = self._settings, self.config.imap
        if settings is None or server is None or not server.uses_oauth2:
            return settings
        try:
            return replace(settings, password=await resolve_password(server))
        except SecretError as exc:
            log.info("account %s: no fresh OAuth2 token: %s", self.name, exc)
            return settings


def imap_timings(server: ServerConfig) -> Timings:
    """The scheduler's intervals, with those the account's ``[imap]`` table may set."""
    return Timings(
        quiet_seconds=server.keepalive_seconds,
        keepalive_timeout=server.keepalive_timeout,
        idle_liveness_seconds=server.idle_check_seconds,
        backoff_cap=server.reconnect_max_seconds,
    )


def _shape(folders: list[Folder]) -> set[tuple[str, str | None, FolderRole, frozenset[str]]]:
    """What the tree shows of a folder list (its counts aside)."""
    return {(f.name, f.delimiter, f.role, frozenset(a.lower() for a in f.attributes)) for f in folders}


@contextlib.contextmanager
def refusal_rolls_back() -> Iterator[None]:
    """A NO/BAD from the server becomes ServerRefused (the journal rolls the action back);
    a broken link stays an ImapConnectionError (the action is replayed after the reconnect)."""
    try:
        yield
    except ImapConnectionError:
        raise
    except ImapError as exc:
        raise ServerRefused(str(exc)) from None


def status_differs(status: dict[str, int], state: FolderState, total: int, unread: int) -> bool:
    """True when a STATUS answer shows changes the cache has not seen."""
    if status.get("UIDVALIDITY", state.uidvalidity) != state.uidvalidity:
        return True
    if status.get("UIDNEXT", state.uidnext) != state.uidnext:
        return True
    if "HIGHESTMODSEQ" in status and state.highestmodseq:
        return status["HIGHESTMODSEQ"] != state.highestmodseq
    return status.get("MESSAGES", total) != total or status.get("UNSEEN", unread) != unread


def _sync_order(folders: Sequence[Folder], first: str | None) -> list[Folder]:
    """Selectable folders, ``first`` (else the Inbox) ahead, then in display order."""
    selectable = [f for f in folders if f.selectable]
    selectable.sort(key=lambda f: (f.name != first, f.role != "inbox"))
    return selectable
