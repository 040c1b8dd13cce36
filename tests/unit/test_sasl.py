"""The OAuth2 SASL responses byte for byte (RFC 7628 and Google's XOAUTH2), the mechanism chosen
from what a server offers, and what a refusal's error challenge says."""

from __future__ import annotations

import base64
import json

import pytest

from mailbag.protocols import sasl


def decoded(response: str) -> bytes:
    return base64.b64decode(response)


def test_oauthbearer_response_names_the_user_host_port_and_token() -> None:
    response = sasl.initial_response("OAUTHBEARER", "me@example.org", "tok", "imap.example.org", 993)
    assert decoded(response) == b"n,a=me@example.org,\x01host=imap.example.org\x01port=993\x01auth=Bearer tok\x01\x01"


def test_a_comma_or_equals_sign_in_the_user_name_is_escaped_in_the_gs2_header() -> None:
    response = sasl.initial_response("OAUTHBEARER", "a,b=c", "tok", "h", 1)
    assert decoded(response).startswith(b"n,a=a=2Cb=3Dc,\x01")


def test_xoauth2_response() -> None:
    response = sasl.initial_response("XOAUTH2", "me@example.org", "tok", "h", 1)
    assert decoded(response) == b"user=me@example.org\x01auth=Bearer tok\x01\x01"


@pytest.mark.parametrize(
    "offered, forced, chosen",
    [
        (["PLAIN", "XOAUTH2", "OAUTHBEARER"], None, "OAUTHBEARER"),
        (["plain", "xoauth2"], None, "XOAUTH2"),
        (["OAUTHBEARER", "XOAUTH2"], "xoauth2", "XOAUTH2"),
    ],
)
def test_the_mechanism_is_oauthbearer_else_xoauth2_unless_forced(
    offered: list[str], forced: str | None, chosen: str
) -> None:
    assert sasl.choose_mechanism(offered, forced) == chosen


def test_no_mechanism_names_what_the_server_offers() -> None:
    with pytest.raises(sasl.NoOAuthMechanism, match=r"offers no OAUTHBEARER or XOAUTH2 \(offered: LOGIN, PLAIN\)"):
        sasl.choose_mechanism(["PLAIN", "LOGIN"])
    with pytest.raises(sasl.NoOAuthMechanism, match="does not offer OAUTHBEARER"):
        sasl.choose_mechanism(["XOAUTH2"], "OAUTHBEARER")


def test_the_answer_to_an_error_challenge() -> None:
    assert decoded(sasl.failure_reply("OAUTHBEARER")) == b"\x01"  # RFC 7628 3.2.3
    assert sasl.failure_reply("XOAUTH2") == ""


def test_the_error_challenges_status_is_read_and_cleaned() -> None:
    challenge = base64.b64encode(json.dumps({"status": "invalid_token\x1b[2J", "scope": "x"}).encode())
    assert sasl.error_status(challenge) == "invalid_token[2J"
    assert sasl.error_status("not base64 json!") == ""
    assert sasl.error_status(base64.b64encode(b"[" * 100_000)) == ""  # nested too deep for the parser
