"""What the helper processes mailbag starts (``python -m mailbag.services...``) share."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import sys
import traceback
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import mailbag

#: How much lower a helper process's CPU priority is than mailbag's.
CHILD_NICENESS = 10
#: What a helper's stderr may hold that is kept for the log (the end of it).
STDERR_KEPT = 4000


def child_environment() -> dict[str, str]:
    """This process's environment, with this mailbag importable in a ``python -m`` child."""
    package_root = str(Path(mailbag.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    return env


async def stderr_tail(stream: asyncio.StreamReader) -> str:
    """The end of what a helper wrote to its stderr (a pipe: never the terminal the UI draws on)."""
    kept = b""
    while chunk := await stream.read(65536):
        kept = (kept + chunk)[-STDERR_KEPT:]
    return kept.decode("utf-8", "replace")


def exit_when_parent_goes() -> None:
    """In a helper, on a daemon thread once the job is read: the parent holds our stdin; when it
    closes (the parent quit or died), stop at once."""
    while os.read(sys.stdin.fileno(), 4096):  # raw reads: no lock a daemon thread could hold
        pass
    os._exit(1)


@contextlib.asynccontextmanager
async def helper_process(module: str) -> AsyncIterator[tuple[asyncio.subprocess.Process, asyncio.Task[str]]]:
    """``python -m module`` with its stdin, stdout and stderr on pipes, and the task that keeps the
    end of its stderr. On the way out the helper is killed if it still runs (the work was cut
    short or cancelled), waited for, and its stdin closed; the stderr task is done by then (or
    cancelled after a second)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", module,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=child_environment(),
    )
    assert proc.stdin is not None and proc.stderr is not None
    stderr = asyncio.create_task(stderr_tail(proc.stderr))
    try:
        yield proc, stderr
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        proc.stdin.close()
        await asyncio.wait({stderr}, timeout=1.0)
        stderr.cancel()
        await asyncio.gather(stderr, return_exceptions=True)


def said(stderr: asyncio.Task[str]) -> str:
    """What a helper ended by :func:`helper_process` wrote to its stderr (its end)."""
    return "" if stderr.cancelled() else stderr.result()


def failure_word(exc: BaseException, kinds: Sequence[tuple[type[BaseException], str]]) -> dict[str, str]:
    """What a helper tells its parent of the failure ``exc``: the kind of the first of ``kinds``
    it is (so list subclasses first), ``local`` for a cache or file fault, else ``bug`` with the
    end of its traceback for the parent's log."""
    message = str(exc)[:300] or type(exc).__name__
    for kind_of, kind in kinds:
        if isinstance(exc, kind_of):
            return {"error": kind, "message": message, "detail": ""}
    if isinstance(exc, (sqlite3.Error, OSError)):
        return {"error": "local", "message": message, "detail": ""}
    return {"error": "bug", "message": message, "detail": "".join(traceback.format_exception(exc))[-STDERR_KEPT:]}
