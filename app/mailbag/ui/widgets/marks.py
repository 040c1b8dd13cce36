"""A radio button and a check box whose marks say their state without colour (Textual's differ by
colour alone, which a terminal of 16 colours, or none, may not show): ● chosen, ○ not; X ticked,
a space not."""

from __future__ import annotations

from textual.content import ContentText
from textual.widgets import Checkbox, RadioButton


class MarkedRadioButton(RadioButton):
    """A radio button marked ● when chosen, ○ when not."""

    def __init__(self, label: ContentText = "", value: bool = False, *, id: str | None = None) -> None:
        super().__init__(label, value, id=id)
        self._mark()

    def watch_value(self) -> None:
        super().watch_value()
        self._mark()

    def _mark(self) -> None:
        self.BUTTON_INNER = "●" if self.value else "○"


class MarkedCheckbox(Checkbox):
    """A check box marked X when ticked, blank when not."""

    def __init__(self, label: ContentText = "", value: bool = False, *, id: str | None = None,
                 compact: bool = False) -> None:
        super().__init__(label, value, id=id, compact=compact)
        self._mark()

    def watch_value(self) -> None:
        super().watch_value()
        self._mark()

    def _mark(self) -> None:
        self.BUTTON_INNER = "X" if self.value else " "
