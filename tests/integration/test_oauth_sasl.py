"""OAUTHBEARER and XOAUTH2 logins for IMAP, POP3 and SMTP against scripted servers: the
mechanism picked from what the server offers (or the one the config forces), the user and
token the server receives, and a refused token's error challenge answered as RFC 7628 (and
Google's XOAUTH2) ask, ending in a refused login the user is told about."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mailbag.protocols.imap import ImapAuthError, ImapClient, ImapSettings
from mailbag.protocols.login import ServerLogin
from mailbag.protocols.pop3.client import Pop3Client
from mailbag.protocols.pop3.errors import Pop3LoginRefused
from mailbag.protocols.smtp.client import submit
from mailbag.protocols.smtp.errors import SmtpAuthFailed
from tests.servers.dovecot import DovecotServer
from tests.servers.oauth_script import OAuthImap, OAuthPop3, OAuthScript, OAuthSmtp

pytestmark = pytest.mark.dovecot

Server = OAuthImap | OAuthPop3 | OAuthSmtp
SERVERS: dict[str, type[OAuthImap] | type[OAuthPop3] | type[OAuthSmtp]] = {
    "imap": OAuthImap, "pop3": OAuthPop3, "smtp": OAuthSmtp,
}
REFUSED = (ImapAuthError, Pop3LoginRefused, SmtpAuthFailed)
USER = "me@example.org"


@pytest.fixture
def server(dovecot: DovecotServer, request: pytest.FixtureRequest) -> Iterator[Server]:
    protocol, script = request.param
    scripted = SERVERS[protocol](dovecot, script, tls=True).start()
    yield scripted
    scripted.stop()


async def log_in(server: Server, token: str, mechanism: str | None = None) -> None:
    """Log in to ``server`` with ``token`` as a user would (for SMTP: send a message)."""
    login = ServerLogin(
        host="localhost", port=server.port, security="tls", username=USER, password=token,
        ca_file=server.ca_file, timeout=10.0, oauth2=True, auth_mechanism=mechanism,
    )
    if isinstance(server, OAuthImap):
        client = ImapClient(ImapSettings(
            host=login.host, port=login.port, security="tls", username=USER, password=token,
            ca_file=str(login.ca_file), timeout=10.0, oauth2=True, auth_mechanism=mechanism,
        ), "work")
        await client.connect()
        await client.list_folders()
        await client.logout()
    elif isinstance(server, OAuthPop3):
        pop3 = await Pop3Client.open(login)
        assert await pop3.list_messages() == []
        await pop3.quit()
    else:
        await submit(login, USER, ["you@example.org"], b"Subject: hi\r\n\r\nhello\r\n")


def cases(script: OAuthScript, protocols: tuple[str, ...] = ("imap", "pop3", "smtp")) -> list[object]:
    return [pytest.param((p, script), id=p) for p in protocols]


@pytest.mark.parametrize("server", cases(OAuthScript()), indirect=True)
async def test_oauthbearer_is_preferred_when_both_are_offered(server: Server) -> None:
    await log_in(server, "good-token")

    assert [(x.mechanism, x.user, x.token) for x in server.seen.logins] == [("OAUTHBEARER", USER, "good-token")]
    if isinstance(server, OAuthSmtp):
        assert server.seen.messages == 1


@pytest.mark.parametrize("server", cases(OAuthScript(mechanisms=("PLAIN", "XOAUTH2"))), indirect=True)
async def test_xoauth2_when_it_is_the_only_oauth_mechanism(server: Server) -> None:
    await log_in(server, "good-token")

    assert [(x.mechanism, x.user, x.token) for x in server.seen.logins] == [("XOAUTH2", USER, "good-token")]


@pytest.mark.parametrize("server", cases(OAuthScript()), indirect=True)
async def test_the_config_can_force_xoauth2(server: Server) -> None:
    await log_in(server, "good-token", mechanism="XOAUTH2")

    assert [x.mechanism for x in server.seen.logins] == ["XOAUTH2"]


@pytest.mark.parametrize("mechanism, answer", [("OAUTHBEARER", "AQ=="), ("XOAUTH2", "")])
@pytest.mark.parametrize("server", cases(OAuthScript()), indirect=True)
async def test_a_refused_token_answers_the_error_challenge_and_is_a_refused_login(
    server: Server, mechanism: str, answer: str
) -> None:
    with pytest.raises(REFUSED) as info:
        await log_in(server, "stale-token", mechanism=mechanism)

    assert [(x.mechanism, x.challenge_answer) for x in server.seen.logins] == [(mechanism, answer)]
    assert "Authentication failed" in str(info.value)
    assert "stale-token" not in str(info.value)
    # Nothing but the login was tried: no mailbox command, no message.
    assert not any(c.split(" ")[-1].upper() in ("LIST", "UIDL") for c in server.seen.commands)
    assert not any(c.upper().startswith(("MAIL", "DATA")) for c in server.seen.commands)


@pytest.mark.parametrize("server", cases(OAuthScript(sasl_ir=False), ("imap",)), indirect=True)
async def test_imap_without_sasl_ir_sends_the_token_on_the_continuation(server: Server) -> None:
    await log_in(server, "good-token")

    authenticate = next(c for c in server.seen.commands if "AUTHENTICATE" in c)
    assert authenticate.split()[1:] == ["AUTHENTICATE", "OAUTHBEARER"]
    assert [x.token for x in server.seen.logins] == ["good-token"]


@pytest.mark.parametrize("server", cases(OAuthScript(sasl_ir=False), ("imap",)), indirect=True)
async def test_imap_without_sasl_ir_answers_the_error_challenge_too(server: Server) -> None:
    with pytest.raises(ImapAuthError):
        await log_in(server, "stale-token")

    assert [x.challenge_answer for x in server.seen.logins] == ["AQ=="]


@pytest.mark.parametrize("server", cases(OAuthScript(mechanisms=("PLAIN", "LOGIN"))), indirect=True)
async def test_a_server_without_oauth_gets_no_token(server: Server) -> None:
    with pytest.raises(REFUSED, match="offers no OAUTHBEARER or XOAUTH2"):
        await log_in(server, "good-token")

    assert server.seen.logins == []
    assert not any("good-token" in c for c in server.seen.commands)


@pytest.mark.parametrize("server", cases(OAuthScript(mechanisms=("XOAUTH2",))), indirect=True)
async def test_a_forced_mechanism_the_server_lacks_is_refused_before_sending_the_token(server: Server) -> None:
    with pytest.raises(REFUSED, match="does not offer OAUTHBEARER"):
        await log_in(server, "good-token", mechanism="OAUTHBEARER")

    assert server.seen.logins == []


LONG_TOKEN = "t" * 400  # Microsoft's tokens are a few KB


@pytest.mark.parametrize("server", cases(OAuthScript(tokens=(LONG_TOKEN,)), ("pop3",)), indirect=True)
async def test_pop3_sends_a_long_token_after_the_servers_go_ahead(server: Server) -> None:
    await log_in(server, LONG_TOKEN)

    assert "AUTH OAUTHBEARER" in server.seen.commands  # RFC 5034: no line over 255 octets
    assert all(len(c) <= 255 for c in server.seen.commands if c.upper().startswith("AUTH"))
    assert [x.token for x in server.seen.logins] == [LONG_TOKEN]
