"""Errors raised by the IMAP client."""

from __future__ import annotations


class ImapError(Exception):
    """The server refused a command (NO / BAD); the message is sanitized server text, its
    response code (``code``, upper case, "" for none) in plain words."""

    def __init__(self, message: object = "", code: str = "") -> None:
        super().__init__(message)
        self.code = code


class ImapConnectionError(ImapError):
    """The link failed: network, TLS, certificate, timeout, or the server went away."""


class ImapAuthError(ImapError):
    """The server refused the login (user name or password), or allows none on this link."""


class ImapUnavailable(ImapConnectionError):
    """The server cannot check a login now (``NO [UNAVAILABLE]`` or ``[INUSE]``, RFC 5530: its
    password database is down, the mailbox is locked): tried again later, as after a lost link,
    never taken for a refused password."""


class ImapSessionEnded(ImapConnectionError):
    """The server ended the session because the selected folder was deleted or renamed under it
    by another client (Dovecot: ``* BYE IMAP session state is inconsistent, please relogin.``):
    nothing is wrong with the link, and a new session can start at once."""
