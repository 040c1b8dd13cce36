"""What the setup screens may ask of the service layer (the UI imports this, never the network
code behind it): find the servers, try the logins, save the account. Each answers with a future
the UI awaits with ``asyncio.wrap_future``; the work runs on a thread of its own."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path
from typing import Protocol

from mailbag.domain.config import Config
from mailbag.domain.discovery import Found
from mailbag.domain.new_account import NewAccount


class SetupError(Exception):
    """The account cannot be added as it is; ``problems`` says why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class SetupFacade(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...

    def find(self, address: str) -> concurrent.futures.Future[Found]:
        """The servers found for ``address``."""
        ...

    def check(
        self, path: Path, account: NewAccount, typed_password: str | None, typed_smtp: str | None = None
    ) -> concurrent.futures.Future[None]:
        """Whether the account would make a valid config at ``path`` and its logins work
        (SetupError otherwise). ``typed_password``: the password typed for the keyring;
        ``typed_smtp``: the SMTP server's, when it has one of its own."""
        ...

    def save(
        self, path: Path, account: NewAccount, typed_password: str | None, typed_smtp: str | None = None
    ) -> concurrent.futures.Future[Config]:
        """Store the typed passwords in the keyring and write the config with the account added."""
        ...

    def keyring_missing(self) -> concurrent.futures.Future[str | None]:
        """Why there is no system keyring to keep a password in, or None when there is one."""
        ...
