"""A local Maildir mail store: the demo account's backend, a Maildir account's (mbsync,
offlineimap) and the local store of POP3 accounts.

Where the folders are (Maildir++ or nested directories) is :mod:`mailbag.protocols.maildir_layout`'s
business. Delivery uses the stdlib :mod:`mailbox` module; listing, flag changes and UIDs are done
here, because the stdlib has no UIDs and (before Python 3.13) no way to change flags without
rewriting the message.

UIDs are kept stable across runs in a small per-folder file, ``mailbag-uidlist`` (the idea of
Dovecot's ``dovecot-uidlist``): it maps each message's Maildir key (the file name without the
``:2,FLAGS`` info) to a UID, with the folder's UIDVALIDITY and next UID. It is replaced
atomically or appended to. Two mailbags may serve one tree at once (a ``mailbag sync`` from cron
beside the full-screen client): each reads the file and gives UIDs only while it holds the folder's
``mailbag-uidlist.lock`` (``flock``, as Dovecot's ``dovecot-uidlist.lock``), and reads the file again
first when another changed it, so no UID is ever given to two messages. The last UIDVALIDITY given
is kept in the root, ``mailbag-uidvalidity`` (Dovecot's ``dovecot-uidvalidity``), so a folder made
again never gets the one of its predecessor.
"""

from __future__ import annotations

import contextlib
import email.message
import email.parser
import email.policy
import errno
import fcntl
import hashlib
import io
import logging
import mailbox
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

from mailbag.domain.folder_roles import role_by_name
from mailbag.domain.header_fields import block_fields, content_type
from mailbag.domain.headers import decode_words, parse_address_list, parse_date, too_far_ahead
from mailbag.domain.models import (
    ANSWERED,
    DELETED,
    DRAFT,
    FLAGGED,
    ROLE_ORDER,
    SEEN,
    Folder,
    FolderRole,
    FolderState,
    MessageSummary,
)
from mailbag.domain.sanitize import clean_line
from mailbag.paths import sync_dir
from mailbag.protocols.maildir_layout import DELIMITER as DELIMITER
from mailbag.protocols.maildir_layout import INBOX as INBOX
from mailbag.domain.config import MaildirLayout
from mailbag.protocols.maildir_layout import detect

logger = logging.getLogger(__name__)

UIDLIST_NAME = "mailbag-uidlist"
#: Held (``flock``) while a folder's UID file is read and UIDs are given (see the module's text).
UIDLIST_LOCK = "mailbag-uidlist.lock"
#: How long a mailbag waits for another to let go of that lock (held for milliseconds).
LOCK_WAIT = 30.0
#: The last UIDVALIDITY given in the tree, in its root.
UIDVALIDITY_NAME = "mailbag-uidvalidity"
_UIDLIST_MAGIC = "mailbag-uidlist 1"
_INFO = ":2,"
#: Of a header field (a subject, say) this much is kept; the list shows far less.
_MAX_FIELD_BYTES = 64 * 1024
#: A header with no blank line after it this far into the file is read no further.
_MAX_HEADER_SCAN = 16 * 1024 * 1024
_READ_BYTES = 16384
#: A message just delivered and at most this big is read whole for its summary (one read).
_READ_WHOLE = 1024 * 1024
#: MIME parts nested deeper than this are not looked into (for attachments).
_MAX_PART_DEPTH = 20

#: Maildir info letters and the IMAP system flags they stand for.
LETTER_TO_FLAG: dict[str, str] = {"S": SEEN, "R": ANSWERED, "F": FLAGGED, "T": DELETED, "D": DRAFT}
FLAG_TO_LETTER: dict[str, str] = {flag: letter for letter, flag in LETTER_TO_FLAG.items()}

def _role(name: str) -> FolderRole:
    """The role of a folder by its name: a well-known name at the top, or just below the Inbox
    (``INBOX.Sent`` as offlineimap names Courier's folders, mbsync's ``INBOX/Sent``)."""
    parts = name.split(DELIMITER)
    if len(parts) == 2 and parts[0].upper() == INBOX:
        parts = parts[1:]
    elif len(parts) == 1 and name[:6].upper() == "INBOX.":
        parts = [name[6:]]
    return role_by_name(parts[0]) if len(parts) == 1 else FolderRole.NONE


_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
#: The end of a header block: the line break of its last line and the blank line after it.
_HEADER_END = re.compile(rb"\n\r?\n")
_MSG_ID = re.compile(r"<[^<>\s]+>")


