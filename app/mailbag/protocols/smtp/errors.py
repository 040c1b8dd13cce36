"""What can go wrong handing a message to an SMTP server, by what the outbox does about it."""

from __future__ import annotations


class SmtpError(Exception):
    """A send that did not end with the server taking the message; ``str()`` says why in one line."""

    def __init__(self, reason: str, code: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class SmtpTemporary(SmtpError):
    """Not sent, try again later: a 4xx reply, a server that cannot be reached, a link lost before
    the message was handed over, or a TLS that could not be set up."""


class SmtpPermanent(SmtpError):
    """Not sent, and the same message would be refused again: a 5xx reply (a recipient, the
    sender, the content), or a message the server cannot take as it is."""


class SmtpAuthFailed(SmtpError):
    """The login was refused: retrying on a timer would lock the account."""


class SmtpUncertain(SmtpError):
    """The link was lost after the message was handed over: it may have gone out."""
