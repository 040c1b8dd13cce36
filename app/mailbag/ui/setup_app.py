"""The setup application: adds accounts to the config file (``mailbag setup``, or ``mailbag``
with no config yet). Its result is the names of the accounts written (none when cancelled)."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.app import App

from mailbag.services.setup_api import SetupFacade
from mailbag.ui.key_order import KeyHandled, KeyOrder
from mailbag.ui.screens.setup import AddressScreen, SetupState
from mailbag.ui.themes import choose_theme, load_themes, variable_defaults


class SetupApp(App[list[str]]):
    """The setup screens over ``service`` (started on mount, stopped on unmount), writing to
    the config file at ``path``; ``taken`` are the account names the file has already."""

    CSS_PATH = "screens/setup.tcss"
    TITLE = "mailbag setup"

    def __init__(self, path: Path, service: SetupFacade, *, taken: list[str] | None = None,
                 theme: str = "mailbag-dark") -> None:
        super().__init__()
        themes = load_themes()
        chosen = themes.get(theme) or choose_theme("mailbag-dark", themes)
        self.register_theme(chosen)
        self.theme = chosen.name
        self.service = service
        self.state = SetupState(path=path, service=service, taken=list(taken or []))
        self._keys = KeyOrder(self, super().on_event)

    async def on_event(self, event: events.Event) -> None:
        """Keys are handled one at a time, in order (see KeyOrder): a burst fills each field
        as the same keys typed slowly would."""
        if isinstance(event, events.Key) and not event.is_forwarded:
            await self._keys.arrived(event)
            return
        await super().on_event(event)

    async def on_key_handled(self, message: KeyHandled) -> None:
        await self._keys.handled(message)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return variable_defaults()

    async def on_mount(self) -> None:
        self.service.start()
        await self.push_screen(AddressScreen(self.state))

    def on_unmount(self) -> None:
        self.service.stop()
