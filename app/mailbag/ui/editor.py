"""The user's own editor for a message body: the app is suspended while it runs.

The text goes to a private copy (:func:`mailbag.services.opening.private_copy`: a file 0600 in a
folder of its own, 0700) and is read back when the editor exits; both are removed then. The command is the config's ``ui.editor``, else $VISUAL,
else $EDITOR, else ``vi``. Suspending hands the terminal over as it was before the app started,
so this works over SSH and in tmux as any full-screen program does.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from textual.app import App

from mailbag.services.opening import EDIT, private_copy, remove_copy
from mailbag.ui.terminal import with_terminal


class EditorFailed(Exception):
    """The editor could not be run or exited with an error: the text is kept as it was."""


def editor_command(configured: str = "") -> list[str]:
    """The editor to run, as an argument list."""
    command = configured or os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    return shlex.split(command)


def edit_text(app: App[object], text: str, command: list[str]) -> str:
    """Run ``command`` on a file holding ``text``; return the text the user saved."""
    path = private_copy("message.eml", text.encode("utf-8"), EDIT)  # .eml: editors choose their mail mode
    try:
        status = with_terminal(app, lambda: _run(command, path))
        if status != 0:
            name = os.path.basename(command[0]) if command else "the editor"
            raise EditorFailed(f"{name} exited with status {status}; the text was not changed")
        return path.read_text(encoding="utf-8", errors="replace")
    finally:
        remove_copy(path)


def _run(command: list[str], path: Path) -> int:
    try:
        return subprocess.run([*command, str(path)], check=False).returncode
    except OSError as exc:
        raise EditorFailed(f"cannot run {shlex.join(command)}: {exc.strerror or exc}") from None
