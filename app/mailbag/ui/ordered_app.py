"""What mailbag's two Textual apps (the client and the setup screens) have in common: input from
the terminal handled in the order it was typed, and the theme variables of mailbag's themes."""

from __future__ import annotations

from textual import events
from textual.app import App, ReturnType

from mailbag.ui.key_order import KeyHandled, KeyOrder
from mailbag.ui.themes import variable_defaults


class OrderedApp(App[ReturnType]):
    """An app whose keys and mouse buttons are handled one at a time, in order (see
    :class:`KeyOrder`): a burst acts as the same input typed slowly would."""

    def __init__(self) -> None:
        super().__init__()
        self._keys = KeyOrder(self, super().on_event)

    def takes_input(self) -> bool:
        """Whether keys and mouse buttons from the terminal are handled now (an app that is
        quitting drops them)."""
        return True

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown, events.MouseUp)) and not event.is_forwarded:
            if self.takes_input():
                await self._keys.arrived(event)
            return
        await super().on_event(event)

    async def on_key_handled(self, message: KeyHandled) -> None:
        await self._keys.handled(message)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return variable_defaults()
