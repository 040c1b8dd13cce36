"""Handing the terminal to another program (an editor, a viewer, a piped command).

The app is suspended while the program runs, which gives the terminal back as it was before the
app started, so this works over SSH and in tmux as any full-screen program does. Call it on the
UI's thread: the screen waits for the program.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from textual.app import App, SuspendNotSupported

T = TypeVar("T")


def with_terminal(app: App[object], run: Callable[[], T]) -> T:
    """Call ``run`` with the app suspended; its result. The screen is painted again after."""
    try:
        with app.suspend():
            result = run()
    except SuspendNotSupported:  # no terminal to hand over (a headless test run)
        result = run()
    app.refresh(repaint=True, layout=True)
    return result
