"""A program in a detached tmux pane on a private socket: start it, read the screen, type, measure.

The pane runs the program with ``exec`` so the pane's pid is the program's own pid, whose peak
RSS is read from ``/proc/<pid>/status`` (VmHWM).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

POLL = 0.01


class Pane:
    """One tmux server with one session of ``width`` x ``height`` and ``escape-time 0``."""

    _serial = 0

    def __init__(self, command: Sequence[str], env: Mapping[str, str], *, width: int = 80,
                 height: int = 24, cwd: Path | None = None) -> None:
        Pane._serial += 1
        self.socket = f"mailbag-bench-{os.getpid()}-{Pane._serial}"
        self.env = {**env, "TERM": "xterm-256color"}
        self.env.pop("TMUX", None)
        self.started = time.perf_counter()
        shell = f"cd {shlex.quote(str(cwd or Path.cwd()))} && exec {shlex.join(command)}"
        self._tmux("-f", "/dev/null", "new-session", "-d", "-x", str(width), "-y", str(height),
                   "-s", "bench", shell, ";", "set-option", "-g", "escape-time", "0", check=True)
        self.pid = int(self._tmux("display-message", "-p", "-t", "bench", "#{pane_pid}").strip() or 0)

    def _tmux(self, *args: str, check: bool = False) -> str:
        result = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                                env=self.env, check=check)
        return result.stdout

    def screen(self) -> str:
        """The visible text of the pane."""
        return self._tmux("capture-pane", "-p", "-t", "bench")

    def alive(self) -> bool:
        return bool(self._tmux("list-sessions"))

    def send(self, *keys: str) -> None:
        """Type keys (tmux key names, e.g. ``"G"``, ``"Enter"``)."""
        self._tmux("send-keys", "-t", "bench", *keys)

    def wait_for(self, ready: Callable[[str], bool], timeout: float, what: str) -> float:
        """Poll the screen until ``ready(screen)``; seconds since ``mark()`` (or the start)."""
        while True:
            screen = self.screen()
            if ready(screen):
                return time.perf_counter() - self.started
            if time.perf_counter() - self.started > timeout:
                raise TimeoutError(f"no {what} within {timeout:g} s; the screen:\n{screen}")
            if not self.alive():
                raise RuntimeError(f"the program exited before showing {what}")
            time.sleep(POLL)

    def mark(self) -> None:
        """Restart the clock that ``wait_for`` reports against."""
        self.started = time.perf_counter()

    def peak_rss_mb(self) -> float:
        return peak_rss_mb(self.pid)

    def close(self, quit_keys: Sequence[str] = ()) -> None:
        if quit_keys and self.alive():
            self.send(*quit_keys)
            deadline = time.perf_counter() + 3
            while self.alive() and time.perf_counter() < deadline:
                time.sleep(0.05)
        self._tmux("kill-server")

    def __enter__(self) -> Pane:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def peak_rss_mb(pid: int) -> float:
    """VmHWM of ``pid`` in MB (NaN when the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return float("nan")
