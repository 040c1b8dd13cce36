"""mailbag's entries in the system keyring (service ``mailbag``): passwords and OAuth2 refresh
tokens, read and written here only. Blocking: call off the UI's loop. ``keyring`` is imported
on first use (it is slow to import and not needed to start)."""

from __future__ import annotations

KEYRING_SERVICE = "mailbag"


class KeyringFailed(Exception):
    """The keyring could not be read or written; the message says why (never the secret)."""


def read_entry(user: str) -> str | None:
    """The secret kept under ``user``; None when there is no such entry."""
    import keyring
    from keyring.errors import KeyringError

    try:
        return keyring.get_password(KEYRING_SERVICE, user)
    except KeyringError as exc:
        raise KeyringFailed(str(exc)) from None


def write_entry(user: str, secret: str) -> None:
    """Keep ``secret`` under ``user``, replacing what was there."""
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.set_password(KEYRING_SERVICE, user, secret)
    except KeyringError as exc:
        raise KeyringFailed(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - a backend's own errors (D-Bus, a locked collection)
        raise KeyringFailed(f"{type(exc).__name__}: {exc}") from None
