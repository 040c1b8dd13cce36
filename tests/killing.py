"""Killing a child process for good (SIGKILL: no handler, no atexit runs), as a crash would."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def first_line_then_kill(script: str, env: Mapping[str, str], cwd: Path | None = None) -> bytes:
    """Run ``script`` in a Python child, read the first line it prints (it prints once it is at
    the point to be killed), SIGKILL it and return that line."""
    child = subprocess.Popen([sys.executable, "-c", script], env=dict(env), stdout=subprocess.PIPE, cwd=cwd)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=60) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return line


async def kill_once(args: list[str], env: Mapping[str, str], moment: asyncio.Event, seconds: float = 60) -> None:
    """Run ``python args...`` in a child and SIGKILL it as soon as ``moment`` is set."""
    child = subprocess.Popen([sys.executable, *args], env=dict(env))
    try:
        await asyncio.wait_for(moment.wait(), seconds)
        child.send_signal(signal.SIGKILL)
        assert await asyncio.to_thread(child.wait, 30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