def fingerprint(raw: bytes) -> str:
    """What a copy of a message keeps: its size and a hash of its header (how a copy is known
    without a Message-ID)."""
    header = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    return f"{len(raw)}|{hashlib.sha256(header).hexdigest()[:32]}"


def flags_from_info(letters: str) -> frozenset[str]:
    """IMAP flags for the letters after ``:2,`` (unknown letters are ignored)."""
    return frozenset(LETTER_TO_FLAG[c] for c in letters if c in LETTER_TO_FLAG)


@dataclass(frozen=True, slots=True)
class _Entry:
    """One message file as found on disk."""

    subdir: str  # "new" or "cur"
    filename: str
    letters: str  # the info letters ("" without the standard info)

    @property
    def subpath(self) -> str:
        return f"{self.subdir}/{self.filename}"


@dataclass(slots=True)
class _UidList:
    """A folder's key -> UID map, with its UIDVALIDITY and next UID."""

    uidvalidity: int
    uidnext: int = 1
    uids: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> _UidList | None:
        """Read the file; None when it is missing or unusable (the caller starts afresh)."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeError) as exc:
            logger.warning("unreadable %s (%s): assigning new UIDs", path, exc)
            return None
        lines = text.splitlines()
        if len(lines) > 1 and not text.endswith("\n"):
            # A mailbag stopped while it added lines (see append): the last one was cut short.
            logger.info("%s ends in a line cut short: left out", path)
            lines.pop()
        try:
            magic, validity, nextuid = lines[0].rsplit(" ", 2)
            if magic != _UIDLIST_MAGIC or validity[0] != "V" or nextuid[0] != "N":
                raise ValueError("bad first line")
            result = cls(uidvalidity=int(validity[1:]), uidnext=int(nextuid[1:]))
            for line in lines[1:]:
                uid, key = line.split(" ", 1)
                result.uids[key] = int(uid)
        except (IndexError, ValueError) as exc:
            logger.warning("malformed %s (%s): assigning new UIDs", path, exc)
            return None
        if result.uids and max(result.uids.values()) >= result.uidnext:
            result.uidnext = max(result.uids.values()) + 1
        return result

    @staticmethod
    def read_validity(path: Path) -> int | None:
        """The UIDVALIDITY the file's first line gives (None: no file, or not one of ours)."""
        try:
            with open(path, encoding="utf-8") as file:
                magic, validity, _next = file.readline().rsplit(" ", 2)
        except (OSError, UnicodeError, ValueError):
            return None
        if magic != _UIDLIST_MAGIC or not validity.startswith("V") or not validity[1:].isdigit():
            return None
        return int(validity[1:])

    def save(self, path: Path) -> None:
        """Write the file atomically and durably: a temp file, fsynced, renamed over the old
        one, the directory fsynced. (After a crash an older list could give a UID the cache
        holds to another message.)"""
        lines = [f"{_UIDLIST_MAGIC} V{self.uidvalidity} N{self.uidnext}"]
        lines += [f"{uid} {key}" for key, uid in sorted(self.uids.items(), key=lambda kv: kv[1])]
        # A name of its own: another writer (a second mailbag, or another thread) may be at it too.
        fd, tmp = tempfile.mkstemp(prefix=f"{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with open(fd, "w", encoding="utf-8") as file:
                file.write("\n".join(lines) + "\n")
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        sync_dir(path.parent)

    def append(self, path: Path, keys: Sequence[str]) -> None:
        """Add the lines of ``keys`` (UIDs just assigned) to the file durably, without writing
        the rest again; its first line's next UID stays as it was (:meth:`load` takes the
        highest UID + 1 when that is more). Without the file, it is written whole."""
        try:
            file = open(path, "r+", encoding="utf-8")
        except FileNotFoundError:
            self.save(path)
            return
        with file:
            file.seek(0, os.SEEK_END)
            file.write("".join(f"{self.uids[key]} {key}\n" for key in keys))
            file.flush()
            os.fsync(file.fileno())

    def assign(self, key: str) -> int:
        uid = self.uidnext
        self.uids[key] = uid
        self.uidnext += 1
        return uid


@dataclass(slots=True)
class _FolderView:
    """A folder as last synchronised: UID list plus uid -> entry, and the UID file as it was
    then (see :func:`_stamp`)."""

    uidlist: _UidList
    by_uid: dict[int, _Entry]
    stamp: tuple[int, int, int] | None = None


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """What tells whether the UID file changed: its inode (replaced), size (appended to) and
    time; None when there is none."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


@contextlib.contextmanager
def _uidlist_locked(directory: Path) -> Iterator[None]:
    """Hold the folder's :data:`UIDLIST_LOCK` (waiting up to :data:`LOCK_WAIT` for another mailbag
    to let go). Where the lock file cannot be made (a folder on a read-only disk, or not made
    yet) nothing is locked: no one can write a UID file there either."""
    try:
        fd = os.open(directory / UIDLIST_LOCK, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT):
            raise
        yield
        return
    try:
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"{directory / UIDLIST_LOCK} has been held by another program for"
                                       f" {LOCK_WAIT:g} s") from None
                time.sleep(0.01)
            except OSError as exc:
                if exc.errno not in _NO_LOCKS:
                    raise
                _tell_no_locks(directory, exc)  # a file system without flock: one mailbag at a time
                break
        yield
    finally:
        os.close(fd)  # lets go of the lock


#: What ``flock`` fails with on a file system that has no locks (some FUSE and network ones).
_NO_LOCKS = frozenset({errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL})
_told_no_locks: set[Path] = set()


def _tell_no_locks(directory: Path, exc: OSError) -> None:
    if directory not in _told_no_locks:
        _told_no_locks.add(directory)
        logger.warning("%s cannot be locked (%s): two mailbags must not serve it at once",
                       directory / UIDLIST_LOCK, exc.strerror or exc)


class MaildirStore:
    """One Maildir tree, Maildir++ or nested (``layout``: see
    :mod:`~mailbag.protocols.maildir_layout`); folder names are shown with '/' as delimiter.

    Unknown folders and UIDs raise ``KeyError``; invalid folder names raise ``ValueError``.
    """

    def __init__(
        self, root: Path, account: str, *, create: bool = False, layout: MaildirLayout | None = None
    ) -> None:
        self.root = Path(root)
        self.account = account
        if create:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        elif not self.root.is_dir():
            raise mailbox.NoSuchMailboxError(str(self.root))
        self.layout = detect(self.root, layout)
        if create:
            self.layout.create(INBOX)
        self._views: dict[str, _FolderView] = {}

    # -- folders ---------------------------------------------------------------------------------

    def list_folders(self) -> list[Folder]:
        """INBOX and every subfolder, Inbox and special-use folders first, with message counts.

        A parent that exists only as part of a deeper name (``Lists`` of ``Lists/python-dev``) is
        listed as ``\\Noselect`` so a tree can show it.
        """
        names = sorted(self._folder_names(), key=str.casefold)
        result = [self._folder(INBOX, FolderRole.INBOX, frozenset())]
        seen = {*names, INBOX}
        for name in names:
            parts = name.split(DELIMITER)
            for depth in range(1, len(parts)):
                parent = DELIMITER.join(parts[:depth])
                if parent not in seen:
                    seen.add(parent)
                    attrs = frozenset({"\\Noselect", "\\HasChildren"})
                    result.append(Folder(self.account, parent, DELIMITER, FolderRole.NONE, attrs))
            role = _role(name)
            has_children = any(other.startswith(name + DELIMITER) for other in names)
            attrs = frozenset({"\\HasChildren" if has_children else "\\HasNoChildren"})
            result.append(self._folder(name, role, attrs))
        result.sort(key=lambda f: (f.name != INBOX, ROLE_ORDER[f.role], f.name.casefold()))
        return result

    def create_folder(self, name: str) -> None:
        """Create a folder (``A/B`` is ``.A.B`` in Maildir++, ``A/B/`` nested) and any missing
        parent; nothing happens if it exists already."""
        self.layout.create(name)

    def forget_folders(self) -> None:
        """Folders were renamed or deleted: read each one afresh when next asked."""
        self._views.clear()

    def folder_state(self, folder: str, *, rescan: bool = True) -> FolderState:
        """UIDVALIDITY (stable while the folder's UID file lives) and the next UID; with
        ``rescan=False`` as last seen, when the folder was looked at before."""
        view = self._view(folder, rescan)
        return FolderState(uidvalidity=view.uidlist.uidvalidity, uidnext=view.uidlist.uidnext)

    # -- messages --------------------------------------------------------------------------------

    def summaries(
        self, folder: str, since_uid: int = 0, *, uids: Iterable[int] | None = None, rescan: bool = True,
        unreadable: dict[int, str] | None = None,
    ) -> Iterator[MessageSummary]:
        """Header summaries of messages with UID > ``since_uid`` (or of those of ``uids`` that
        exist), in UID order (with ``rescan=False``, of the folder as last seen, when it was
        looked at before).

        Only the header block is parsed. A file that cannot be read is skipped with a warning (and
        put in ``unreadable``, UID -> why, when given); one without a header (of 0 bytes, say) is
        listed with no subject or sender, dated by its file.
        """
        directory = self._folder_dir(folder)
        view = self._view(folder, rescan)
        wanted = view.by_uid.keys() & set(uids) if uids is not None else (u for u in view.by_uid if u > since_uid)
        for uid in sorted(wanted):
            entry = view.by_uid[uid]
            path = directory / entry.subdir / entry.filename
            try:
                summary = _summarise(path, uid, flags_from_info(entry.letters))
            except FileNotFoundError:
                continue  # removed (or renamed) by another program since the scan
            except Exception as exc:  # a hostile or broken file must never stop the listing
                logger.warning("skipping message %s in %s: %s", entry.filename, folder, exc)
                if unreadable is not None:
                    unreadable[uid] = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
                continue
            yield summary

    def flags(self, folder: str, *, rescan: bool = True) -> dict[int, frozenset[str]]:
        """UID -> IMAP flags of every message in the folder (``rescan`` as for :meth:`summaries`)."""
        view = self._view(folder, rescan)
        return {uid: flags_from_info(entry.letters) for uid, entry in view.by_uid.items()}

    def read(self, folder: str, uid: int) -> bytes:
        """The message's exact bytes."""
        directory = self._folder_dir(folder)
        try:
            return (directory / self._entry(folder, uid, fresh=False).subpath).read_bytes()
        except FileNotFoundError:
            pass  # renamed (flags changed) or removed by another program: look again
        try:
            return (directory / self._entry(folder, uid, fresh=True).subpath).read_bytes()
        except FileNotFoundError:
            raise KeyError(f"message {uid} vanished from {folder}") from None

    def set_flags(
        self,
        folder: str,
        uids: Sequence[int],
        add: Iterable[str] = (),
        remove: Iterable[str] = (),
    ) -> None:
        """Add and remove IMAP system flags by renaming the files (into ``cur/``).

        UIDs that no longer exist are ignored, as IMAP STORE does; keywords are not stored.
        """
        add_letters = {FLAG_TO_LETTER[f] for f in add if f in FLAG_TO_LETTER}
        remove_letters = {FLAG_TO_LETTER[f] for f in remove if f in FLAG_TO_LETTER}
        directory = self._folder_dir(folder)
        view = self._sync(folder)
        for uid in uids:
            entry = view.by_uid.get(uid)
            if entry is None:
                continue
            letters = "".join(sorted((set(entry.letters) | add_letters) - remove_letters))
            key = entry.filename.split(":", 1)[0]
            moved = _Entry("cur", f"{key}{_INFO}{letters}", letters)
            if moved == entry:
                continue
            try:
                os.rename(directory / entry.subpath, directory / moved.subpath)
            except FileNotFoundError:
                logger.warning("message %s vanished from %s before its flags changed", uid, folder)
                continue
            view.by_uid[uid] = moved

    def add(self, folder: str, raw: bytes, flags: Iterable[str] = ()) -> int:
        """Deliver a message (into ``new/``, or ``cur/`` when it has flags); returns its UID."""
        return self.add_many(folder, [(raw, flags)])[0]

    def add_many(self, folder: str, messages: Iterable[tuple[bytes, Iterable[str]]]) -> list[int]:
        """Deliver several messages in order, writing the UID file once; returns their UIDs."""
        directory = self._folder_dir(folder)
        with _uidlist_locked(directory):
            view = self._sync_locked(folder, directory)
            box = mailbox.Maildir(directory, factory=None, create=False)
            uids = []
            try:
                for raw, flags in messages:
                    key = box.add(bytes(raw))
                    letters = "".join(sorted({FLAG_TO_LETTER[f] for f in flags if f in FLAG_TO_LETTER}))
                    entry = _Entry("new", key, "")
                    if letters:
                        entry = _Entry("cur", f"{key}{_INFO}{letters}", letters)
                        os.rename(directory / "new" / key, directory / entry.subpath)
                    uid = view.uidlist.assign(key)
                    view.by_uid[uid] = entry
                    uids.append(uid)
            finally:
                view.uidlist.save(directory / UIDLIST_NAME)
                view.stamp = _stamp(directory / UIDLIST_NAME)
        return uids

    def adopt(self, folder: str, keys: Sequence[str]) -> list[int]:
        """UIDs for messages just delivered into the folder's ``new/`` under ``keys``, given in
        their order without looking at the folder again (a key seen already keeps its UID), unless
        another mailbag changed its UID file since this one looked."""
        directory = self._folder_dir(folder)
        path = directory / UIDLIST_NAME
        with _uidlist_locked(directory):
            view = self._views.get(_canonical(folder))
            if view is None or view.stamp != _stamp(path):
                view = self._sync_locked(folder, directory)
            uids = []
            assigned = []
            for key in keys:
                uid = view.uidlist.uids.get(key)
                if uid is None:
                    uid = view.uidlist.assign(key)
                    view.by_uid[uid] = _Entry("new", key, "")
                    assigned.append(key)
                uids.append(uid)
            if assigned:
                view.uidlist.append(path, assigned)
                view.stamp = _stamp(path)
        return uids

    def uidvalidity(self, folder: str) -> int:
        """The folder's UIDVALIDITY as its UID file says now: read, not scanned, so that a
        message opens at once in a big folder (a folder without the file is scanned)."""
        validity = _UidList.read_validity(self._folder_dir(folder) / UIDLIST_NAME)
        return validity if validity is not None else self.folder_state(folder).uidvalidity

    def remove(self, folder: str, uids: Sequence[int]) -> None:
        """Delete these messages' files for good (UIDs already gone are ignored)."""
        directory = self._folder_dir(folder)
        view = self._sync(folder)
        for uid in uids:
            entry = view.by_uid.pop(uid, None)
            if entry is None:
                continue
            try:
                os.unlink(directory / entry.subpath)
            except FileNotFoundError:
                logger.warning("message %s vanished from %s before it was removed", uid, folder)

    def move(
        self, folder: str, uids: Sequence[int], target: str, *, copy: bool = False
    ) -> dict[int, int]:
        """Move (or copy) messages with their flags into ``target``; returns old -> new UID.

        The copies are written before any original is removed, so a failure loses nothing. They
        keep their files' times, which date a message without a Date header (and are the date
        Dovecot received it on).
        """
        wanted = [uid for uid in uids if uid in self._sync(folder).by_uid]
        flags = self.flags(folder)
        messages = [(self.read(folder, uid), flags.get(uid, frozenset())) for uid in wanted]
        times = [self._file_time(folder, uid) for uid in wanted]
        new_uids = self.add_many(target, messages)
        self._set_file_times(target, zip(new_uids, times))
        if not copy:
            self.remove(folder, wanted)
        return dict(zip(wanted, new_uids))

    def _file_time(self, folder: str, uid: int) -> int | None:
        """The modification time (ns) of the message's file; None when it is gone."""
        try:
            return (self._folder_dir(folder) / self._entry(folder, uid, fresh=False).subpath).stat().st_mtime_ns
        except (FileNotFoundError, KeyError):
            return None

    def _set_file_times(self, folder: str, times: Iterable[tuple[int, int | None]]) -> None:
        """Give the files of ``folder``'s messages these modification times (ns; None: left)."""
        directory = self._folder_dir(folder)
        for uid, mtime in times:
            if mtime is None:
                continue
            with contextlib.suppress(FileNotFoundError, KeyError):
                os.utime(directory / self._entry(folder, uid, fresh=False).subpath, ns=(mtime, mtime))

    # -- internals -------------------------------------------------------------------------------

    def _folder_names(self) -> list[str]:
        return [name for name, _path in self.layout.folders()]

    def _folder(self, name: str, role: FolderRole, attrs: frozenset[str]) -> Folder:
        entries = _scan(self._folder_dir(name))
        unread = sum(1 for e in entries.values() if "S" not in e.letters)
        return Folder(self.account, name, DELIMITER, role, attrs, total=len(entries), unread=unread)

    def _folder_dir(self, folder: str) -> Path:
        path = self.layout.path(folder)
        if not (path / "cur").is_dir():
            if folder.upper() == INBOX:
                return path  # an Inbox not made yet (nested) is empty
            raise KeyError(f"no such folder: {folder}")
        return path

    def _entry(self, folder: str, uid: int, *, fresh: bool) -> _Entry:
        view = self._views.get(_canonical(folder))
        if fresh or view is None or uid not in view.by_uid:
            view = self._sync(folder)
        try:
            return view.by_uid[uid]
        except KeyError:
            raise KeyError(f"no message {uid} in {folder}") from None

    def _view(self, folder: str, rescan: bool) -> _FolderView:
        """The folder scanned now, or (without ``rescan``) as last scanned, if it was."""
        view = None if rescan else self._views.get(_canonical(folder))
        return view or self._sync(folder)

    def _sync(self, folder: str) -> _FolderView:
        """Scan the folder, give new files new UIDs, forget removed ones; save the UID file if changed."""
        directory = self._folder_dir(folder)
        with _uidlist_locked(directory):
            return self._sync_locked(folder, directory)

    def _sync_locked(self, folder: str, directory: Path) -> _FolderView:
        """:meth:`_sync` of the folder in ``directory``, its UID-list lock held by the caller."""
        if directory != self.root and not (directory / "cur").is_dir() and self.root.is_dir():
            # An Inbox a nested tree has not made: empty, and nothing is written. (A tree gone
            # altogether, its disk unmounted, fails below as it should.)
            view = _FolderView(_UidList(uidvalidity=1), {})
            self._views[_canonical(folder)] = view
            return view
        entries = _scan(directory)
        uidlist_path = directory / UIDLIST_NAME
        uidlist = _UidList.load(uidlist_path)
        changed = uidlist is None
        if uidlist is None:
            uidlist = _UidList(uidvalidity=_new_uidvalidity(self.root))
        for key in [k for k in uidlist.uids if k not in entries]:
            del uidlist.uids[key]
            changed = True
        fresh = [k for k in entries if k not in uidlist.uids]
        if fresh:
            for key in sorted(fresh, key=lambda k: (_mtime_ns(directory / entries[k].subpath), k)):
                uidlist.assign(key)
            changed = True
        if changed:
            uidlist.save(uidlist_path)
        view = _FolderView(uidlist, {uidlist.uids[k]: e for k, e in entries.items()}, _stamp(uidlist_path))
        self._views[_canonical(folder)] = view
        return view


def _canonical(folder: str) -> str:
    return INBOX if folder.upper() == INBOX else folder


def _scan(directory: Path) -> dict[str, _Entry]:
    """Key -> entry for every message file in new/ and cur/ (cur/ wins if a key is in both)."""
    entries: dict[str, _Entry] = {}
    for subdir in ("new", "cur"):
        try:
            names = os.listdir(directory / subdir)
        except FileNotFoundError:
            continue
        for filename in names:
            if filename.startswith(".") or "\n" in filename:
                continue
            key, _, info = filename.partition(":")
            letters = info[2:] if info.startswith("2,") else ""  # in new/ too, where a few tools write it
            if letters and not (letters.isascii() and letters.isalpha()):
                # Flags are letters; what else a tool left there ("S:2,T", ",U=12") is not one,
                # and a change of flags would write it back among them.
                letters = "".join(c for c in letters if c.isascii() and c.isalpha())
            entries[key] = _Entry(subdir, filename, letters)
    return entries


def _mtime_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _new_uidvalidity(root: Path) -> int:
    """A UIDVALIDITY for a folder without a UID file: the time, but past every one given in the
    tree before (kept in ``root``), so a folder deleted and made again within a second does not
    get its old one back, which would let its new messages pass for the old ones of their UIDs."""
    path = root / UIDVALIDITY_NAME
    try:
        last = int(path.read_text(encoding="ascii").strip() or 0)
    except (OSError, ValueError):
        last = 0
    value = max(int(time.time()), last + 1) & 0xFFFFFFFF or 1
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(f"{value}\n", encoding="ascii")
        os.replace(tmp, path)
    except OSError:
        pass  # a tree that cannot be written to gets a UIDVALIDITY all the same
    return value


def _read_header_block(path: Path) -> tuple[bytes, int, float]:
    """The header block of the file (see :func:`_header_block`), its size and its mtime."""
    with open(path, "rb") as fh:
        stat = os.fstat(fh.fileno())
        return _header_block(fh), stat.st_size, stat.st_mtime


def _header_block(fh: BinaryIO) -> bytes:
    """The header block (up to the first blank line) read from ``fh``.

    Of each field (with its continuation lines) the first ``_MAX_FIELD_BYTES`` are kept, so a
    huge subject is cut and the fields after it (Date, Message-ID) are still read.
    """
    kept: list[bytes] = []
    field = 0  # bytes kept of the field being read
    read = 0
    at_line_start = True
    while read < _MAX_HEADER_SCAN and (chunk := fh.readline(_READ_BYTES)):
        read += len(chunk)
        if at_line_start:
            if chunk in (b"\n", b"\r\n"):
                break  # the blank line that ends the header
            if chunk[:1] not in (b" ", b"\t"):
                field = 0  # a new field; a continuation line belongs to the one before
        at_line_start = chunk.endswith(b"\n")
        if field >= _MAX_FIELD_BYTES:
            continue  # the rest of a field that was cut
        part = chunk[: _MAX_FIELD_BYTES - field]
        field += len(part)
        if field >= _MAX_FIELD_BYTES and not part.endswith(b"\n"):
            part = _whole_characters(part) + b"\r\n"
        kept.append(part)
    return b"".join(kept)


def _whole_characters(data: bytes) -> bytes:
    """``data`` without the UTF-8 character (or the CR of a line break) cut at its end."""
    start = len(data)
    while start > 0 and len(data) - start < 3 and 0x80 <= data[start - 1] <= 0xBF:
        start -= 1  # back over continuation bytes to the lead byte of the last character
    if start > 0 and data[start - 1] >= 0xC0:
        lead = data[start - 1]
        length = 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
        if len(data) - (start - 1) < length:
            data = data[: start - 1]
    return data.rstrip(b"\r")


def _summarise(path: Path, uid: int, flags: frozenset[str]) -> MessageSummary:
    """Summary of the file from its header block."""
    block, size, mtime = _read_header_block(path)
    return _summary(block, size, mtime, uid, flags, lambda: open(path, "rb"))


def delivered_summaries(
    folder: Path, keys: Sequence[str], received: float
) -> list[tuple[str, MessageSummary | None]]:
    """``(key, summary)`` of each message just delivered into ``folder``'s ``new/`` under ``key``
    (UID 0, no flags, ``received`` for a message without Date), read from its file; one whose
    file is gone already (another program took it) is left out."""
    made: list[tuple[str, MessageSummary | None]] = []
    new = os.path.join(folder, "new")
    for key in keys:
        path = os.path.join(new, key)
        try:
            with open(path, "rb") as fh:
                # Its size first: a read of "up to _READ_WHOLE" would allocate that much each time.
                size = os.fstat(fh.fileno()).st_size
                if size <= _READ_WHOLE:
                    raw = fh.read()  # just written: in the page cache
                    made.append((key, delivered_summary(raw, received)))
                    continue
                block = _header_block(fh)
            made.append((key, _summary(block, size, received, 0, frozenset(), lambda: open(path, "rb"))))
        except FileNotFoundError:
            continue
        except Exception as exc:  # noqa: BLE001 - a hostile message must never stop a delivery
            logger.warning("the headers of %s could not be read: %r", key, exc)
            made.append((key, None))
    return made


def delivered_summary(raw: bytes, received: float) -> MessageSummary | None:
    """:func:`summary_of` a message just delivered (UID 0, no flags); None for one that cannot
    be read (logged): the next look at its folder tries again, and lists it or says why not."""
    try:
        return summary_of(raw, 0, frozenset(), received)
    except Exception as exc:  # noqa: BLE001 - a hostile message must never stop a delivery
        logger.warning("the headers of a message delivered could not be read: %r", exc)
        return None


def summary_of(raw: bytes, uid: int, flags: frozenset[str], received: float) -> MessageSummary:
    """Summary of a message held in memory (just delivered as ``raw``; ``received`` stands for
    the file's mtime when it has no Date)."""
    return _summary(_header_block_of(raw), len(raw), received, uid, flags, lambda: io.BytesIO(raw))


def _header_block_of(raw: bytes) -> bytes:
    """:func:`_header_block` of a message in memory: a block shorter than a field may be is
    taken as it is (no field in it can have been cut)."""
    if raw.startswith((b"\n", b"\r\n")):
        return b""
    end = _HEADER_END.search(raw, 0, _MAX_FIELD_BYTES)
    if end is not None:
        return raw[: end.start() + 1]
    return _header_block(io.BytesIO(raw))


def _summary(
    block: bytes, size: int, mtime: float, uid: int, flags: frozenset[str], whole: Callable[[], BinaryIO]
) -> MessageSummary:
    """Summary from a header block; ``whole`` opens the whole message (for its attachments)."""
    headers = block_fields(block)
    get = headers.get
    date = parse_date(get("date"))
    if date is None or too_far_ahead(date):  # listed by its arrival
        date = datetime.fromtimestamp(mtime, tz=timezone.utc)
    in_reply_to = _MSG_ID.findall(get("in-reply-to", ""))
    return MessageSummary(
        uid=uid,
        flags=flags,
        date=date,
        size=size,
        subject=decode_words(get("subject")),
        from_=parse_address_list(get("from")),
        to=parse_address_list(get("to")),
        cc=parse_address_list(get("cc")),
        reply_to=parse_address_list(get("reply-to")),
        message_id=clean_line(get("message-id", "")),
        in_reply_to=clean_line(in_reply_to[0]) if in_reply_to else "",
        references=tuple(clean_line(r) for r in _MSG_ID.findall(get("references", ""))),
        has_attachment=_has_attachment(headers, whole),
    )


def _has_attachment(headers: dict[str, str], whole: Callable[[], BinaryIO]) -> bool:
    """From the top headers (each name's first value, by its name in lower case), and for
    multipart/mixed from the parts' headers (from a full parse of a message whose parts are not
    well delimited)."""
    disposition = headers.get("content-disposition", "").split(";", 1)[0].strip().lower()
    kind = content_type(headers)
    if disposition == "attachment":
        return True
    if kind != "multipart/mixed":
        return kind.partition("/")[0] not in {"text", "multipart", "message"}
    with whole() as fh:
        raw = fh.read()
    try:
        return _holds_attachment(raw, 0)
    except _Malformed:
        pass
    try:
        message = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw)
        for part in message.walk():
            if part.is_multipart():
                continue
            if part.get_content_disposition() == "attachment" or part.get_filename():
                return True
            if part.get_content_maintype() != "text":
                return True
    except RecursionError:  # parts left open, nested deeper than the email package can read
        return False
    return False


