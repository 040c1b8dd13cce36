"""Saving attachments and messages into a folder the user chose, safely.

The name is made a single clean file name (no folders, no ``..``, no control or bidi characters,
no leading dot, no reserved device name) whatever the message said. The file is created in the
folder through the folder's descriptor with ``O_EXCL | O_NOFOLLOW``: a symlink already there is
never followed, and nothing is overwritten unless asked. The data is written whole to a hidden
file beside the name first and only then given the name (a hard link, which fails on a name
taken; a rename over it for an overwrite, which replaces a symlink rather than writing through
it), so a process killed midway leaves no part of a file under the name. That hidden file
(``.NAME.PID-XXXXXXXX.part``) names the process writing it: the next save into the folder removes
those whose process is gone, and only those. Files are made readable by the user alone (0600).
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
import time
from collections.abc import Callable
from pathlib import Path

from mailbag.domain.mime import safe_filename
from mailbag.paths import FILE_MODE, process_running

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
#: Why a hard link may fail where a rename works (a file system without hard links).
_NO_LINKS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK})
#: How many " (n)" names are tried before giving up.
_MAX_COPIES = 1000
#: The hidden file a save writes first: ``.NAME.PID-XXXXXXXX.part``.
_PART = re.compile(r"\..+\.(?P<pid>[0-9]+)-[0-9a-f]{8}\.part")
#: The one of versions before the process id was in its name: ``.NAME.XXXXXXXX.part``.
_OLD_PART = re.compile(r"\..+\.[0-9a-f]{8}\.part")
#: How old such a file (whose writer cannot be told) must be to be taken as left by a killed save.
_OLD_PART_SECONDS = 24 * 3600


class SaveError(Exception):
    """The file could not be saved; the message says why, for the status bar."""


class NameTaken(SaveError):
    """A file (or a link, or a folder) of that name is in the folder already."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} exists already")
        self.name = name


def numbered(name: str, n: int) -> str:
    """``report.pdf`` -> ``report (n).pdf``; the extension stays last."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return f"{name} ({n})"
    return f"{stem} ({n}).{ext}"


def save_file(folder: Path, name: str, data: bytes, *, overwrite: bool = False) -> Path:
    """Write ``data`` as ``folder/name`` (``name`` cleaned first) and return the path written.

    Raises NameTaken when the name exists and ``overwrite`` is false, SaveError otherwise.
    """
    name = safe_filename(name)
    with _Folder(folder) as fd:
        if overwrite:
            _replace(fd, name, data)
        else:
            _create(fd, name, data)
    return folder / name


def save_as_new(folder: Path, name: str, data: bytes) -> Path:
    """Write ``data`` under ``name`` or, when that is taken, the first free ``name (n)``."""
    name = safe_filename(name)
    with _Folder(folder) as fd:
        for candidate in (name, *(numbered(name, n) for n in range(1, _MAX_COPIES))):
            try:
                _create(fd, candidate, data)
            except NameTaken:
                continue
            return folder / candidate
    raise SaveError(f"{name}: no free name left in {folder}")


class _Folder:
    """The folder opened once, so every step below acts in the same folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.fd = -1

    def __enter__(self) -> int:
        try:
            self.fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            raise SaveError(f"cannot use the folder {self.folder}: {exc.strerror or exc}") from None
        _forget_killed_saves(self.fd)
        return self.fd

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)


def _create(folder_fd: int, name: str, data: bytes) -> None:
    if _exists(folder_fd, name):
        raise NameTaken(name)
    temporary = _write_beside(folder_fd, name, data)
    try:
        os.link(temporary, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd, follow_symlinks=False)
    except FileExistsError:
        raise NameTaken(name) from None
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise SaveError(f"cannot write {name}: {exc.strerror or exc}") from None
        # A file system without hard links: the name was free a moment ago.
        if _exists(folder_fd, name):
            raise NameTaken(name) from None
        _publish(folder_fd, temporary, name)
    finally:
        _forget(folder_fd, temporary)


def _replace(folder_fd: int, name: str, data: bytes) -> None:
    temporary = _write_beside(folder_fd, name, data)
    try:
        _publish(folder_fd, temporary, name)
    finally:
        _forget(folder_fd, temporary)


def _write_beside(folder_fd: int, name: str, data: bytes) -> str:
    """Write ``data`` whole to a new hidden file beside ``name``; its name."""
    temporary = f".{name}.{os.getpid()}-{secrets.token_hex(4)}.part"
    try:
        fd = os.open(temporary, _CREATE, FILE_MODE, dir_fd=folder_fd)
    except OSError as exc:
        raise SaveError(f"cannot write {name}: {exc.strerror or exc}") from None
    _write_all(fd, name, data, lambda: _forget(folder_fd, temporary))
    return temporary


def _publish(folder_fd: int, temporary: str, name: str) -> None:
    """Give the written file ``temporary`` the name ``name`` (replacing what is there)."""
    try:
        os.replace(temporary, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
    except OSError as exc:
        raise SaveError(f"cannot replace {name}: {exc.strerror or exc}") from None


def _forget(folder_fd: int, temporary: str) -> None:
    """Remove the hidden file (gone already once renamed)."""
    try:
        os.unlink(temporary, dir_fd=folder_fd)
    except OSError:
        pass


def _write_all(fd: int, name: str, data: bytes, forget: Callable[[], None]) -> None:
    """Write ``data`` to ``fd``, to the disk, and close it; on failure remove what was started."""
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except OSError as exc:
        forget()
        raise SaveError(f"cannot write {name}: {exc.strerror or exc}") from None


def _forget_killed_saves(folder_fd: int) -> None:
    """Remove the hidden files of saves into the folder whose process was killed before it gave
    the file its name: a process id that no process has any more, or (made by a version without
    it) a day old. Only regular files of this user whose names a save makes are touched."""
    try:
        names = os.listdir(folder_fd)
    except OSError:
        return
    for name in names:
        if not name.endswith(".part") or not name.startswith("."):
            continue
        ours = _PART.fullmatch(name)
        if ours is None and _OLD_PART.fullmatch(name) is None:
            continue
        try:
            info = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
            continue
        if ours is not None:
            pid = int(ours["pid"])
            killed = pid != os.getpid() and not process_running(pid)
        else:
            killed = time.time() - info.st_mtime > _OLD_PART_SECONDS
        if killed:
            _forget(folder_fd, name)


def _exists(folder_fd: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
    except OSError:
        return False
    return True
