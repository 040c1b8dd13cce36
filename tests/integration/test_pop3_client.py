"""The POP3 client against the private Dovecot: both TLS modes, the login, UIDL/LIST, TOP, RETR
with dot-unstuffing, DELE committed only by QUIT."""

from __future__ import annotations

import logging

import pytest

from mailbag.protocols.pop3.client import Pop3Client, Pop3Settings
from mailbag.protocols.pop3.errors import Pop3LinkLost, Pop3LoginRefused
from tests.servers.dovecot import DovecotServer, MailUser

pytestmark = pytest.mark.dovecot

DOTTED = (
    b"From: a@example.test\r\nTo: b@example.test\r\nSubject: dots\r\nMessage-ID: <dots@example.test>\r\n\r\n"
    b"first line\r\n.\r\n.hidden\r\n..two dots\r\nlast line\r\n"
)


def settings(dovecot: DovecotServer, user: MailUser, security: str, **changes: object) -> Pop3Settings:
    port = dovecot.pop3s_port if security == "tls" else dovecot.pop3_port
    values: dict[str, object] = dict(
        host="localhost", port=port, security=security, username=user.name,
        password=user.password, ca_file=dovecot.ca_file, timeout=10.0,
    )
    values.update(changes)
    return Pop3Settings(**values)  # type: ignore[arg-type]


def plain(n: int) -> bytes:
    return (
        f"From: a@example.test\r\nSubject: message {n}\r\nMessage-ID: <m{n}@example.test>\r\n\r\n"
        f"body {n}\r\n"
    ).encode()


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_lists_and_retrieves_every_message_unstuffed(
    dovecot: DovecotServer, mail_user: MailUser, security: str
) -> None:
    dovecot.deliver(mail_user.name, DOTTED)
    for n in range(1, 41):
        dovecot.deliver(mail_user.name, plain(n))
    client = await Pop3Client.open(settings(dovecot, mail_user, security))
    try:
        assert client.pipelining
        listing = await client.list_messages()
        assert [m.number for m in listing] == list(range(1, 42))
        assert len({m.uidl for m in listing}) == 41 and all(m.size > 0 for m in listing)
        got = [(n, raw) async for n, raw in client.retrieve([m.number for m in listing])]
        header = await client.top(1, 0)
    finally:
        await client.quit()
    assert [n for n, _ in got] == list(range(1, 42))
    first = got[0][1]
    assert first is not None
    assert first.endswith(b"\n\nfirst line\n.\n.hidden\n..two dots\nlast line\n")
    assert b"\r" not in first
    assert all(raw is not None and f"body {n - 1}\n".encode() in raw for n, raw in got[1:])
    assert b"Subject: dots" in header and b"first line" not in header


async def test_dele_removes_only_once_quit_commits(dovecot: DovecotServer, mail_user: MailUser) -> None:
    for n in range(1, 4):
        dovecot.deliver(mail_user.name, plain(n))
    client = await Pop3Client.open(settings(dovecot, mail_user, "tls"))
    assert await client.delete([1, 2]) == []
    client.abort()  # the link drops: the server forgets the DELE
    client = await Pop3Client.open(settings(dovecot, mail_user, "tls"))
    assert len(await client.list_messages()) == 3
    await client.delete([1])
    await client.quit()
    client = await Pop3Client.open(settings(dovecot, mail_user, "tls"))
    left = await client.list_messages()
    got = [raw async for _, raw in client.retrieve([m.number for m in left])]
    await client.quit()
    assert len(left) == 2 and all(raw is not None and b"message 1\n" not in raw for raw in got)


async def test_a_wrong_password_is_a_refused_login(dovecot: DovecotServer, mail_user: MailUser) -> None:
    with pytest.raises(Pop3LoginRefused, match="login refused"):
        await Pop3Client.open(settings(dovecot, mail_user, "tls", password="wrong"))


async def test_a_login_too_long_for_one_command_line_goes_after_the_servers_go_ahead(
    dovecot: DovecotServer, caplog: pytest.LogCaptureFixture
) -> None:
    # AUTH PLAIN and its response on one line would be over 255 octets (RFC 5034 4): the
    # response goes on the line after the server's "+".
    user = dovecot.add_user(password="long-" + "x" * 200)
    dovecot.deliver(user.name, plain(1))
    with caplog.at_level(logging.DEBUG, logger="mailbag.protocols.pop3.client"):
        client = await Pop3Client.open(settings(dovecot, user, "tls", username=user.name, password=user.password))
    try:
        assert len(await client.list_messages()) == 1
    finally:
        await client.quit()
    sent = [r.getMessage().split(" > ", 1)[1] for r in caplog.records if " > " in r.getMessage()]
    assert sent[sent.index("AUTH PLAIN") + 1].startswith("(response)")
    with pytest.raises(Pop3LoginRefused, match="login refused"):
        await Pop3Client.open(settings(dovecot, user, "tls", username=user.name, password="long-" + "y" * 200))


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_an_untrusted_certificate_stops_before_the_login(
    dovecot: DovecotServer, mail_user: MailUser, security: str
) -> None:
    with pytest.raises(Pop3LinkLost, match="certificate not trusted"):
        await Pop3Client.open(settings(dovecot, mail_user, security, ca_file=None))
