"""A program in a detached tmux pane on a private socket: start it, read the screen, type, measure.

The pane runs the program with ``exec`` so the pane's pid is the program's own pid, whose peak
RSS is read from ``/proc/<pid>/status`` (VmHWM).
"""

from __future__ import annotations

import os
import select
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


class Control:
    """A tmux control-mode client on a :class:`Pane`'s session: types keys, reads the screen
    with its styles, and notes when the program's output reaches tmux, with no process started
    per poll (each ``capture-pane`` of :class:`Pane` costs a fork, which would skew timings)."""

    def __init__(self, pane: Pane) -> None:
        pane._tmux("set-option", "-g", "window-size", "manual")  # the client must not resize it
        self._proc = subprocess.Popen(["tmux", "-L", pane.socket, "-C", "attach", "-t", "bench"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=pane.env)
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._in = self._proc.stdin
        self._fd = self._proc.stdout.fileno()
        self._buffer = b""
        self.outputs: list[float] = []  # when each %output notification arrived
        self._command()  # the attach's own reply

    def send(self, *keys: str) -> float:
        """Type keys; returns when they were handed to tmux (perf_counter)."""
        sent = time.perf_counter()
        self._command("send-keys -t bench " + " ".join(shlex.quote(k) for k in keys))
        return sent

    def screen(self) -> tuple[str, float]:
        """The pane's text with its styles (``capture-pane -e``), and the arrival time of the last
        output tmux had received before it drew that text (0.0 when there was none)."""
        lines, last_output = self._command("capture-pane -p -e -t bench")
        return "\n".join(lines), last_output

    def wait_output(self, after: float, timeout: float) -> bool:
        """Wait until output that arrived after ``after`` has been seen; False on timeout."""
        deadline = time.perf_counter() + timeout
        while not (self.outputs and self.outputs[-1] > after):
            left = deadline - time.perf_counter()
            if left <= 0 or not self._read(left):
                return False
        return True

    def close(self) -> None:
        try:
            self._in.close()
        except OSError:
            pass
        try:
            self._proc.wait(3)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def _command(self, command: str | None = None) -> tuple[list[str], float]:
        """Send ``command`` (None: only read the next reply) and read its reply block."""
        if command is not None:
            self._in.write(command.encode() + b"\n")
            self._in.flush()
        body: list[str] = []
        last_output = 0.0
        inside = False
        while True:
            line = self._line()
            if line.startswith(b"%begin"):
                inside = True
                last_output = self.outputs[-1] if self.outputs else 0.0
            elif inside and (line.startswith(b"%end") or line.startswith(b"%error")):
                return body, last_output
            elif inside:
                body.append(line.decode("utf-8", "replace"))

    def _line(self) -> bytes:
        while b"\n" not in self._buffer:
            if not self._read(30.0):
                raise TimeoutError("tmux control client: no answer within 30 s")
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _read(self, timeout: float) -> bool:
        """Read what tmux sent within ``timeout``; %output lines are noted (and dropped)."""
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if not ready:
            return False
        now = time.perf_counter()
        data = os.read(self._fd, 1 << 20)
        if not data:
            raise RuntimeError("the tmux control client ended")
        *lines, partial = (self._buffer + data).split(b"\n")
        kept = b""
        for line in lines:
            if line.startswith(b"%output "):
                self.outputs.append(now)
            else:
                kept += line + b"\n"
        self._buffer = kept + partial
        return True
