"""Where mailbag keeps its files: XDG base directories through platformdirs.

Every path is computed when asked (never at import time), so setting XDG_* variables — as the tests
do — moves everything.
"""

from __future__ import annotations

import fcntl
import glob
import os
import stat
import tempfile
from pathlib import Path

import platformdirs

APP_NAME = "mailbag"


def config_file() -> Path:
    """The config file: $MAILBAG_CONFIG, else $XDG_CONFIG_HOME/mailbag/config.toml."""
    override = os.environ.get("MAILBAG_CONFIG")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def data_dir() -> Path:
    """$XDG_DATA_HOME/mailbag: the cache database and local stores."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def pop3_maildir(account: str) -> Path:
    """$XDG_DATA_HOME/mailbag/pop3/ACCOUNT: where a POP3 account keeps its mail by default."""
    return data_dir() / "pop3" / account


def state_dir() -> Path:
    """$XDG_STATE_HOME/mailbag: the log file."""
    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))


def runtime_dir(*, create: bool = True) -> Path:
    """Where mailbag keeps files for other programs while it runs (the copies a viewer opens):
    $XDG_RUNTIME_DIR/mailbag, else mailbag-UID in the temporary folder; made private (0700)
    unless ``create`` is false (then FileNotFoundError when it is missing). OSError when it is
    not a folder of this user's own (another user made it first)."""
    base = os.environ.get("XDG_RUNTIME_DIR", "")
    if os.path.isabs(base) and os.path.isdir(base):
        path = Path(base) / APP_NAME
    else:
        path = Path(tempfile.gettempdir()) / f"{APP_NAME}-{os.getuid()}"
    if create:
        private_dir(path)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise PermissionError(f"{path} is not a private folder of this user's")
    return path


#: Modes of what mailbag creates, whatever the umask: only its user may read its mail.
DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create the directory ``path`` and any missing parents with mode 0700; an existing ``path``
    loses any access by group and others (its parents are left as they are). Returns ``path``."""
    missing = []
    parent = path
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # made meanwhile (another mailbag starting)
        os.chmod(directory, DIR_MODE)  # mkdir's mode is cut by the umask
    if not missing:
        tighten(path)
    return path


def private_file(path: Path) -> Path:
    """Create the file ``path`` (empty) with mode 0600 if it is missing, in a private directory;
    an existing file loses any access by group and others. Returns ``path``."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        tighten(path)
    else:
        try:
            os.fchmod(fd, FILE_MODE)  # the mode given to open is cut by the umask
        finally:
            os.close(fd)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Replace the file ``path`` with ``data`` at once: written whole to a temporary file beside
    it, synced, and renamed over it, in a private directory. A crash leaves the old file or the
    new one, never a part. A symlink stays: its target is replaced (a config kept with the user's
    dotfiles). The new file is 0600, or the old one's owner bits (as ``tighten`` leaves them)."""
    private_dir(path.parent)
    path = Path(os.path.realpath(path))
    path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)  # a dangling link's folder
    mode = _private_mode(path)
    _forget_killed_writes(path)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)
    sync_dir(path.parent)  # the rename itself


def _private_mode(path: Path) -> int:
    """The mode for a new ``path``: its owner's bits if it exists (a read-only file stays so),
    else 0600."""
    try:
        return stat.S_IMODE(path.stat().st_mode) & 0o700
    except FileNotFoundError:
        return FILE_MODE


def _forget_killed_writes(path: Path) -> None:
    """Remove the temporary files of earlier writes of ``path`` whose process is gone (killed
    before its rename)."""
    for temp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = temp.name[len(path.name) + 2 : -len(".tmp")]
        if pid.isdigit() and int(pid) != os.getpid() and not process_running(int(pid)):
            temp.unlink(missing_ok=True)


def process_running(pid: int) -> bool:
    """Whether a process ``pid`` exists (one of another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def try_lock(path: Path) -> int | None:
    """The file ``path`` (made if need be, mode 0600) open and locked for this process alone
    (``flock``, released when the descriptor is closed); None when another holds it."""
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def sync_dir(directory: Path) -> None:
    """fsync a directory: what was renamed or removed in it is on disk."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def tighten(path: Path) -> None:
    """Take away group's and others' access to ``path`` if it exists (the owner's bits stay, so a
    file the user made read-only stays read-only). A file of another user is left alone."""
    try:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            os.chmod(path, mode & 0o700)
    except (FileNotFoundError, PermissionError):
        pass


def cache_db() -> Path:
    return data_dir() / "cache.sqlite3"


def log_file() -> Path:
    return state_dir() / "mailbag.log"
