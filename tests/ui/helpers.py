"""Read what the user sees from the widgets."""

from __future__ import annotations

from typing import Any

from rich.style import Style
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from mailbag.ui.app import MailbagApp
from mailbag.ui.widgets.message_list import MessageList


def list_line(app: MailbagApp, index: int) -> tuple[str, Style]:
    """Text and style of message-list row ``index`` as painted (it must be on screen)."""
    widget: MessageList = app.main_screen.message_list
    strip = widget.render_line(index - widget.scroll_offset.y)
    segments = list(strip)
    return "".join(s.text for s in segments), segments[0].style or Style()


def cursor_subject(app: MailbagApp) -> str:
    row = app.main_screen.message_list.current_row
    assert row is not None
    return row.subject


def status_text(app: MailbagApp) -> str:
    return app.main_screen.status.render().plain


def screen_text(app: App[Any]) -> str:
    """The whole screen as the terminal shows it, one line per row."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def cursor_on_folder(pilot: Pilot[Any], account: str, folder: str) -> None:
    """Give the folder tree the focus with its cursor on ``folder`` of ``account``, once the tree
    is laid out with it (under load that can take more than one refresh); the bound only stops
    a test that would otherwise hang."""
    app = pilot.app
    assert isinstance(app, MailbagApp)
    tree = app.main_screen.folder_tree
    tree.focus()
    for _ in range(600):
        if tree.selected_folder() == (account, folder) and app.focused is tree:
            return
        node = tree._folders.get((account, folder))
        if node is not None and node.line >= 0:
            tree.select_folder(account, folder)
        await pilot.pause(0.05)
    raise AssertionError(f"the tree never had its cursor on {folder} of {account}")


def steady_cursors(app: App[Any]) -> None:
    """Stop the blinking of every text cursor on the screen, shown: a picture taken half a
    second after a field got the focus (a busy machine) must not lose its cursor."""
    for field in app.screen.query(Input):
        field.cursor_blink = False
    for area in app.screen.query(TextArea):
        area.cursor_blink = False