class _Malformed(Exception):
    """A multipart whose closing delimiter is missing."""


def _holds_attachment(entity: bytes, depth: int) -> bool:
    """Whether a MIME entity (header block and body), or one inside it, is an attachment: named,
    marked so, or not text. Only the header blocks are parsed; bodies are skipped over."""
    blank = _BLANK_LINE.search(entity)
    head, body = (entity[: blank.start()], entity[blank.end() :]) if blank else (entity, b"")
    if entity.startswith((b"\n", b"\r\n")):
        head, body = b"", entity
    headers = _part_fields(head)
    if headers.get_content_type() == "message/external-body":  # kept elsewhere: nothing here
        return False
    if depth > 0 and (headers.get_content_disposition() == "attachment" or headers.get_filename()):
        return True
    maintype = headers.get_content_maintype()
    if depth > _MAX_PART_DEPTH:
        return False
    if maintype == "message":
        return _holds_attachment(body, depth + 1)
    if maintype != "multipart":
        return maintype != "text"
    boundary = headers.get_boundary()
    if not boundary:
        raise _Malformed
    marks = _delimiter_lines(body, b"--" + boundary.encode("latin-1", "replace"))
    if not marks or not marks[-1][2]:
        raise _Malformed
    for (_start, end, closing), (following, _end, _closing) in zip(marks, marks[1:]):
        if closing:
            break
        if _holds_attachment(body[end + 1 : following], depth + 1):
            return True
    return False


