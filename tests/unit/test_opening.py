"""A private copy for the program that opens an attachment, and how a text-mode program is run."""

from __future__ import annotations

import shlex
import stat
import sys

from mailbag.services.opening import private_copy, run_in_foreground
from mailbag.services.viewers import Viewer


def writer(out: object) -> list[str]:
    """A program that writes its standard input to ``out``."""
    return [sys.executable, "-c", f"import sys; open({str(out)!r}, 'w').write(sys.stdin.read())"]


def test_the_copy_is_private_and_plainly_named():
    path = private_copy("../$(reboot) ;report\u202e.txt", b"hello\n")
    try:
        assert path.name == "reboot_report.txt" and path.read_bytes() == b"hello\n"
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        path.unlink()
        path.parent.rmdir()


def test_copiousoutput_goes_through_the_pager_and_the_copy_is_removed(tmp_path):
    path = private_copy("notes.txt", b"hello\n")
    out = tmp_path / "paged"
    shout = [sys.executable, "-c", "import sys; print(open(sys.argv[1]).read().upper(), end='')", str(path)]
    viewer = Viewer(tuple(shout), needs_terminal=True, copious_output=True)
    assert run_in_foreground(viewer, path, pager=shlex.join(writer(out))) == 0
    assert out.read_text() == "HELLO\n"
    assert not path.parent.exists()


def test_a_command_without_percent_s_reads_the_file_on_its_input(tmp_path):
    path = private_copy("notes.txt", b"hello\n")
    out = tmp_path / "read"
    viewer = Viewer(tuple(writer(out)), needs_terminal=True, reads_stdin=True)
    assert run_in_foreground(viewer, path) == 0
    assert out.read_text() == "hello\n"
