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

#: The module a POP3 download process runs (see ``pop3_child``).
POP3_CHILD = "mailbag.services.pop3_child"
#: How much lower a helper process's CPU priority is than that of the thread that starts it (the
#: account workers' thread, itself below the UI's: see ``loop_thread``).
CHILD_NICENESS = 10
#: What a helper's stderr may hold that is kept for the log (the end of it).
STDERR_KEPT = 4000

#: Helpers started ahead of their job (see :func:`start_ahead`): module -> (the event loop it
#: was started in, the process).
_spares: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.subprocess.Process]] = {}


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


async def _start(module: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", module,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=child_environment(),
    )


async def start_ahead(module: str) -> None:
    """Start ``python -m module`` now, before its job is known, so that its interpreter starts
    and imports while this process does other work (its own imports, a first session); the
    next :func:`helper_process` of ``module`` in this event loop takes it. One never taken is
    ended by :func:`drop_spares` (its stdin closes before a job came: it exits)."""
    if module not in _spares:
        _spares[module] = (asyncio.get_running_loop(), await _start(module))


async def drop_spares() -> None:
    """End the helpers started ahead that no job took (see :func:`start_ahead`)."""
    for module, (loop, proc) in list(_spares.items()):
        if loop is not asyncio.get_running_loop():
            continue
        del _spares[module]
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 5.0)
        except TimeoutError:
            proc.kill()
            await proc.wait()


def _spare(module: str) -> asyncio.subprocess.Process | None:
    """The helper of ``module`` started ahead in this event loop, if it still runs."""
    spare = _spares.get(module)
    if spare is None or spare[0] is not asyncio.get_running_loop():
        return None
    del _spares[module]
    proc = spare[1]
    if proc.returncode is None:
        return proc
    return None


@contextlib.asynccontextmanager
async def helper_process(module: str) -> AsyncIterator[tuple[asyncio.subprocess.Process, asyncio.Task[str]]]:
    """``python -m module`` with its stdin, stdout and stderr on pipes (one started ahead, if
    there is one: see :func:`start_ahead`), and the task that keeps the
    end of its stderr. On the way out the helper is killed if it still runs (the work was cut
    short or cancelled), waited for, and its stdin closed; the stderr task is done by then (or
    cancelled after a second)."""
    proc = _spare(module) or await _start(module)
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
