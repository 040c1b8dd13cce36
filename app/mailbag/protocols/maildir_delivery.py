"""Durable delivery into a Maildir's INBOX, as a mail transfer agent does it.

Each message is written to ``tmp/``, fsynced, and renamed into ``new/`` under a unique name (the
Maildir key); the ``new/`` directory is fsynced once per batch, so that a message reported
delivered survives a crash or a power cut. A batch's files are fsynced side by side (the disk
then commits them together). Files are mode 0600.
"""

from __future__ import annotations

import functools
import itertools
import os
import socket
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

_SEQUENCE = itertools.count(1)
#: How many files of a batch are fsynced at once.
SYNC_THREADS = 8


def ensure_maildir(root: Path) -> None:
    """Create ``root`` with ``cur``, ``new`` and ``tmp`` (mode 0700) unless they exist."""
    for sub in ("", "cur", "new", "tmp"):
        (root / sub).mkdir(mode=0o700, parents=True, exist_ok=True)


def new_key() -> str:
    """A Maildir key no other delivery uses: time, process, a counter and the host name."""
    host = socket.gethostname().replace("/", r"\057").replace(":", r"\072") or "localhost"
    now = time.time_ns()
    return f"{now // 1_000_000_000}.M{now // 1000 % 1_000_000}P{os.getpid()}Q{next(_SEQUENCE)}.{host}"


def deliver(root: Path, messages: Sequence[tuple[str, bytes]]) -> None:
    """Write each ``(key, raw)`` to ``root/new/key`` durably (see the module's text)."""
    if not messages:
        return
    written: list[int] = []
    try:
        for key, raw in messages:
            fd = os.open(root / "tmp" / key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            written.append(fd)
            view = memoryview(raw)
            while view:
                view = view[os.write(fd, view) :]
        list(_syncers().map(os.fsync, written))
    finally:
        for fd in written:
            os.close(fd)
    for key, _raw in messages:
        os.rename(root / "tmp" / key, root / "new" / key)
    _fsync_dir(root / "new")


@functools.cache
def _syncers() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(SYNC_THREADS, thread_name_prefix="maildir-fsync")


def present(root: Path, keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` are in ``new/`` or ``cur/`` (with any info suffix)."""
    wanted = set(keys)
    found: set[str] = set()
    for sub in ("new", "cur"):
        try:
            names = os.listdir(root / sub)
        except FileNotFoundError:
            continue
        found.update(name.partition(":")[0] for name in names)
    return wanted & found


def discard_temporary(root: Path, keys: Iterable[str]) -> None:
    """Remove what a delivery cut short left in ``tmp/``."""
    for key in keys:
        try:
            os.unlink(root / "tmp" / key)
        except FileNotFoundError:
            pass


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
