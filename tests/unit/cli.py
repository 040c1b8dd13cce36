"""Running the ``mailbag`` command in tests: a clean environment, and a pseudo-terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import mailbag as package

#: The source the tests import, so the command run is the code under test.
SOURCE = Path(package.__file__).resolve().parents[1]


def environment(home: Path) -> dict[str, str]:
    """A clean environment whose XDG directories are under ``home``."""
    return {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(SOURCE),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_STATE_HOME": str(home / "state"),
    }


def mailbag(*args: str, env_home: Path) -> subprocess.CompletedProcess[str]:
    """Run ``mailbag ARGS`` without a terminal (stdin and stdout are pipes)."""
    return subprocess.run(
        [sys.executable, "-m", "mailbag", *args],
        capture_output=True, text=True, env=environment(env_home), timeout=60,
    )


class Terminal:
    """A pseudo-terminal for a child process; what the child writes is read (and kept) at once,
    so the child never blocks on a full terminal."""

    def __init__(self) -> None:
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.output = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    def close(self) -> None:
        os.close(self.slave)
        os.close(self.master)


def run_in_terminal(*args: str, env: dict[str, str], prefix: Sequence[str] = ()) -> tuple[int, str]:
    """Run ``mailbag ARGS`` (after the ``prefix`` command, if any) on a terminal until it ends by
    itself: its exit status and all it wrote to the terminal. The wait is bounded only so that a
    regression cannot hang the run."""
    terminal = Terminal()
    child = subprocess.Popen(
        [*prefix, sys.executable, "-m", "mailbag", *args],
        stdin=terminal.slave, stdout=terminal.slave, stderr=terminal.slave,
        env=env | {"TERM": "xterm-256color"}, start_new_session=True,
    )
    try:
        status = child.wait(timeout=60)
        for _ in range(100):  # the last bytes may still be on their way through the terminal
            seen = len(terminal.output)
            time.sleep(0.02)
            if len(terminal.output) == seen:
                break
        return status, terminal.output.decode("utf-8", "replace")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        terminal.close()
