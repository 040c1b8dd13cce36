"""What can go wrong talking to a POP3 server, by what the downloader does about it."""

from __future__ import annotations


class Pop3Error(Exception):
    """A POP3 failure; ``str()`` says why in one line (never the password)."""


class Pop3LoginRefused(Pop3Error):
    """The server refused the user name or password: retrying on a timer would lock the account."""


class Pop3Temporary(Pop3Error):
    """The server said not now (``[IN-USE]``, ``[SYS/TEMP]``, or a ``-ERR`` to a login that may
    pass later): try again after a while."""


class Pop3LinkLost(Pop3Error):
    """The link failed: no answer in time, closed, TLS could not be set up or was refused, or the
    server said something no POP3 server says (a line without end, a message over the limit)."""


class Pop3MessageFailed(Pop3LinkLost):
    """The link failed while message ``number`` (``uidl``, where the caller knows it) was being
    read: a server that fails on one message every time would hold up every message after it."""

    def __init__(self, message: str, number: int, uidl: str = "") -> None:
        super().__init__(message)
        self.number = number
        self.uidl = uidl


class Pop3Refused(Pop3Error):
    """A command other than the login was answered ``-ERR`` (a message that is gone, ...)."""
