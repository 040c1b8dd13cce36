"""mailbag's entries in the system keyring (service ``mailbag``): passwords and OAuth2 refresh
tokens, read and written here only. Blocking: call off the UI's loop. ``keyring`` is imported
on first use (it is slow to import and not needed to start)."""

from __future__ import annotations

KEYRING_SERVICE = "mailbag"
#: What is said where there is no keyring to use (keyring's own words name Python packages).
NO_KEYRING = (
    "there is no system keyring on this machine (no Secret Service, KWallet or Keychain is running;"
    " a machine reached over SSH often has none)"
)


class KeyringFailed(Exception):
    """The keyring could not be read or written; the message says why (never the secret)."""


def missing() -> str | None:
    """Why the keyring cannot be used here (:data:`NO_KEYRING`), or None when it can."""
    import keyring
    from keyring.backends import fail

    return NO_KEYRING if isinstance(keyring.get_keyring(), fail.Keyring) else None


def read_entry(user: str) -> str | None:
    """The secret kept under ``user``; None when there is no such entry."""
    import keyring
    from keyring.errors import KeyringError, NoKeyringError

    try:
        return keyring.get_password(KEYRING_SERVICE, user)
    except NoKeyringError:
        raise KeyringFailed(NO_KEYRING) from None
    except KeyringError as exc:
        raise KeyringFailed(str(exc)) from None


def write_entry(user: str, secret: str) -> None:
    """Keep ``secret`` under ``user``, replacing what was there."""
    import keyring
    from keyring.errors import KeyringError, NoKeyringError

    try:
        keyring.set_password(KEYRING_SERVICE, user, secret)
    except NoKeyringError:
        raise KeyringFailed(NO_KEYRING) from None
    except KeyringError as exc:
        raise KeyringFailed(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - a backend's own errors (D-Bus, a locked collection)
        raise KeyringFailed(f"{type(exc).__name__}: {exc}") from None
