"""Piping a message to a command, as mutt's ``|`` does.

The command is the user's own, typed at the prompt, so it runs through the user's shell
($SHELL, else /bin/sh) with the message's bytes on its standard input. Either its output is
captured (it runs in a session of its own, away from the terminal) and summed up for the status
bar, or it is given the terminal (the app suspended) for a pager or another interactive program.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from dataclasses import dataclass

from mailbag.domain.sanitize import clean_line

#: How much of a captured output is kept (its end: the last lines say most).
_KEEP_OUTPUT = 64 * 1024


@dataclass(frozen=True, slots=True)
class PipeResult:
    """How a piped command ended: its exit status and the end of what it printed."""

    status: int
    output: str = ""

    def summary(self) -> str:
        """One line for the status bar: the last line printed, and the status when not 0."""
        lines = [clean_line(line) for line in self.output.splitlines()]
        last = next((line for line in reversed(lines) if line), "")
        if self.status == 0:
            return f"Piped: {last}" if last else "Piped: done, no output"
        ended = f"killed by signal {-self.status}" if self.status < 0 else f"exit status {self.status}"
        return f"Piped: {ended}" + (f": {last}" if last else "")


async def end_session(proc: asyncio.subprocess.Process) -> None:
    """Kill a command started in a session of its own, with all it started (its process
    group), unless it has ended, and reap it."""
    if proc.returncode is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass  # the group is gone already
    await proc.wait()


def shell_argv(command: str) -> list[str]:
    """``command`` as the user's shell runs it."""
    return [os.environ.get("SHELL") or "/bin/sh", "-c", command]


def pipe_captured(command: str, data: bytes) -> PipeResult:
    """Run ``command`` with ``data`` on its input; its output and errors are captured. Blocking:
    call it from a thread."""
    try:
        done = subprocess.run(
            shell_argv(command), input=data, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True, check=False,
        )
    except OSError as exc:
        return PipeResult(127, f"cannot run the shell: {exc.strerror or exc}")
    output = done.stdout[-_KEEP_OUTPUT:].decode("utf-8", errors="replace")
    return PipeResult(done.returncode, output)


def pipe_on_terminal(command: str, data: bytes) -> PipeResult:
    """Run ``command`` with ``data`` on its input and the terminal for the rest (call with the
    app suspended)."""
    try:
        done = subprocess.run(shell_argv(command), input=data, check=False)
    except OSError as exc:
        return PipeResult(127, f"cannot run the shell: {exc.strerror or exc}")
    return PipeResult(done.returncode)
