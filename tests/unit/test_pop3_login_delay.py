"""The server's LOGIN-DELAY (RFC 2449) as the client reads it from CAPA: seconds, or None when
it names no number of seconds."""

from __future__ import annotations

import pytest

from mailbag.protocols.pop3.client import Pop3Client, Pop3Settings


def client_offering(capabilities: dict[str, str]) -> Pop3Client:
    client = Pop3Client(Pop3Settings(host="pop.example.test", port=995, security="tls", username="me", password="pw"))
    client.capabilities = capabilities
    return client


@pytest.mark.parametrize(
    ("args", "seconds"),
    [("900", 900), ("600 USER", 600), ("0", 0), ("", None), ("x", None), ("-5", None), ("1.5", None),
     ("\u00b2", None)],
)
def test_login_delay_is_read_once_as_seconds(args: str, seconds: int | None) -> None:
    assert client_offering({"LOGIN-DELAY": args}).login_delay == seconds


def test_a_server_without_login_delay_has_none() -> None:
    assert client_offering({"UIDL": "", "PIPELINING": ""}).login_delay is None
