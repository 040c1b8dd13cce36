"""A big POP3 download in a process of its own, so that none of its work (TLS, the Maildir writes,
reading the headers) holds the UI's interpreter (its GIL).

The parent (:func:`download_in_child`) starts ``python -m mailbag.services.pop3_child`` and writes
the job to its stdin as one frame (a length, then the pickled job, the password with it: never
on the command line, in the environment or in a log). The child logs in on a session of its own,
lists the messages again, and downloads those of the job the local store does not know yet, as
the worker does (``pop3_batches``: the local store's records and the Maildir files are the
child's to write), then deletes from the server what is due (``delete_due``). Each batch stored is reported on stdout as a frame
(``{"batch": n, "delivered": [(key, summary), ...]}``) for the parent to bring into the cache; a
failure is a frame naming its kind (``{"error": "link", "message": ...}``).

In the full-screen client the child reads the headers too (the UI's interpreter does nothing
but the cache). ``mailbag sync`` has no UI to keep free: there the job says ``summarise=False``,
the child reports only the keys (``{"batch": n, "keys": [...]}``), and the parent reads the
headers from the files just written (in the page cache) while the child fetches the next batch,
so that the work is shared between two cores. The child stops at
once when its stdin closes (the parent is gone); one killed at any point leaves what the worker
finishes on its next start (see ``Pop3Account._settle``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import struct
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailbag.protocols.maildir import delivered_summaries
from mailbag.protocols.pop3.client import Pop3Client, Pop3Settings
from mailbag.protocols.pop3.errors import Pop3Error, Pop3LinkLost, Pop3LoginRefused, Pop3MessageFailed
from mailbag.protocols.pop3.errors import Pop3Refused, Pop3Temporary
from mailbag.services.child_env import (
    CHILD_NICENESS, POP3_CHILD, exit_when_parent_goes, failure_word, helper_process, said,
)
from mailbag.services.pop3_batches import (
    Delivered, Keeping, delete_due, download_batches, not_here, to_compare, vanished,
)
from mailbag.store.local import LocalStore

log = logging.getLogger(__name__)

_LENGTH = struct.Struct("!Q")


@dataclass(frozen=True)
class ChildJob:
    """What the child is to download: the messages ``uidls`` of ``account``'s server into the
    Maildir folder ``inbox``, recording them in the local store at ``local``."""

    account: str
    settings: Pop3Settings
    inbox: str
    local: str
    uidls: list[str]
    #: Whether the child reads the headers (for the cache) and runs in the background (behind a
    #: UI), or leaves the headers to the parent and runs at its priority (``mailbag sync``).
    summarise: bool = True
    #: What is due for deletion on the server once the download is over (the child sends the
    #: DELEs, in its session).
    keeping: Keeping = Keeping()


class ChildDownloadFailed(Pop3Error):
    """The child ended without a word of why (killed, crashed)."""


def _frame(value: object) -> bytes:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


# --- the parent's side --------------------------------------------------------------------


async def download_in_child(
    job: ChildJob,
    on_batch: Callable[[int, Delivered], Awaitable[None]],
    on_start: Callable[[asyncio.subprocess.Process], None] | None = None,
) -> None:
    """Run ``job`` in a child process; ``on_batch(listed, delivered)`` for each batch it has
    stored. Raises the child's failure as the POP3 error of its kind (a local fault as
    ``OSError``); the child is killed if this is cancelled."""
    failure: dict[str, str] | None = None
    async with helper_process(POP3_CHILD) as (proc, stderr):
        if on_start is not None:
            on_start(proc)
        assert proc.stdin is not None and proc.stdout is not None
        # Its fields, not the job: in the child this module is __main__, and ChildJob another class.
        try:
            proc.stdin.write(_frame(
                (job.account, job.settings, job.inbox, job.local, job.uidls, job.summarise, job.keeping)
            ))
            await proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            raise ChildDownloadFailed("the download process ended before it had its job") from None
        frames: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        reading = asyncio.create_task(_read_frames(proc.stdout, frames))
        try:
            ended = False
            while not ended:
                came = [await frames.get()]
                while not frames.empty():  # what came while the last ones were taken care of
                    came.append(frames.get_nowait())
                if None in came:  # the child is done
                    ended = True
                    came = came[: came.index(None)]
                for message in merged([m for m in came if m is not None]):
                    if "keys" in message:  # the headers are read here
                        delivered = await asyncio.to_thread(
                            delivered_summaries, Path(job.inbox), message["keys"], time.time()
                        )
                        await on_batch(int(message["batch"]), delivered)
                    elif "batch" in message:
                        await on_batch(int(message["batch"]), message["delivered"])
                    elif "error" in message:
                        failure = message
        finally:
            reading.cancel()
        code = await proc.wait()
    if failure is not None:
        raise _as_exception(failure)
    if code != 0:
        log.warning("pop3 %s: the download process exited %s: %s", job.account, code, said(stderr))
        raise ChildDownloadFailed(f"the download was cut short (exit status {code})")


async def _read_frames(stdout: asyncio.StreamReader, into: asyncio.Queue[dict[str, Any] | None]) -> None:
    """Put each frame the child writes into ``into`` as it comes; then None, once the child has
    closed its stdout (or was killed in the middle of a frame)."""
    try:
        while head := await stdout.read(_LENGTH.size):
            if len(head) < _LENGTH.size:
                head += await stdout.readexactly(_LENGTH.size - len(head))
            (length,) = _LENGTH.unpack(head)
            into.put_nowait(pickle.loads(await stdout.readexactly(length)))
    except asyncio.IncompleteReadError:
        pass  # killed part-way: told by its exit status
    finally:
        into.put_nowait(None)


def merged(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``messages`` with each run of batches of one kind (summaries, or keys) made one batch, so
    that batches that came while the parent was busy (a UI drawing) cost it one cache write."""
    out: list[dict[str, Any]] = []
    for message in messages:
        last = out[-1] if out else None
        kind = "keys" if "keys" in message else "delivered"
        if last is not None and "batch" in message and "batch" in last and kind in last:
            out[-1] = {"batch": last["batch"] + message["batch"], kind: last[kind] + message[kind]}
        else:
            out.append(message)
    return out


