"""A helper process started ahead of its job (``mailbag sync``'s POP3 download process, started
while mailbag imports and opens its cache): the next helper of its module is that process, and
one no job took is ended, not left behind."""

from __future__ import annotations

import asyncio

from mailbag.services import child_env
from mailbag.services.child_env import POP3_CHILD, drop_spares, helper_process, start_ahead


def running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


async def test_the_next_helper_of_the_module_is_the_one_started_ahead() -> None:
    await start_ahead(POP3_CHILD)
    ahead = child_env._spares[POP3_CHILD][1]
    try:
        async with helper_process(POP3_CHILD) as (proc, _stderr):
            assert proc is ahead and proc.returncode is None
            assert proc.stdin is not None
            proc.stdin.close()  # no job: it ends
            assert await asyncio.wait_for(proc.wait(), 30) == 1
        assert POP3_CHILD not in child_env._spares
        async with helper_process(POP3_CHILD) as (other, _stderr):  # none ahead now: a new one
            assert other.pid != ahead.pid
    finally:
        await drop_spares()


async def test_one_no_job_took_is_ended_and_waited_for() -> None:
    await start_ahead(POP3_CHILD)
    await start_ahead(POP3_CHILD)  # one at a time
    pid = child_env._spares[POP3_CHILD][1].pid
    await drop_spares()
    assert not child_env._spares
    assert not running(pid)


async def test_one_that_died_meanwhile_is_not_handed_out() -> None:
    await start_ahead(POP3_CHILD)
    ahead = child_env._spares[POP3_CHILD][1]
    ahead.kill()
    await ahead.wait()
    async with helper_process(POP3_CHILD) as (proc, _stderr):
        assert proc.pid != ahead.pid and proc.returncode is None
    await drop_spares()
