"""Saving from the screen: where to, and asking before a file is replaced.

The bytes are read and written in a thread; when the name is taken, the user chooses to
replace the file, keep both (the new one saved as ``name (1)``), or not save it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import platformdirs
from textual.screen import Screen

from mailbag.services.saving import NameTaken, SaveError, numbered, save_as_new, save_file
from mailbag.ui.screens.dialogs import ChoiceDialog

#: Tells the user what happened: (text, is an error).
Tell = Callable[[str, bool], None]


class SaveFolder:
    """The folder offered for saving: the last one used, else Downloads, else home."""

    def __init__(self) -> None:
        self._last: str | None = None

    @property
    def shown(self) -> str:
        """As the prompt shows it: ``~/Downloads/``."""
        if self._last is None:
            downloads = platformdirs.user_downloads_dir()
            self._last = downloads if os.path.isdir(downloads) else os.path.expanduser("~")
        home = os.path.expanduser("~")
        folder = self._last
        if folder == home or folder.startswith(home + os.sep):
            folder = "~" + folder[len(home):]
        return folder.rstrip(os.sep) + os.sep

    def chosen(self, typed: str) -> Path:
        """The folder typed at the prompt, remembered for next time."""
        path = Path(os.path.expanduser(typed or "."))
        self._last = str(path.absolute())
        return path


def save_bytes(
    screen: Screen[Any], folder: Path, read: Callable[[], tuple[str, bytes]], tell: Tell
) -> None:
    """Save what ``read`` gives (a name and the bytes; called in a thread) into ``folder``,
    asking before a file of that name is replaced."""
    app = screen.app

    def first_try() -> None:
        try:
            name, data = read()
        except (ValueError, LookupError, OSError) as exc:
            app.call_from_thread(tell, f"Not saved: {exc}", True)
            return
        attempt(name, data, "new")

    def attempt(name: str, data: bytes, how: str) -> None:
        try:
            if how == "keep":
                path = save_as_new(folder, name, data)
            else:
                path = save_file(folder, name, data, overwrite=how == "replace")
        except NameTaken as taken:
            app.call_from_thread(ask, taken.name, data)
            return
        except SaveError as exc:
            app.call_from_thread(tell, f"Not saved: {exc}", True)
            return
        app.call_from_thread(tell, f"Saved {path} ({len(data)} bytes)", False)

    def ask(name: str, data: bytes) -> None:
        def answered(how: str | None) -> None:
            if how is None:
                tell(f"Not saved: {name} exists in {folder}", False)
            else:
                screen.run_worker(lambda: attempt(name, data, how), thread=True, group="save")

        choices = (("r", "replace", "replace it"), ("k", "keep", f"keep both ({numbered(name, 1)})"))
        app.push_screen(ChoiceDialog(f"{name} exists in {folder}", choices), answered)

    screen.run_worker(first_try, thread=True, group="save")
