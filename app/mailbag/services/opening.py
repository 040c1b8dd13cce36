"""Opening an attachment with its program, from a private copy.

The attachment is written to a folder of its own made by ``mkdtemp`` (0700) in mailbag's runtime
folder (:func:`mailbag.paths.runtime_dir`), under a name with no character a shell would treat
specially, and the program (:func:`mailbag.services.viewers.find_viewer`) is started with an
argument list, never through a shell. A program that needs the terminal runs in the foreground
(the app hands the terminal over meanwhile) and its copy is removed when it ends; a desktop
program is started on its own, and its copy is removed when mailbag quits. A copy's folder,
``open-PID-XXXXXXXX``, names the process that made it, so the copies of a mailbag that was killed
are removed by the next one's :func:`remove_left_copies`.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import IO

from mailbag.domain.mime import safe_filename
from mailbag.paths import FILE_MODE, process_running, runtime_dir
from mailbag.services.viewers import Viewer

log = logging.getLogger(__name__)

#: A copy for a program that opens an attachment; one for the editor (never removed by another
#: process: an editor that outlived a killed mailbag may still have the only text).
OPEN, EDIT = "open", "edit"
_LEFT_COPY = re.compile(r"open-(?P<pid>[0-9]+)-.+")
_INERT = re.compile(r"[^\w.+-]")
_copies: list[Path] = []  # folders of copies still open in a desktop program


class OpenFailed(Exception):
    """The program could not be started; the message says why, for the status bar."""


def private_copy(name: str, data: bytes, kind: str = OPEN) -> Path:
    """``data`` in a new private folder, under ``name`` made plain; returns the file's path."""
    folder = Path(tempfile.mkdtemp(prefix=f"{kind}-{os.getpid()}-", dir=_copies_dir()))  # mode 0700
    plain = re.sub("_+", "_", _INERT.sub("_", safe_filename(name))).strip("_")
    path = folder / (plain or "attachment")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    return path


def _copies_dir() -> Path | None:
    """The runtime folder; None (the temporary folder) when it cannot be had."""
    try:
        return runtime_dir()
    except OSError as exc:
        log.warning("copies to open go to the temporary folder: %s", exc)
        return None


def remove_left_copies() -> int:
    """Remove the copies that mailbags no longer running left for desktop programs (killed
    before they could); how many. Only ``open-PID-...`` folders of the runtime folder."""
    try:
        folder = runtime_dir(create=False)  # none yet: nothing was left
        names = os.listdir(folder)
    except OSError:
        return 0
    removed = 0
    for name in names:
        match = _LEFT_COPY.fullmatch(name)
        if match is None or int(match["pid"]) == os.getpid() or process_running(int(match["pid"])):
            continue
        shutil.rmtree(folder / name, ignore_errors=True)
        removed += 1
    if removed:
        log.info("removed %d copies left by mailbags that were killed", removed)
    return removed


def remove_copy(path: Path) -> None:
    """Remove a copy made by :func:`private_copy`, with its folder."""
    shutil.rmtree(path.parent, ignore_errors=True)


def start_detached(viewer: Viewer, path: Path) -> subprocess.Popen[bytes]:
    """Start a desktop program on its own (no terminal, its own session); the copy stays until
    mailbag quits. The caller may wait for it to learn its exit status."""
    try:
        with _input(viewer, path) as stdin:
            process = subprocess.Popen(
                list(viewer.argv), stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
    except OSError as exc:
        remove_copy(path)
        raise OpenFailed(f"cannot run {viewer.name}: {exc.strerror or exc}") from None
    _copies.append(path.parent)
    return process


def run_in_foreground(viewer: Viewer, path: Path, pager: str = "") -> int:
    """Run a text-mode program on the terminal and wait for it (call with the app suspended);
    a ``copiousoutput`` program's output goes through ``pager`` (default $PAGER, else less).
    Returns its exit status; the copy is removed."""
    try:
        with _input(viewer, path) as stdin:
            if not viewer.copious_output:
                return subprocess.run(list(viewer.argv), stdin=stdin, check=False).returncode
            return _through_pager(viewer, stdin, pager_command(pager))
    except OSError as exc:
        raise OpenFailed(f"cannot run {viewer.name}: {exc.strerror or exc}") from None
    finally:
        remove_copy(path)


def pager_command(configured: str = "") -> list[str]:
    """The pager, as an argument list: ``configured``, else $PAGER, else less."""
    return shlex.split(configured or os.environ.get("PAGER") or "less")


def _through_pager(viewer: Viewer, stdin: int | IO[bytes], pager: list[str]) -> int:
    program = subprocess.Popen(list(viewer.argv), stdin=stdin, stdout=subprocess.PIPE)
    assert program.stdout is not None
    try:
        shown = subprocess.run(pager, stdin=program.stdout, check=False)
    finally:
        program.stdout.close()
        status = program.wait()
    return status or shown.returncode


class _input:
    """The program's standard input: the copy itself when the command does not name it."""

    def __init__(self, viewer: Viewer, path: Path) -> None:
        self._file = open(path, "rb") if viewer.reads_stdin else None  # noqa: SIM115

    def __enter__(self) -> int | IO[bytes]:
        return self._file if self._file is not None else subprocess.DEVNULL

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()


@atexit.register
def _remove_copies() -> None:
    for folder in _copies:
        shutil.rmtree(folder, ignore_errors=True)
