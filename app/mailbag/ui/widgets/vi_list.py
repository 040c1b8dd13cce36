"""An option list that also moves with vi's keys."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import OptionList


class ViOptionList(OptionList):
    """Textual's OptionList (arrows, Home, End, Enter) with ``j`` ``k`` ``g`` ``G`` as well."""

    BINDINGS = [
        Binding("j", "cursor_down", "Next", show=False),
        Binding("k", "cursor_up", "Previous", show=False),
        Binding("g", "first", "First", show=False),
        Binding("G", "last", "Last", show=False),
    ]
