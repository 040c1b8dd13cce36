"""The kinds of failure an account meets, each handled by one policy of the scheduler."""

from __future__ import annotations

import sqlite3
from enum import StrEnum
from typing import TypeVar

from mailbag.protocols.tls import CertificateUntrusted
from mailbag.services.journal import ServerRefused
from mailbag.store.cache_file import disk_fault

E = TypeVar("E", bound=BaseException)


class Offline(Exception):
    """The account is not connected (or its link failed); the request cannot be served now."""


class AuthenticationFailed(Exception):
    """The login was refused, or no password could be had: retrying on a timer will not help."""


class Refused(Exception):
    """What was asked cannot be done as asked (a query that does not parse, a folder that changed
    under it): the request fails with this text, and the account carries on."""


class Unsupported(Exception):
    """This kind of account cannot do what was asked (answered with ``RequestUnsupported``)."""


class Failure(StrEnum):
    """The kinds of failure, each with one policy (see :class:`~mailbag.services.scheduler.Scheduler`)."""

    LINK = "link"  # the connection is gone: reconnect with backoff
    REFUSED = "refused"  # the server said no: roll back, say why, stay connected
    AUTH = "auth"  # login refused: stop, and wait for the user to retry
    # the login to the server an account fetches its mail from (POP3) refused: told as AUTH is,
    # the mail already here is served, nothing is fetched until the user retries
    FETCH_AUTH = "fetch auth"
    # the server an account fetches its mail from (POP3) cannot be reached: the state says so,
    # the mail already here is served, the next check tries again
    FETCH_LINK = "fetch link"
    LOCAL = "local"  # disk or cache: tell, keep data
    BUG = "bug"  # anything else: log the traceback, tell in one line, keep the account alive


def classify_common(exc: BaseException) -> Failure:
    """The failure kinds every backend shares: cache and disk faults, links, refusals."""
    if isinstance(exc, AuthenticationFailed):
        return Failure.AUTH
    if isinstance(exc, (ServerRefused, Refused)):
        return Failure.REFUSED
    if _caused_by(exc, sqlite3.Error):
        return Failure.LOCAL
    if isinstance(exc, OSError) and disk_fault(exc):
        return Failure.LOCAL
    if isinstance(exc, (Offline, OSError, TimeoutError)):
        return Failure.LINK
    return Failure.BUG


def certificate_refusal(exc: BaseException) -> CertificateUntrusted | None:
    """The refusal of a server's certificate that ``exc`` came from, if it did: what to do
    about it is told in the status bar, not only in the log."""
    return _cause_of(exc, CertificateUntrusted)


def local_problem(exc: BaseException, text: str) -> str:
    """How a local failure (:attr:`Failure.LOCAL`) is told: one of the cache, or one of the disk
    (mail that cannot be written to a Maildir: ``disk problem: No space left on device``)."""
    disk = _cause_of(exc, OSError)
    if disk is not None and not _caused_by(exc, sqlite3.Error):
        return f"disk problem: {disk.strerror or text}"
    return f"local cache problem: {text}"


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``exc`` or an exception it was raised from (or wraps, as SQLAlchemy's ``orig``)
    is a ``kind``."""
    return _cause_of(exc, kind) is not None


def _cause_of(exc: BaseException, kind: type[E]) -> E | None:
    """``exc`` or the first exception it was raised from (or wraps) that is a ``kind``."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return None
