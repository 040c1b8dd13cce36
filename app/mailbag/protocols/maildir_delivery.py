"""Durable delivery into a Maildir folder (a POP3 account's Inbox), as a mail transfer agent does it.

A batch of messages is written to ``tmp/``, made durable together, and renamed into ``new/``
under unique names (the Maildir keys); then the ``new/`` directory is fsynced, so that a message
reported delivered survives a crash or a power cut. Files are mode 0600.

On Linux the batch is made durable by one ``syncfs(2)`` of the file system it is on, which
writes what is pending there and waits for it (the file system commits its journal once for
the whole batch, where an fsync per file makes it commit again and again; each file creation
then waits for those commits). Elsewhere each file is fsynced, eight at a time.
"""

from __future__ import annotations

import ctypes
import functools
import itertools
import os
import socket
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mailbag.paths import sync_dir

_SEQUENCE = itertools.count(1)
#: How many files of a batch are fsynced at once where there is no syncfs.
SYNC_THREADS = 8


def new_key() -> str:
    """A Maildir key no other delivery uses: time, process, a counter and the host name."""
    now = time.time_ns()
    return f"{now // 1_000_000_000}.M{now // 1000 % 1_000_000}P{os.getpid()}Q{next(_SEQUENCE)}.{_host()}"


@functools.cache
def _host() -> str:
    """The host name as a key holds it (asked once: a download makes thousands of keys)."""
    return socket.gethostname().replace("/", r"\057").replace(":", r"\072") or "localhost"


def deliver(root: Path, messages: Sequence[tuple[str, bytes]]) -> None:
    """Write each ``(key, raw)`` to ``root/new/key`` durably (see the module's text)."""
    if not messages:
        return
    tmp, new = os.path.join(root, "tmp"), os.path.join(root, "new")  # strings: no Path per file
    written: list[int] = []
    try:
        for key, raw in messages:
            fd = os.open(os.path.join(tmp, key), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            written.append(fd)
            view = memoryview(raw)
            while view:
                view = view[os.write(fd, view) :]
        _make_durable(written)
    finally:
        for fd in written:
            os.close(fd)
    for key, _raw in messages:
        os.rename(os.path.join(tmp, key), os.path.join(new, key))
    sync_dir(Path(new))


def _make_durable(files: Sequence[int]) -> None:
    """Return once the data of every open file in ``files`` is on disk."""
    syncfs = _syncfs()
    if syncfs is not None:
        if syncfs(files[0]) != 0:
            number = ctypes.get_errno()
            raise OSError(number, f"syncfs: {os.strerror(number)}")
        return
    list(_syncers().map(os.fsync, files))


@functools.cache
def _syncfs() -> Callable[[int], int] | None:
    """The C library's syncfs, where there is one (Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return function


@functools.cache
def _syncers() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(SYNC_THREADS, thread_name_prefix="maildir-fsync")


def present(root: Path, keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` are in ``new/`` or ``cur/`` (with any info suffix)."""
    return set(locate(root, keys))


def locate(root: Path, keys: Iterable[str]) -> dict[str, Path]:
    """The file of each of ``keys`` that is in ``new/`` or ``cur/`` (with any info suffix)."""
    wanted = set(keys)
    found: dict[str, Path] = {}
    for sub in ("new", "cur"):
        try:
            names = os.listdir(root / sub)
        except FileNotFoundError:
            continue
        for name in names:
            key = name.partition(":")[0]
            if key in wanted:
                found[key] = root / sub / name
    return found


def discard_temporary(root: Path, keys: Iterable[str]) -> None:
    """Remove what a delivery cut short left in ``tmp/``."""
    for key in keys:
        try:
            os.unlink(root / "tmp" / key)
        except FileNotFoundError:
            pass
