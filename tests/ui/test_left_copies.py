"""The copy of an attachment a desktop program opened stays while mailbag runs; when mailbag is
killed (SIGKILL: no handler runs) the next start removes it, and nothing else."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from mailbag import paths
from tests.killing import first_line_then_kill
from tests.ui.conftest import settle

ROOT = Path(__file__).resolve().parents[2]

#: Opens an attachment as the attachments screen does, with a desktop program, then waits.
CHILD = textwrap.dedent(
    """
    import time
    from mailbag.services.opening import private_copy, start_detached
    from mailbag.services.viewers import Viewer

    path = private_copy("report-q1.pdf", b"%PDF secret figures")
    start_detached(Viewer(("true", str(path))), path).wait()
    print(path, flush=True)
    time.sleep(3600)
    """
)


async def test_the_next_start_removes_the_copies_a_killed_mailbag_left(make_app) -> None:
    copy = Path(first_line_then_kill(CHILD, dict(os.environ, PYTHONPATH=str(ROOT / "app"))).decode().strip())
    assert copy.read_bytes() == b"%PDF secret figures"  # the kill left it
    runtime = paths.runtime_dir()
    assert copy.parent.parent == runtime
    alive = runtime / f"open-{os.getppid()}-kept"  # a mailbag still running (its process lives)
    edited = runtime / "edit-999999999-text"  # an editor may still have the only text
    for folder in (alive, edited):
        folder.mkdir()
        (folder / "file").write_text("in use")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
    assert not copy.parent.exists()
    assert sorted(p.name for p in runtime.iterdir()) == sorted([alive.name, edited.name])