def _as_exception(failure: dict[str, str]) -> Exception:
    kind, message = failure["error"], failure.get("message", "")
    if kind == "bug":
        log.error("the download process failed: %s", failure.get("detail", message))
    if kind == "link" and failure.get("uidl"):
        return Pop3MessageFailed(message, 0, failure["uidl"])
    errors: dict[str, Callable[[str], Exception]] = {
        "auth": Pop3LoginRefused, "link": Pop3LinkLost, "temporary": Pop3Temporary, "refused": Pop3Refused,
        "local": OSError,
    }
    return errors.get(kind, ChildDownloadFailed)(message)


# --- the child's side ---------------------------------------------------------------------


def main() -> int:
    """Read the job from stdin, run it, report on stdout; exit when stdin closes."""
    logging.getLogger().addHandler(logging.NullHandler())  # never a log line on a terminal
    logging.lastResort = None
    (length,) = _LENGTH.unpack(_read_exactly(_LENGTH.size))
    job = ChildJob(*pickle.loads(_read_exactly(length)))
    if job.summarise:  # background work for a UI, which goes first when the cores are busy
        os.nice(CHILD_NICENESS)
    threading.Thread(target=exit_when_parent_goes, daemon=True).start()
    try:
        asyncio.run(_run(job))
    except Exception as exc:  # noqa: BLE001 - told to the parent, which logs it
        word = failure_word(exc, _KINDS)
        if isinstance(exc, Pop3MessageFailed):
            word["uidl"] = exc.uidl  # the message the link failed on
        _say(word)
        return 1
    return 0


#: The kinds of failure the parent tells apart (see ``_as_exception``), subclasses first.
_KINDS = ((Pop3LoginRefused, "auth"), (Pop3LinkLost, "link"), (Pop3Temporary, "temporary"), (Pop3Error, "refused"))


def _read_exactly(size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = os.read(sys.stdin.fileno(), size - len(data))  # raw: nothing read ahead of the job
        if not chunk:
            raise SystemExit(1)  # the parent went before the job came
        data += chunk
    return data


def _say(message: Mapping[str, object]) -> None:
    sys.stdout.buffer.write(_frame(message))
    sys.stdout.buffer.flush()


async def _run(job: ChildJob) -> None:
    local = LocalStore.open(Path(job.local))
    try:
        client = await Pop3Client.open(job.settings)
        try:
            listing = await client.list_messages()
            known = await asyncio.to_thread(local.pop3_downloads, job.account)
            wanted = set(job.uidls)
            todo = [m for m in listing if m.uidl in wanted and not_here(m, known)]

            async def report(listed: int, delivered: Delivered) -> None:
                if job.summarise:
                    _say({"batch": listed, "delivered": delivered})
                else:
                    _say({"batch": listed, "keys": [key for key, _none in delivered]})

            await download_batches(
                client, todo, Path(job.inbox), local, job.account, report, summarise=job.summarise,
                known_by_digest=vanished(listing, known), compare=to_compare(listing, known),
            )
            await delete_due(client, listing, local, job.account, job.keeping)
        finally:
            client.abort()
    finally:
        local.close()


if __name__ == "__main__":
    sys.exit(main())
