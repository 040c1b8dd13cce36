"""The scheduler's backoff and the failure kinds it acts on."""

from __future__ import annotations

import errno
import sqlite3

import pytest

from mailbag.protocols.imap import ImapAuthError, ImapConnectionError, ImapError
from mailbag.services.failures import AuthenticationFailed, Failure, Offline, Refused, classify_common
from mailbag.services.journal import ServerRefused
from mailbag.services.scheduler import Backoff, Timings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


TIMINGS = Timings(backoff_base=1.0, backoff_cap=1000.0, healthy_seconds=60.0)


def test_backoff_grows_while_connections_drop_soon_after_login() -> None:
    """A server that accepts the login and drops the link at once is not hammered: the attempts
    keep counting up across logins."""
    clock = Clock()
    backoff = Backoff(TIMINGS, clock)
    ceilings = []
    for _ in range(6):
        backoff.connected()
        clock.now += 5  # online for 5 s, then the link is lost
        backoff.failed()
        ceilings.append(backoff.attempt)
    assert ceilings == [1, 2, 3, 4, 5, 6]


def test_backoff_starts_again_after_a_healthy_spell() -> None:
    clock = Clock()
    backoff = Backoff(TIMINGS, clock)
    for _ in range(4):
        backoff.failed()
    assert backoff.attempt == 4
    backoff.connected()
    clock.now += 61
    delay = backoff.failed()
    assert backoff.attempt == 1
    assert delay <= 2.0


def test_backoff_delays_stay_under_the_cap() -> None:
    backoff = Backoff(Timings(backoff_base=1.0, backoff_cap=8.0), Clock())
    assert all(0.5 <= backoff.failed() <= 8.0 for _ in range(30))


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (Offline("gone"), Failure.LINK),
        (ConnectionResetError(), Failure.LINK),
        (TimeoutError(), Failure.LINK),
        (AuthenticationFailed("no"), Failure.AUTH),
        (ServerRefused("no"), Failure.REFUSED),
        (Refused("from: needs a value"), Failure.REFUSED),
        (OSError(errno.ENOSPC, "No space left on device"), Failure.LOCAL),
        (sqlite3.OperationalError("database or disk is full"), Failure.LOCAL),
        (KeyError("x"), Failure.BUG),
    ],
)
def test_failure_kinds(error: BaseException, kind: Failure) -> None:
    assert classify_common(error) is kind


def test_a_wrapped_cache_error_is_local() -> None:
    """SQLAlchemy raises its own error from the sqlite3 one."""
    try:
        try:
            raise sqlite3.DatabaseError("database disk image is malformed")
        except sqlite3.DatabaseError as exc:
            raise RuntimeError("(sqlite3.DatabaseError) malformed") from exc
    except RuntimeError as wrapped:
        assert classify_common(wrapped) is Failure.LOCAL


def test_imap_errors_by_kind(tmp_path) -> None:
    from mailbag.domain.config import AccountConfig, ServerConfig
    from mailbag.services.imap_account import FolderRecreated, ImapAccount
    from mailbag.store.store import Store

    server = ServerConfig(host="127.0.0.1", port=1, security="none", username="u", password_env="X")
    store = Store.open(tmp_path / "c.db")
    account = ImapAccount(AccountConfig(name="a", email="a@b", imap=server), store, lambda e: None)
    assert account.classify(ImapAuthError("login failed")) is Failure.AUTH
    assert account.classify(ImapConnectionError("reset")) is Failure.LINK
    assert account.classify(ImapError("SELECT failed: NO")) is Failure.REFUSED
    assert account.classify(FolderRecreated("INBOX")) is Failure.REFUSED
    store.close()
