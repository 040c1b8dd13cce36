"""Where a Maildir tree keeps its folders: Maildir++ or nested directories.

**Maildir++** (Dovecot, Courier, offlineimap, mbsync ``SubFolders Maildir++``): the Inbox is the
root (``cur``, ``new``, ``tmp``); a folder ``A/B`` is the directory ``.A.B`` beside them.

**Nested** (mbsync ``SubFolders Verbatim``): the Inbox is ``INBOX/`` (else the root, when it is a
Maildir itself) and a folder ``A/B`` is the directory ``A/B/``, each with its own ``cur``, ``new``,
``tmp``; a directory that only holds folders (``A`` without ``cur``) is a parent, not a folder.

:func:`detect` tells them apart by what is on disk; a tree that holds both (or neither yet) is
read as ``layout`` says (the account's ``maildir_layout`` key), else as Maildir++. Folder names
are shown with ``/`` between their parts.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

from mailbag.domain.config import MaildirLayout as LayoutName

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
        return self.root / ("." + ".".join(parts))

    def folders(self) -> Iterator[tuple[str, Path]]:
        """Every folder but the Inbox that exists (has ``cur/``), with its directory."""
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return
        for entry in entries:
            name = entry.name
            if name.startswith(".") and name not in (".", "..") and len(name) > 1 and _is_maildir(Path(entry.path)):
                yield name[1:].replace(".", DELIMITER), Path(entry.path)

    def create(self, folder: str) -> None:
        """Make ``folder`` (and, in Maildir++, each parent as a folder too); nothing happens if it
        exists already."""
        if folder.upper() == INBOX:
            make_maildir(self.inbox())
            return
        parts = split_name(folder)
        for depth in range(1, len(parts) + 1):
            path = self.path(DELIMITER.join(parts[:depth]))
            make_maildir(path)
            os.close(os.open(path / "maildirfolder", os.O_CREAT | os.O_WRONLY, 0o600))  # marks a Maildir++ folder


class Nested(Layout):
    """The nested layout: ``INBOX/`` and ``A/B/`` directories."""

    name: LayoutName = "nested"

    def inbox(self) -> Path:
        """``INBOX/``, or the root itself when it is a Maildir and there is no ``INBOX/``."""
        inbox = self.root / INBOX
        return self.root if _is_maildir(self.root) and not _is_maildir(inbox) else inbox

    def path(self, folder: str) -> Path:
        if folder.upper() == INBOX:
            return self.inbox()
        parts = split_name(folder)
        if any(part in MAILDIR_PARTS or part.startswith(".") for part in parts):
            raise ValueError(f"invalid folder name: {folder!r}")
        return self.root.joinpath(*parts)

    def folders(self) -> Iterator[tuple[str, Path]]:
        yield from self._below(self.root, (), 0)

    def _below(self, directory: Path, parents: tuple[str, ...], depth: int) -> Iterator[tuple[str, Path]]:
        if depth > _MAX_DEPTH:
            return
        try:
            entries = sorted(e.name for e in os.scandir(directory) if e.is_dir())
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            return
        for name in entries:
            if name in MAILDIR_PARTS or name.startswith("."):
                continue
            path = directory / name
            parts = parents + (name,)
            if _is_maildir(path) and parts != (INBOX,):
                yield DELIMITER.join(parts), path
            yield from self._below(path, parts, depth + 1)

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
    nested = _is_maildir(root / INBOX) or next(iter(Nested(root).folders()), None) is not None
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


def make_maildir(path: Path) -> None:
    """``path`` with ``cur``, ``new`` and ``tmp`` (mode 0700), and any missing parent."""
    for sub in ("", "cur", "new", "tmp"):
        (path / sub).mkdir(mode=0o700, parents=True, exist_ok=True)


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir()
