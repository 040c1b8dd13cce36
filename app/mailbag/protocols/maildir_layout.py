"""Where a Maildir tree keeps its folders: Maildir++ or nested directories.

**Maildir++** (Dovecot, Courier, offlineimap, mbsync ``SubFolders Maildir++``): the Inbox is the
root (``cur``, ``new``, ``tmp``); a folder ``A/B`` is the directory ``.A.B`` beside them, and
mbsync's ``..B`` is ``INBOX/B``.

**Nested** (mbsync ``SubFolders Verbatim``): the Inbox is ``INBOX/`` (or ``Inbox/``, any case; else
the root, when it is a Maildir itself) and a folder ``A/B`` is the directory ``A/B/``, each with its
own ``cur``, ``new``, ``tmp``; a directory that only holds folders (``A`` without ``cur``) is a
parent, not a folder. mbsync's ``SubFolders Legacy`` keeps ``A/B`` in ``A/.B/``: below the top, a
directory's leading dot is not part of the name.

A part of a name written in IMAP's modified UTF-7 on disk (``Entw&APw-rfe``, as Dovecot, Courier
and offlineimap write them) is shown decoded (``Entwürfe``), as a part written in UTF-8 is; a
folder made here is written as the tree writes its others (modified UTF-7 in Maildir++ and UTF-8
in a nested tree, unless the tree shows otherwise).

:func:`detect` tells the layouts apart by what is on disk; a tree that holds both (or neither yet)
is read as ``layout`` says (the account's ``maildir_layout`` key), else as Maildir++. Folder names
are shown with ``/`` between their parts.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

from mailbag.domain.config import MaildirLayout as LayoutName
from mailbag.protocols import utf7

log = logging.getLogger(__name__)

INBOX = "INBOX"
DELIMITER = "/"
MAILDIR_PLUS_PLUS: LayoutName = "maildir++"
NESTED: LayoutName = "nested"
LAYOUTS: tuple[LayoutName, ...] = (MAILDIR_PLUS_PLUS, NESTED)
#: The parts of a Maildir that are never folders.
MAILDIR_PARTS = frozenset({"cur", "new", "tmp"})
#: Nested folders deeper than this are not looked for (a symbolic link loop ends here).
_MAX_DEPTH = 32
_BAD_PART_CHARS = re.compile(r"[\x00-\x1f\x7f/\\]")


class Layout:
    """Maps folder names to directories in one tree (Maildir++ here; :class:`Nested` below)."""

    name: LayoutName = "maildir++"

    def __init__(self, root: Path) -> None:
        self.root = root

    def inbox(self) -> Path:
        return self.root

    def path(self, folder: str) -> Path:
        """The directory of ``folder`` (it may not exist); ValueError for a name this layout
        cannot hold."""
        if folder.upper() == INBOX:
            return self.inbox()
        parts = split_name(folder)
        if any("." in part for part in parts):
            raise ValueError(f"invalid folder name: {folder!r}")
        prefix = "."
        if len(parts) > 1 and parts[0].upper() == INBOX and (self.root / (".." + ".".join(parts[1:]))).is_dir():
            prefix, parts = "..", parts[1:]  # mbsync's Maildir++ folder below the Inbox
        forms = [prefix + ".".join(parts), prefix + ".".join(utf7.encode(part) for part in parts)]
        return _existing(self.root, forms) or self.root / _new_form(self, forms, default=True)

    def folders(self) -> Iterator[tuple[str, Path]]:
        """Every folder but the Inbox that exists (has ``cur/``), with its directory."""
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return
        for entry in entries:
            parts = entry.name.split(".")[1:]
            if entry.name.startswith("..") and len(parts) > 1:
                parts[0] = INBOX  # mbsync: ..B is INBOX/B
            if entry.name.startswith(".") and all(parts) and _is_maildir(Path(entry.path)):
                yield DELIMITER.join(shown(part) for part in parts), Path(entry.path)

    def create(self, folder: str) -> None:
        """Make ``folder`` (and, in Maildir++, each parent as a folder too); nothing happens if it
        exists already."""
        if folder.upper() == INBOX:
            make_maildir(self.inbox())
            return
        parts = split_name(folder)
        for depth in range(1, len(parts) + 1):
            if depth == 1 and parts[0].upper() == INBOX:
                continue  # the Inbox is the root
            path = self.path(DELIMITER.join(parts[:depth]))
            make_maildir(path)
            os.close(os.open(path / "maildirfolder", os.O_CREAT | os.O_WRONLY, 0o600))  # marks a Maildir++ folder


class Nested(Layout):
    """The nested layout: ``INBOX/`` and ``A/B/`` directories (mbsync's Legacy ``A/.B/`` too)."""

    name: LayoutName = "nested"

    def inbox(self) -> Path:
        """``INBOX/`` (any case), or the root itself when it is a Maildir and there is none."""
        name = self._inbox_name()
        if name is not None:
            return self.root / name
        return self.root if _is_maildir(self.root) else self.root / INBOX

    def _inbox_name(self) -> str | None:
        """The directory of the root that holds the Inbox: ``INBOX``, else ``Inbox`` or another
        case of it (mbsync's ``Inbox ~/Mail/Inbox``), when it is a Maildir."""
        if _is_maildir(self.root / INBOX):
            return INBOX
        try:
            names = sorted(e.name for e in os.scandir(self.root) if e.name.upper() == INBOX)
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            return None
        return next((name for name in names if _is_maildir(self.root / name)), None)

    def path(self, folder: str) -> Path:
        if folder.upper() == INBOX:
            return self.inbox()
        parts = split_name(folder)
        if any(part in MAILDIR_PARTS or part.startswith(".") for part in parts):
            raise ValueError(f"invalid folder name: {folder!r}")
        directory = self.root
        if parts[0].upper() == INBOX:
            directory, parts = self.inbox(), parts[1:]
        for part in parts:
            top = directory == self.root
            forms = [part, utf7.encode(part)]
            found = _existing(directory, forms if top else forms + ["." + form for form in forms])
            if found is None:
                found = directory / (("" if top or not self._legacy() else ".") + _new_form(self, forms))
            directory = found
        return directory

    def _legacy(self) -> bool:
        """Whether the tree keeps folders below the top as ``A/.B`` (mbsync's Legacy)."""
        return any(path.name.startswith(".") for _name, path in self.folders())

    def folders(self) -> Iterator[tuple[str, Path]]:
        yield from self._below(self.root, (), 0, self._inbox_name(), frozenset({_identity(self.root)}))

    def _below(
        self, directory: Path, parents: tuple[str, ...], depth: int, inbox: str | None,
        above: frozenset[tuple[int, int]],
    ) -> Iterator[tuple[str, Path]]:
        """The folders below ``directory``; a symbolic link to a directory ``above`` it (a loop)
        is not followed."""
        if depth > _MAX_DEPTH:
            return
        try:
            entries = sorted(e.name for e in os.scandir(directory) if e.is_dir())
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            return
        for name in entries:
            identity = _identity(directory / name)
            if identity in above:
                continue
            # At the top a dot hides a directory (.notmuch, Maildir++ folders); below it, it
            # marks mbsync's Legacy folder.
            part = name[1:] if name.startswith(".") and depth > 0 else name
            if name in MAILDIR_PARTS or not part or part.startswith("."):
                continue
            path = directory / name
            parts = (INBOX,) if depth == 0 and name == inbox else parents + (shown(part),)
            if _is_maildir(path) and parts != (INBOX,):
                yield DELIMITER.join(parts), path
            yield from self._below(path, parts, depth + 1, inbox, above | {identity})

    def create(self, folder: str) -> None:
        make_maildir(self.path(folder))


def detect(root: Path, layout: LayoutName | None = None) -> Layout:
    """The layout of the tree at ``root``: ``layout`` when given, else what is on disk (see the
    module's text)."""
    if layout == NESTED:
        return Nested(root)
    if layout == MAILDIR_PLUS_PLUS:
        return Layout(root)
    plus = next(iter(Layout(root).folders()), None) is not None
    nested = Nested(root)._inbox_name() is not None or next(iter(Nested(root).folders()), None) is not None
    if plus and nested:
        log.warning("maildir %s holds Maildir++ and nested folders: read as Maildir++ "
                    '(set maildir_layout = "nested" for the other)', root)
    return Nested(root) if nested and not plus else Layout(root)


def split_name(name: str) -> list[str]:
    """The parts of a folder name shown with '/'; ValueError for an empty part, ``.``, ``..``,
    or a control character or backslash."""
    parts = name.split(DELIMITER)
    for part in parts:
        if not part or part in {".", ".."} or _BAD_PART_CHARS.search(part):
            raise ValueError(f"invalid folder name: {name!r}")
    return parts


def shown(part: str) -> str:
    """A part of a folder's name as shown: decoded when written in modified UTF-7 on disk."""
    return utf7.decode_strict(part) or part


def _existing(directory: Path, forms: list[str]) -> Path | None:
    """The first of ``forms`` that is a directory in ``directory``."""
    return next((directory / form for form in forms if (directory / form).is_dir()), None)


def _new_form(layout: Layout, forms: list[str], *, default: bool = False) -> str:
    """Of a new folder's ``forms`` (as written, in modified UTF-7), the one the tree writes: modified
    UTF-7 when its folders are written so, UTF-8 when they are (else as ``default`` says)."""
    if forms[0] == forms[1]:
        return forms[0]
    written = [path.name for _name, path in layout.folders()]
    if any(not name.isascii() for name in written):
        return forms[0]
    encodes = default or any(utf7.decode_strict(part) for name in written for part in name.split("."))
    return forms[1] if encodes else forms[0]


def make_maildir(path: Path) -> None:
    """``path`` with ``cur``, ``new`` and ``tmp`` (mode 0700), and any missing parent."""
    for sub in ("", "cur", "new", "tmp"):
        (path / sub).mkdir(mode=0o700, parents=True, exist_ok=True)


def _identity(path: Path) -> tuple[int, int]:
    """Which directory ``path`` is, through any symbolic link: its device and inode."""
    try:
        stat = path.stat()
    except OSError:
        return (-1, id(path))  # gone meanwhile: nothing to walk twice
    return (stat.st_dev, stat.st_ino)


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir()
