"""Files on this machine when mailbag is killed (a real SIGKILL) while it writes them: a saved
attachment is whole under its name or not there at all, and the name is free for the next try."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import mailbag as package
from mailbag.services.saving import save_as_new

SIZE = 256 << 20  # written for long enough that the kill lands while it is


def _killed_while_saving(folder: Path, name: str) -> None:
    """Start a process that saves ``SIZE`` bytes as ``name`` into ``folder``; SIGKILL it as soon
    as anything shows in the folder."""
    script = textwrap.dedent(f"""
        from pathlib import Path
        from mailbag.services.saving import save_as_new
        save_as_new(Path({str(folder)!r}), {name!r}, b"x" * {SIZE})
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(package.__file__).parents[1])}
    child = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        while not os.listdir(folder):
            assert child.poll() is None, "the save ended before anything showed"
        child.send_signal(signal.SIGKILL)
    finally:
        assert child.wait(30) == -signal.SIGKILL


def test_an_attachment_save_killed_midway_leaves_no_part_under_its_name(tmp_path: Path) -> None:
    folder = tmp_path / "Downloads"
    folder.mkdir()
    _killed_while_saving(folder, "report.pdf")
    assert not (folder / "report.pdf").exists()  # never a torn file the user would open
    assert save_as_new(folder, "report.pdf", b"%PDF whole") == folder / "report.pdf"
    assert (folder / "report.pdf").read_bytes() == b"%PDF whole"
