"""The terminal goes away while a message is written (an SSH link drops: SIGHUP), or mailbag is
told to stop (SIGTERM): the draft is on disk with every word typed, and offered at the next start."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.unit.cli import Terminal, environment


def wait_for(terminal: Terminal, child: subprocess.Popen[bytes], text: bytes) -> None:
    """Until the terminal shows ``text`` (bounded only so that a regression cannot hang the run)."""
    for _ in range(3000):
        if text in terminal.output or child.poll() is not None:
            break
        time.sleep(0.02)
    assert text in terminal.output, bytes(terminal.output)[-2000:]


def start(home: Path, terminal: Terminal) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "mailbag"],
        stdin=terminal.slave, stdout=terminal.slave, stderr=terminal.slave,
        env=environment(home) | {"TERM": "xterm-256color"}, start_new_session=True,
    )


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM])
def test_a_draft_is_saved_when_the_terminal_goes_away(tmp_path: Path, signum: int) -> None:
    for sub in ("cur", "new", "tmp"):
        (tmp_path / "Mail" / sub).mkdir(parents=True)
    config = tmp_path / "config" / "mailbag" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'[accounts.home]\nemail = "me@example.org"\nmaildir = "{tmp_path / "Mail"}"\n')
    terminal = Terminal()
    child = start(tmp_path, terminal)
    try:
        wait_for(terminal, child, b"? help")
        os.write(terminal.master, b"c")
        wait_for(terminal, child, b"Subject")
        os.write(terminal.master, b"ann@example.org\t\t\tPlans\tfirst words")
        wait_for(terminal, child, b"first words")
        os.write(terminal.master, b" and the_last_ones")
        wait_for(terminal, child, b"the_last_ones")
        child.send_signal(signum)
        assert child.wait(timeout=60) == 128 + signum
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        terminal.close()
    [saved] = list((tmp_path / "data" / "mailbag" / "drafts").glob("*.json"))
    draft = json.loads(saved.read_text())["draft"]
    assert draft["to"] == "ann@example.org" and draft["subject"] == "Plans"
    assert draft["body"].startswith("first words and the_last_ones")

    terminal = Terminal()
    child = start(tmp_path, terminal)
    try:
        wait_for(terminal, child, b"nor stored in Drafts")
        os.write(terminal.master, b"o")
        wait_for(terminal, child, b"the_last_ones")
    finally:
        child.kill()
        child.wait()
        terminal.close()
