"""Where the reader goes: beside the message list ("columns") or below it ("stacked").

The config's ``ui.layout`` chooses; ``auto`` (the default) puts the list beside the reader once
the terminal is wide enough for both (:data:`AUTO_COLUMNS_WIDTH`) and above it otherwise, and
follows the terminal as it is resized. The layout key switches between the two for the rest of
the session. Only a class on the screen changes (``main.tcss`` lays the panes out), so nothing
is built again and the focus stays where it was.
"""

from __future__ import annotations

from textual import events

from mailbag.ui.screens.main.base import MainScreenBase

LAYOUTS = ("auto", "columns", "stacked")
#: ``auto`` puts the list beside the reader from this many columns on: the folders, a list that
#: shows sender and subject, and a reader wide enough for 72-column mail.
AUTO_COLUMNS_WIDTH = 160
#: The main screen's class while the list is beside the reader.
COLUMNS = "-columns"


class LayoutControl(MainScreenBase):
    """The layout setting, applied to the screen's size."""

    def on_resize(self, event: events.Resize) -> None:
        self.apply_layout(event.size.width)

    def apply_layout(self, width: int) -> None:
        """Lay the panes out for a screen ``width`` columns wide."""
        columns = self.pane_layout == "columns" or (self.pane_layout == "auto" and width >= AUTO_COLUMNS_WIDTH)
        self.set_class(columns, COLUMNS)

    def action_toggle_layout(self) -> None:
        """The list beside the reader, or above it (for the rest of the session)."""
        self.pane_layout = "stacked" if self.has_class(COLUMNS) else "columns"
        self.apply_layout(self.size.width)
        where = "beside" if self.pane_layout == "columns" else "above"
        self.status.set_notice(f"Layout: the list {where} the reader")
