"""Summaries of downloaded messages made in a process of their own, so that reading the headers of
a big POP3 download does not hold the interpreter (its GIL) the UI runs in.

The parent (:class:`SummaryProcess`) starts ``python -m mailbag.services.summary_process`` (at a
lower CPU priority) for a download and ends it after. Each batch goes to the child's stdin as one
frame (a length, then the pickled messages) and its summaries come back the same way on its
stdout. The child writes nothing anywhere else, so one that dies costs only time: the parent
makes the summaries itself from then on. The child exits when its stdin closes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import struct
import sys
from collections.abc import Sequence
from typing import BinaryIO

from mailbag.domain.models import MessageSummary
from mailbag.protocols.maildir import summary_of
from mailbag.services.child_env import CHILD_NICENESS, child_environment, stderr_tail

log = logging.getLogger(__name__)

_LENGTH = struct.Struct("!Q")


def summaries(raws: Sequence[bytes], received: float) -> list[MessageSummary | None]:
    """The summary of each message (UID 0, no flags; None for one without a header field)."""
    return [summary_of(raw, 0, frozenset(), received) for raw in raws]


def _frame(value: object) -> bytes:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


class SummaryProcess:
    """A child process that makes summaries; :meth:`close` ends it."""

    def __init__(self) -> None:
        self._proc: asyncio.subprocess.Process | None = None
        self._failed = False
        self._turn = asyncio.Lock()  # one batch at a time on the pipes
        self._stderr: asyncio.Task[str] | None = None  # the end of what the child wrote there

    async def summaries(self, raws: Sequence[bytes], received: float) -> list[MessageSummary | None]:
        """As :func:`summaries`, in the child; in a thread here once the child is gone."""
        async with self._turn:
            if not self._failed:
                try:
                    return await self._ask(raws, received)
                except (OSError, EOFError, asyncio.IncompleteReadError, pickle.UnpicklingError) as exc:
                    said = await self._said()
                    log.warning("the summary process failed (%s): summaries are made here; it said: %s", exc, said)
                    self._failed = True
                    self.close()
        return await asyncio.to_thread(summaries, raws, received)

    async def _ask(self, raws: Sequence[bytes], received: float) -> list[MessageSummary | None]:
        if self._proc is None:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "mailbag.services.summary_process",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                env=child_environment(),
            )
            assert self._proc.stderr is not None
            self._stderr = asyncio.create_task(stderr_tail(self._proc.stderr))
        proc = self._proc
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(_frame((list(raws), received)))
        await proc.stdin.drain()
        (length,) = _LENGTH.unpack(await proc.stdout.readexactly(_LENGTH.size))
        answer = pickle.loads(await proc.stdout.readexactly(length))
        if not isinstance(answer, list) or len(answer) != len(raws):
            raise pickle.UnpicklingError("an answer that does not fit the question")
        return answer

    async def _said(self) -> str:
        """What the child wrote to its stderr, once it has ended (waiting a second at most)."""
        if self._stderr is None:
            return ""
        done, _ = await asyncio.wait({self._stderr}, timeout=1.0)
        return self._stderr.result().strip() if done else ""

    def close(self) -> None:
        """End the child (its stdin closes; it is killed should it linger)."""
        proc, self._proc = self._proc, None
        if self._stderr is not None:
            self._stderr.cancel()
        if proc is None or proc.returncode is not None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        asyncio.get_running_loop().call_later(5.0, _kill, proc)


def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.kill()


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    data = stream.read(size)
    return data if len(data) == size else None


def main() -> int:
    """Answer each frame on stdin with the summaries of its messages, until stdin closes."""
    os.nice(CHILD_NICENESS)
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    while (head := _read_exactly(source, _LENGTH.size)) is not None:
        (length,) = _LENGTH.unpack(head)
        body = _read_exactly(source, length)
        if body is None:
            break
        raws, received = pickle.loads(body)
        sink.write(_frame(summaries(raws, received)))
        sink.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
