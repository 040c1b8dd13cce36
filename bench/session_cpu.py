"""The CPU time a server spends, read from /proc: every process of its session (the processes
running now, and those that ended, through the times their parents took on when they reaped
them)."""

from __future__ import annotations

import os
from pathlib import Path


def session_cpu_seconds(session: int) -> float:
    """User and system CPU seconds of every process of ``session`` so far (Linux)."""
    ticks = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        # Past the command's name (in parentheses, which may hold anything): state, ppid, pgrp,
        # session, ...; utime, stime, cutime and cstime are fields 14 to 17 (proc(5)).
        fields = stat.rpartition(")")[2].split()
        if int(fields[3]) == session:
            ticks += sum(int(field) for field in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")
