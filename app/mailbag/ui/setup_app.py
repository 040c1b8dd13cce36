"""The setup application: adds accounts to the config file (``mailbag setup``, or ``mailbag``
with no config yet). Its result is the names of the accounts written (none when cancelled)."""

from __future__ import annotations

from pathlib import Path

from mailbag.services.setup_api import SetupFacade
from mailbag.ui.ordered_app import OrderedApp
from mailbag.ui.screens.setup import AddressScreen, SetupState
from mailbag.ui.themes import choose_theme, load_themes


class SetupApp(OrderedApp[list[str]]):
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

    async def on_mount(self) -> None:
        self.service.start()
        await self.push_screen(AddressScreen(self.state))

    def on_unmount(self) -> None:
        self.service.stop()
