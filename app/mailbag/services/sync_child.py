"""The bulk of a first sync in a process of its own: fetch, parse and cache the summaries of a
folder's older messages, so that none of that work holds the UI's interpreter (its GIL).

The parent (:func:`fetch_in_child`) starts ``python -m mailbag.services.sync_child`` and writes
one JSON line to its stdin: the job, with the password (never on the command line, in the
environment or in a log). The child logs in on a connection of its own, SELECTs the folder,
checks its UIDVALIDITY, fetches the UIDs it was given newest first in chunks, writes them to the
cache file, and reports each chunk once its rows are written (``{"done": n}``); a failure is one
line naming its kind (``{"error": "link", "message": ...}``). It exits when its stdin closes (the
parent is gone), and the parent kills it when it stops. A child that dies leaves the folder
marked incomplete, so the next sync finishes it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from mailbag.domain.models import MessageSummary
from mailbag.protocols.imap import ImapAuthError, ImapConnectionError, ImapError, ImapSettings
from mailbag.services.child_env import CHILD_NICENESS, exit_when_parent_goes, failure_word, helper_process, said

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class ChildJob:
    """What the child is to fetch: ``uids`` of ``folder`` (ascending) under ``uidvalidity``."""

    account: str
    folder: str
    uidvalidity: int
    uids: list[int]
    cache: str
    chunk: int
    batch: int


class ChildSyncFailed(ImapError):
    """The child ended without a word of why (killed, crashed): the folder stays incomplete."""


class FolderChanged(ImapError):
    """The child found the folder under another UIDVALIDITY (recreated on the server)."""


# --- the parent's side --------------------------------------------------------------------


async def fetch_in_child(
    job: ChildJob,
    settings: ImapSettings,
    on_done: Callable[[int], Awaitable[None]],
    on_start: Callable[[asyncio.subprocess.Process], None] | None = None,
) -> None:
    """Run ``job`` in a child process; ``on_done(n)`` after each chunk it has written (``n``
    summaries in all so far). Raises the child's failure as the IMAP error of its kind (a cache
    fault as ``sqlite3.OperationalError``); the child is killed if this is cancelled."""
    failure: dict[str, str] | None = None
    async with helper_process("mailbag.services.sync_child") as (proc, stderr):
        if on_start is not None:
            on_start(proc)
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(_job_line(job, settings))
        await proc.stdin.drain()
        async for line in proc.stdout:
            message = json.loads(line)
            if "done" in message:
                await on_done(int(message["done"]))
            elif "error" in message:
                failure = message
        code = await proc.wait()
    if failure is not None:
        raise _as_exception(failure)
    if code != 0:
        log.warning("%s/%s: the sync process exited %s: %s", job.account, job.folder, code, said(stderr))
        raise ChildSyncFailed(f"the sync of {job.folder} was cut short (exit status {code})")


def _job_line(job: ChildJob, settings: ImapSettings) -> bytes:
    fields = asdict(job)
    fields["uids"] = list(_ranges(job.uids))
    fields["imap"] = {
        "host": settings.host, "port": settings.port, "security": settings.security,
        "username": settings.username, "ca_file": settings.ca_file, "timeout": settings.timeout,
        "tls_fingerprint": settings.tls_fingerprint,
        "oauth2": settings.oauth2, "auth_mechanism": settings.auth_mechanism,
    }
    fields["password"] = settings.password
    return json.dumps(fields).encode() + b"\n"


def _as_exception(failure: dict[str, str]) -> Exception:
    kind, message = failure["error"], failure.get("message", "")
    if kind == "bug":
        log.error("the sync process failed: %s", failure.get("detail", message))
    errors: dict[str, Callable[[str], Exception]] = {
        "auth": ImapAuthError, "link": ImapConnectionError, "refused": ImapError,
        "recreated": FolderChanged, "local": sqlite3.OperationalError,
    }
    return errors.get(kind, ChildSyncFailed)(message)


def _ranges(uids: Sequence[int]) -> Iterator[list[int]]:
    """Ascending ``uids`` as [first, last] runs (a folder's UIDs are mostly one run)."""
    start = prev = None
    for uid in uids:
        if prev is not None and uid == prev + 1:
            prev = uid
            continue
        if start is not None and prev is not None:
            yield [start, prev]
        start = prev = uid
    if start is not None and prev is not None:
        yield [start, prev]


def _expand(runs: Sequence[Sequence[int]]) -> list[int]:
    return [uid for first, last in runs for uid in range(first, last + 1)]


# --- the child's side ---------------------------------------------------------------------


def main() -> int:
    """Read the job from stdin, run it, report on stdout; exit when stdin closes."""
    logging.getLogger().addHandler(logging.NullHandler())  # never a log line on a terminal
    # Background work: the UI (and the terminal it draws on) go first when the cores are busy.
    os.nice(CHILD_NICENESS)
    logging.lastResort = None
    fields = json.loads(sys.stdin.buffer.readline())
    threading.Thread(target=exit_when_parent_goes, daemon=True).start()
    password = fields.pop("password")
    imap = fields.pop("imap")
    fields["uids"] = _expand(fields["uids"])
    job = ChildJob(**fields)
    settings = ImapSettings(password=password, **imap)
    try:
        asyncio.run(_run(job, settings))
    except Exception as exc:  # noqa: BLE001 - told to the parent, which logs it
        _say(failure_word(exc, _KINDS))
        return 1
    return 0


#: The kinds of failure the parent tells apart (see ``_as_exception``), subclasses first.
_KINDS = ((ImapAuthError, "auth"), (FolderChanged, "recreated"), (ImapConnectionError, "link"), (ImapError, "refused"))


def _say(message: Mapping[str, object]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def _run(job: ChildJob, settings: ImapSettings) -> None:
    from functools import partial

    from mailbag.protocols.imap import ImapClient
    from mailbag.services.cache_writer import CacheWriter
    from mailbag.store.store import Store

    store = Store.open(Path(job.cache))
    client = ImapClient(settings, job.account)
    try:
        await client.connect()
        selected = await client.select(job.folder)
        if selected.uidvalidity != job.uidvalidity:
            raise FolderChanged(f"{job.folder} was recreated on the server")

        async def write(batch: Sequence[MessageSummary]) -> int:
            return await asyncio.to_thread(store.upsert_summaries, job.account, job.folder, batch)

        writer = CacheWriter(write)
        try:
            done = 0
            for end in range(len(job.uids), 0, -job.chunk):
                chunk = job.uids[max(0, end - job.chunk) : end]
                async for batch in client.fetch_summaries(chunk, batch_size=job.batch):
                    await writer.put(batch)
                done += len(chunk)
                await writer.then(partial(_say, {"done": done}))
            await writer.close()
        finally:
            await writer.abort()
    finally:
        await client.logout()
        store.close()


if __name__ == "__main__":
    sys.exit(main())