def _part_fields(head: bytes) -> email.message.Message:
    """The fields of a part's header block that tell what it is (type, disposition, names), as
    the email package's HeaderParser reads them; read by :func:`block_fields` (the email
    package's parser costs more than the rest of a summary)."""
    fields = block_fields(head)
    message = email.message.Message()
    for name in ("content-type", "content-disposition"):
        if (value := fields.get(name)) is not None:
            message[name] = value
    return message


def _delimiter_lines(body: bytes, delimiter: bytes) -> list[tuple[int, int, bool]]:
    """``(start, end, closing)`` of each line of ``body`` that is ``delimiter``, ``--`` after it
    when it closes, then only blanks and a CR, or (closing) blanks and the epilogue's first text
    (``end`` is where the line's LF is), as the reader reads them."""
    found: list[tuple[int, int, bool]] = []
    at = body.find(delimiter)
    while at >= 0:
        after = at + len(delimiter)
        end = body.find(b"\n", after)
        end = len(body) if end < 0 else end
        if at == 0 or body[at - 1] == 0x0A:  # at the start of a line
            rest = body[after:end]
            closing = rest.startswith(b"--") and (_blank(rest[2:]) or rest[2:3] in (b" ", b"\t"))
            if closing or _blank(rest):
                found.append((at, end, closing))
                at = body.find(delimiter, end)
                continue
        at = body.find(delimiter, at + 1)
    return found


def _blank(rest: bytes) -> bool:
    """Whether ``rest`` is only spaces and tabs, and perhaps a CR at its end."""
    return not rest.removesuffix(b"\r").strip(b" \t")
