"""Which mechanism mailbag logs in to an SMTP server with: PLAIN where offered, LOGIN, and
CRAM-MD5 (RFC 2195) on a server that offers nothing else (an old qmail or Exim set-up); the
message then arrives as any other, and a wrong password is refused in the server's words."""

from __future__ import annotations

import dataclasses

import pytest

from mailbag.protocols.smtp.client import SmtpSettings, password_mechanism, submit
from mailbag.protocols.smtp.errors import SmtpAuthFailed
from tests.integration.test_dovecot_fixture import imaps, subjects
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.messages import make_message, subject_of
from tests.servers.smtp import SmtpServer

pytestmark = pytest.mark.dovecot


def settings(server: SmtpServer) -> SmtpSettings:
    return SmtpSettings(host=server.host, port=server.port, security="starttls", username=server.username,
                        password=server.password, ca_file=server.ca_file)


@pytest.mark.parametrize("offered", [("PLAIN", "LOGIN", "CRAM-MD5"), ("LOGIN", "CRAM-MD5"), ("CRAM-MD5",)])
async def test_the_message_arrives_after_a_login_by_the_first_mechanism_offered(
    smtp_server: SmtpServer, dovecot: DovecotServer, mail_user: MailUser, offered: tuple[str, ...]
) -> None:
    smtp_server.mechanisms = set(offered)
    await submit(settings(smtp_server), "me@example.org", [mail_user.email], make_message(7))
    [received] = smtp_server.received
    assert received.mechanism == offered[0] and received.login == smtp_server.username
    assert subjects(imaps(dovecot, mail_user), "INBOX") == [subject_of(7)]


async def test_a_wrong_password_over_cram_md5_is_refused_in_the_servers_words(smtp_server: SmtpServer) -> None:
    smtp_server.mechanisms = {"CRAM-MD5"}
    wrong = dataclasses.replace(settings(smtp_server), password="not it")
    with pytest.raises(SmtpAuthFailed, match="login refused: 535"):
        await submit(wrong, "me@example.org", ["you@example.org"], make_message(8))
    assert smtp_server.received == []


def test_cram_md5_goes_first_on_a_link_without_tls_and_none_is_offered_is_said() -> None:
    offered = ["login", "plain", "cram-md5"]
    assert password_mechanism(offered, tls=True) == "plain"
    assert password_mechanism(offered, tls=False) == "cram-md5"  # the password stays off the wire
    assert password_mechanism(["login", "plain"], tls=False) == "plain"
    assert password_mechanism(["gssapi", "ntlm"], tls=True) is None
