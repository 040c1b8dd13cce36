"""A local Maildir account (the demo mailbox, a tree mbsync or offlineimap fills, the local store
of a POP3 account). While it runs, what other programs change in the tree (a file delivered,
moved with ``mv``, renamed for its flags, a folder made) is noticed within ``WATCH_SECONDS``."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from mailbag.domain.config import MaildirLayout
from mailbag.domain.events import BodyLoaded, ErrorReported, EventSink, MessagesChanged, SyncProgress
from mailbag.domain.models import Folder, FolderRole, FolderState, MessageSummary
from mailbag.domain.sanitize import clean_line
from mailbag.domain.wording import plural
from mailbag.protocols.maildir import MaildirStore, fingerprint
from mailbag.protocols.maildir_folders import delete_folder, finish_killed_changes, rename_folder
from mailbag.protocols.maildir_marks import Marks, change_marks
from mailbag.services.backend import ROLE_FOLDERS, Backend, Capability, Failure, Offline
from mailbag.services.journal import MoveOutcome, ServerRefused, UidValidityChanged
from mailbag.services.scheduler import Timings
from mailbag.store.store import Store


log = logging.getLogger(__name__)

#: How often the tree is looked at for changes made by other programs (seconds).
WATCH_SECONDS = 2.0
#: A directory changed less than this long before it was looked at may change again with the
#: same time: a file system keeps directory times to its clock's tick (1 s on HFS+ and ext3,
#: a few ms on ext4), so that time tells nothing yet (Dovecot's maildir sync waits as long).
UNSETTLED_SECONDS = 1.0
#: The marks of a folder whose time is not settled: never those of a later look.
_UNSETTLED = (-1, -1)
#: A folder's new messages are read and cached this many at first (the newest), then ...
FIRST_CHUNK = 500
#: ... this many at a time, the list re-read after each part.
CHUNK = 5000

class MaildirAccount(Backend):
    """Mirrors a Maildir++ tree into the cache; flags are written back to the file names."""

    capabilities = frozenset(Capability) - {Capability.SERVER_SEARCH, Capability.LIVE}

    def __init__(
        self, name: str, root: Path, store: Store, sink: EventSink, timings: Timings | None = None,
        *, layout: MaildirLayout | None = None,
    ) -> None:
        super().__init__(name, store, sink, timings)
        self.root = root
        self.layout = layout  # None: found from the tree
        self.maildir: MaildirStore | None = None
        self._validity: dict[str, int] = {}  # folder -> UIDVALIDITY last seen
        self._watcher: asyncio.Task[None] | None = None
        self._folders_changed = False  # a folder appeared or went: list them again
        self._told_unreadable: dict[str, set[int]] = {}  # folder -> UIDs whose file was told unreadable

    async def connect(self) -> None:
        if not self.root.is_dir():
            raise Offline(f"maildir {self.root} does not exist")
        self.maildir = await self.db(lambda: MaildirStore(self.root, self.name, layout=self.layout))
        await self.db(finish_killed_changes, self.maildir.layout)
        await self._refresh_folders()

    async def _refresh_folders(self) -> list[Folder]:
        """Put the folder list into the cache first, so the tree has names, roles and counts."""
        folders = await self.db(self._md().list_folders)
        await self.publish_folders(folders)
        return folders

    async def disconnect(self) -> None:
        self.maildir = None

    async def on_online(self) -> None:
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.create_task(self._watch(), name=f"maildir-watch:{self.name}")

    async def on_offline(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)

    async def _watch(self) -> None:
        """Mark the folders whose marks changed for a sync (the scheduler runs it in turn with
        everything else); a folder that appeared or went has the folder list looked at again."""
        layout = self._md().layout
        taken = time.time_ns()  # before the directories are looked at
        marks = _settled(await asyncio.to_thread(change_marks, layout), taken)
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            try:
                taken = time.time_ns()
                now = await asyncio.to_thread(change_marks, layout)
            except OSError as exc:
                log.info("maildir %s: cannot look at %s: %s", self.name, self.root, exc)
                continue
            if now.keys() != marks.keys():
                self._folders_changed = True
            for folder, mark in now.items():
                if marks.get(folder) != mark and folder in marks and not self.writing(folder):
                    self.mark_dirty(folder)
            if self._folders_changed:
                self.mark_dirty("INBOX")
            marks = _settled(now, taken)

    def writing(self, folder: str) -> bool:
        """Whether this account is filling ``folder`` itself now (the watcher leaves it alone: the
        writer brings the cache up to date, and looks at the folder once it is done)."""
        return False

    def classify(self, exc: BaseException) -> Failure:
        """A maildir that is gone (an unmounted disk) is offline; a message or folder that is
        gone is a refusal; the rest as for every backend."""
        if isinstance(exc, OSError) and not self.root.is_dir():
            return Failure.LINK
        if isinstance(exc, (KeyError, ValueError, FileNotFoundError)):
            return Failure.REFUSED
        return super().classify(exc)

    async def probe(self) -> bool:
        return self.root.is_dir()

    def _md(self) -> MaildirStore:
        if self.maildir is None:
            raise Offline(f"{self.name} is not open")
        return self.maildir

    async def sync_all(self, first: str | None = None) -> None:
        folders = await self._refresh_folders()
        order = sorted((f for f in folders if f.selectable), key=lambda f: (f.name != first, f.role != "inbox"))
        for folder in order:
            await self.sync_folder(folder.name)
            await self.serve_urgent()

    async def sync_folder(self, folder: str) -> None:
        if self._folders_changed:
            self._folders_changed = False
            for new in set(f.name for f in await self._refresh_folders() if f.selectable) - {folder}:
                if await self.db(self.store.folder_state, self.name, new) is None:
                    self.mark_dirty(new)
        md = self._md()
        server_state: FolderState = await self.db(md.folder_state, folder)
        self._validity[folder] = server_state.uidvalidity
        known = await self.db(self.store.folder_state, self.name, folder)
        if known is not None and known.uidvalidity != server_state.uidvalidity:
            await self.db(self.store.reset_folder, self.name, folder)
            known = None
        since = known.uidnext - 1 if known is not None else 0
        # The folder as folder_state() just scanned it: one look at its files per sync.
        flags = await self.db(lambda: md.flags(folder, rescan=False))
        cached = set(await self.db(self.store.uids, self.name, folder))
        # What came since the last sync, and any message whose file could not be read at an
        # earlier one (renamed by another program meanwhile, a link to a disk not mounted yet),
        # until it can be; newest first, so that a big folder's list fills from the top.
        wanted = sorted((uid for uid in flags if uid > since or uid not in cached), reverse=True)
        new_mail: list[MessageSummary] = []
        unreadable: dict[int, str] = {}  # left out of the list (and so of the count) until they can be read
        added = told = 0
        for done, chunk in _chunks(wanted):
            fresh = await self.db(partial(_summaries, md, folder, chunk, unreadable))
            if known is not None:
                new_mail += await self.db(self.not_cached, folder, fresh)
            added += await self.db(self.store.upsert_summaries, self.name, folder, fresh) if fresh else 0
            if done < len(wanted):  # a big first look: the list shows each part as it comes
                self.emit(SyncProgress(self.name, folder, done, len(wanted)))
                self.emit(MessagesChanged(self.name, folder, added - told))
                told = added
                await self.serve_urgent()
        gone = sorted(cached.difference(flags))
        removed = await self.db(self.store.remove_uids, self.name, folder, gone) if gone else 0
        changed = await self.db(self.store.update_server_flags, self.name, folder, sorted(flags.items()))
        await self.db(self.store.set_folder_state, self.name, folder, server_state)
        if wanted:  # the folder's count, as its list has it; a look that read nothing says nothing
            listed = len(flags) - len(unreadable)
            self.emit(SyncProgress(self.name, folder, listed, listed))
        if added > told or removed or changed:
            self.emit(MessagesChanged(self.name, folder, added - told, changed, removed))
        await self.publish_counts(folder)
        self._tell_unreadable(folder, unreadable)
        if known is not None:
            await self.announce_new_mail(folder, new_mail)

    def _tell_unreadable(self, folder: str, unreadable: dict[int, str]) -> None:
        """Say once per message that files of ``folder`` cannot be read (``unreadable``: UID ->
        why): they are left out of its list and count until they can be; the log names them."""
        told = self._told_unreadable.setdefault(folder, set())
        new = sorted(set(unreadable) - told)
        if not new:
            return
        told.update(new)
        what = plural(len(new))
        verb, pronoun, files = ("is", "it", "its file") if len(new) == 1 else ("are", "they", "their files")
        self.emit(ErrorReported(
            self.name, f"{what} in {clean_line(folder)} cannot be read ({clean_line(unreadable[new[0]])}) and"
            f" {verb} left out until {pronoun} can be; the log names {files}",
        ))

    async def add_delivered(self, folder: str, delivered: Sequence[tuple[str, MessageSummary | None]]) -> None:
        """Bring messages just delivered into ``folder``'s ``new/`` into the cache, without
        reading the folder again: ``(key, summary)`` in delivery order, each summary made from
        the bytes in memory (its UID is given here; None for one whose headers were not read:
        the next look at the folder reads them). A folder the cache does not know yet is synced
        whole."""
        md = self._md()
        known = await self.db(self.store.folder_state, self.name, folder)
        state: FolderState = await self.db(lambda: md.folder_state(folder, rescan=False))
        if known is None or known.uidvalidity != state.uidvalidity:
            await self.sync_folder(folder)
            return
        uids = await self.db(md.adopt, folder, [key for key, _summary in delivered])
        fresh = [s._replace(uid=uid) for uid, (_key, s) in zip(uids, delivered) if s is not None]
        added = await self.db(self.store.upsert_summaries, self.name, folder, fresh) if fresh else 0
        state = await self.db(lambda: md.folder_state(folder, rescan=False))
        await self.db(self.store.set_folder_state, self.name, folder, state)
        if added:
            self.emit(MessagesChanged(self.name, folder, added, 0, 0))
        await self.publish_counts(folder)
        await self.announce_new_mail(folder, fresh)

    async def load_body(self, folder: str, uid: int) -> None:
        await self.check_cached_validity(folder, await self.db(self._md().uidvalidity, folder))
        raw = await self.db(self._md().read, folder, uid)
        await self.db(self.store.put_body, self.name, folder, uid, raw)
        self.emit(BodyLoaded(self.name, folder, uid))

    async def _check_validity(self, folder: str, uidvalidity: int) -> None:
        """Raise UidValidityChanged unless ``folder`` still has the UIDVALIDITY of the action."""
        current: int = await self.db(self._md().uidvalidity, folder)
        self._validity[folder] = current
        if not uidvalidity or current != uidvalidity:
            raise UidValidityChanged(folder)

    @contextmanager
    def _refusals(self) -> Iterator[None]:
        """A folder or message that is gone, or a name Maildir++ cannot hold, refuses the action
        (the journal rolls it back and says why) as an IMAP server's NO does; a maildir that is
        gone altogether is offline."""
        try:
            yield
        except (KeyError, ValueError) as exc:
            if not self.root.is_dir():
                raise Offline(f"maildir {self.root} does not exist") from exc
            raise ServerRefused(str(exc.args[0]) if exc.args else repr(exc)) from exc

    def last_uidvalidity(self, folder: str) -> int:
        return self._validity.get(folder, 0)

    async def server_set_flags(
        self, folder: str, uidvalidity: int, uids: list[int], add: set[str], remove: set[str]
    ) -> None:
        with self._refusals():
            await self._check_validity(folder, uidvalidity)
            await self.db(self._md().set_flags, folder, uids, add, remove)

    async def server_move(
        self, folder: str, uidvalidity: int, uids: list[int], target: str, *, copy: bool = False
    ) -> MoveOutcome:
        md = self._md()
        with self._refusals():
            await self._check_validity(folder, uidvalidity)
            mapping = await self.db(lambda: md.move(folder, uids, target, copy=copy))
            state: FolderState = await self.db(md.folder_state, target)
        return MoveOutcome(state.uidvalidity, mapping)

    async def server_expunge(self, folder: str, uidvalidity: int, uids: list[int]) -> None:
        with self._refusals():
            await self._check_validity(folder, uidvalidity)
            await self.db(self._md().remove, folder, uids)

    async def make_folder(self, name: str) -> None:
        with self._refusals():
            await self.db(self._md().create_folder, name)
        await self._refresh_folders()

    async def refresh_folders(self) -> list[Folder]:
        return await self._refresh_folders()

    async def server_create_folder(self, name: str) -> str:
        md = self._md()
        with self._refusals():
            if name.upper() == "INBOX" or name in {f.name for f in await self.db(md.list_folders)}:
                raise ValueError(f"a folder {name} exists already")
            await self.db(md.create_folder, name)
        return name

    async def server_rename_folder(self, folder: str, new_name: str) -> str:
        md = self._md()
        with self._refusals():
            await self.db(rename_folder, md.layout, folder, new_name)
        md.forget_folders()
        self._forget_validity(folder)
        return new_name

    async def server_delete_folder(self, folder: str) -> None:
        md = self._md()
        with self._refusals():
            await self.db(delete_folder, md.layout, folder)
        md.forget_folders()
        self._forget_validity(folder)

    def _forget_validity(self, folder: str) -> None:
        for name in [n for n in self._validity if n == folder or n.startswith(folder + "/")]:
            del self._validity[name]

    async def folder_for_role(self, role: FolderRole) -> str:
        """The folder with ``role``; a tree without one (a POP3 account's, most Maildirs) has
        the standard folder made (``.Sent`` in Maildir++, ``Sent/`` nested), so a copy has a place."""
        folder = await super().folder_for_role(role)
        if folder or role not in ROLE_FOLDERS:
            return folder
        name = ROLE_FOLDERS[role]
        await self.db(self._md().create_folder, name)
        await self._refresh_folders()
        return name

    async def server_append(self, folder: str, raw: bytes, flags: frozenset[str]) -> int | None:
        return await self.db(self._md().add, folder, raw, flags)
    async def server_position(self, folder: str) -> tuple[int, int]:
        with self._refusals():
            state: FolderState = await self.db(self._md().folder_state, folder)
        return state.uidvalidity, state.uidnext

    async def server_present(self, folder: str, uidvalidity: int, uids: list[int]) -> set[int]:
        with self._refusals():
            await self._check_validity(folder, uidvalidity)
            flags = await self.db(self._md().flags, folder)
        return set(uids) & set(flags)

    async def server_fingerprints(self, folder: str, uidvalidity: int, uids: list[int]) -> dict[int, str]:
        md = self._md()
        with self._refusals():
            await self._check_validity(folder, uidvalidity)
            present = await self.db(md.flags, folder)
            return await self.db(lambda: {u: fingerprint(md.read(folder, u)) for u in uids if u in present})

    async def server_find_fingerprints(
        self, folder: str, uidvalidity: int, since_uid: int, fingerprints: set[str]
    ) -> dict[str, list[int]]:
        md = self._md()

        def marks() -> Iterator[tuple[int, str]]:
            for uid in sorted(u for u in md.flags(folder) if u >= since_uid):
                yield uid, fingerprint(md.read(folder, uid))

        return await self._find(folder, uidvalidity, fingerprints, marks)

    async def server_find(
        self, folder: str, uidvalidity: int, since_uid: int, message_ids: set[str]
    ) -> dict[str, list[int]]:
        md = self._md()

        def ids() -> Iterator[tuple[int, str]]:
            for summary in md.summaries(folder, since_uid=since_uid - 1):
                yield summary.uid, summary.message_id

        return await self._find(folder, uidvalidity, message_ids, ids)

    async def _find(
        self, folder: str, uidvalidity: int, wanted: set[str], keys: Callable[[], Iterator[tuple[int, str]]]
    ) -> dict[str, list[int]]:
        """key -> uids (ascending) of the (uid, key) pairs ``keys`` yields whose key is
        ``wanted``; nothing when ``folder``'s UIDVALIDITY is not ``uidvalidity``."""
        state: FolderState = await self.db(self._md().folder_state, folder)
        if not wanted or not uidvalidity or state.uidvalidity != uidvalidity:
            return {}

        def scan() -> dict[str, list[int]]:
            found: dict[str, list[int]] = {}
            for uid, key in keys():
                if key in wanted:
                    found.setdefault(key, []).append(uid)
            return {key: sorted(uids) for key, uids in found.items()}

        return await self.db(scan)


def _chunks(uids: Sequence[int]) -> Iterator[tuple[int, Sequence[int]]]:
    """``uids`` in parts of :data:`FIRST_CHUNK`, then :data:`CHUNK`, each with how many are done
    once it is."""
    start = 0
    while start < len(uids):
        end = start + (FIRST_CHUNK if start == 0 else CHUNK)
        yield min(end, len(uids)), uids[start:end]
        start = end


def _summaries(
    md: MaildirStore, folder: str, uids: Sequence[int], unreadable: dict[int, str]
) -> list[MessageSummary]:
    """The summaries of ``uids`` in ``folder`` as last looked at (see ``MaildirStore.summaries``);
    the UIDs of files that cannot be read go into ``unreadable`` with why."""
    return list(md.summaries(folder, uids=uids, rescan=False, unreadable=unreadable))


def _settled(marks: Marks, taken_ns: int) -> Marks:
    """``marks`` taken from ``taken_ns`` on, each folder changed too recently for its time to tell
    anything (see :data:`UNSETTLED_SECONDS`) made :data:`_UNSETTLED`: the next look finds it
    changed, and the folder is read again once more. A time further ahead than that is a clock
    out of step (a file server's), which this cannot help with: taken as it is, or every look
    would read the folder again."""
    window = int(UNSETTLED_SECONDS * 1e9)
    return {
        folder: _UNSETTLED if taken_ns - window <= max(mark) <= taken_ns + window else mark
        for folder, mark in marks.items()
    }
