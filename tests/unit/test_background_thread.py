"""The account workers' thread gives way to the UI's when the cores are busy: it runs at a lower
CPU priority, and so do the threads and processes it starts (Linux, where each thread has one)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading

import pytest

from mailbag.services.loop_thread import BACKGROUND_NICENESS, LoopThread

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priorities are Linux's")


def _niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


async def _seen_from_the_loop() -> tuple[int, int, int]:
    """The priority of the loop's thread, of a thread its executor runs, and of a process it starts."""
    in_executor = await asyncio.to_thread(_niceness)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import os; print(os.getpriority(os.PRIO_PROCESS, 0))",
        stdout=subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    return _niceness(), in_executor, int(out)


def test_a_background_loop_thread_and_what_it_starts_run_below_the_rest_of_the_process() -> None:
    ours = _niceness()
    background = LoopThread("test-background", background=True)
    background.start()
    try:
        seen = background.run(_seen_from_the_loop()).result(30)
    finally:
        background.stop(5)
    assert seen == (min(19, ours + BACKGROUND_NICENESS),) * 3
    assert _niceness() == ours  # the caller's thread is left as it was


def test_a_loop_thread_not_made_background_keeps_the_process_priority() -> None:
    ours = _niceness()
    plain = LoopThread("test-plain")
    plain.start()
    try:
        seen = plain.run(_seen_from_the_loop()).result(30)
    finally:
        plain.stop(5)
    assert seen == (ours,) * 3
