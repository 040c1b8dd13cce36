"""A failed TLS handshake is told as one (with what a plain-text answer usually means), and is
never taken for a fault of the disk or the cache: the TLS library's error number, 1, is EPERM's."""

from __future__ import annotations

import errno
import ssl
from pathlib import Path

from mailbag.protocols.pop3.errors import Pop3LinkLost
from mailbag.protocols.tls import tls_failed
from mailbag.services.failures import Failure, classify_common
from mailbag.store.cache_file import cache_problem


def handshake_error(reason: str) -> ssl.SSLError:
    error = ssl.SSLError(1, f"[SSL: {reason}] {reason.lower()} (_ssl.c:1006)")
    error.reason = reason
    return error


def test_a_plain_text_answer_says_what_to_set() -> None:
    text = tls_failed("mail.example:143", handshake_error("WRONG_VERSION_NUMBER"))
    assert text == ('TLS with mail.example:143 failed: the server did not answer in TLS (WRONG_VERSION_NUMBER);'
                    ' is this a port for STARTTLS? then security = "starttls"')
    assert tls_failed("mail.example:993", handshake_error("CERTIFICATE_VERIFY_FAILED")) == (
        "TLS with mail.example:993 failed: CERTIFICATE_VERIFY_FAILED"
    )


def test_a_server_that_speaks_only_an_old_tls_is_told_so() -> None:
    assert tls_failed("pop.example:995", handshake_error("TLSV1_ALERT_PROTOCOL_VERSION")) == (
        "TLS with pop.example:995 failed: the server speaks only TLS older than 1.2, which mailbag does not"
        " use (not safe any more; TLSV1_ALERT_PROTOCOL_VERSION); its provider has to update it"
    )
    assert "offers no cipher mailbag takes" in tls_failed("pop.example:995", handshake_error("SSLV3_ALERT_HANDSHAKE_FAILURE"))


def test_a_tls_failure_is_no_cache_problem_also_when_raised_in_place_of_the_tls_error(tmp_path: Path) -> None:
    assert handshake_error("WRONG_VERSION_NUMBER").errno == errno.EPERM
    try:
        try:
            raise handshake_error("WRONG_VERSION_NUMBER")
        except ssl.SSLError:
            raise Pop3LinkLost("TLS with mail.example:110 failed") from None
    except Pop3LinkLost as exc:
        assert cache_problem(exc, tmp_path / "cache.sqlite3") is None
    assert cache_problem(handshake_error("WRONG_VERSION_NUMBER"), tmp_path / "cache.sqlite3") is None
    # A disk's own EPERM still is one.
    denied = PermissionError(errno.EPERM, "Operation not permitted")
    assert cache_problem(denied, tmp_path / "cache.sqlite3") is not None


def test_a_tls_failure_is_a_link_failure() -> None:
    assert classify_common(handshake_error("WRONG_VERSION_NUMBER")) is Failure.LINK
    assert classify_common(PermissionError(errno.EPERM, "Operation not permitted")) is Failure.LOCAL
