"""The private Dovecot behaves like a real mail server (checked with the stdlib)."""

from __future__ import annotations

import email
import email.policy
import imaplib
import os
import poplib
import socket
import ssl
import time
from pathlib import Path

import pytest

from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.messages import make_message, message_id, subject_of

pytestmark = pytest.mark.dovecot


def tls_context(server: DovecotServer) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server.ca_file))


def imaps(server: DovecotServer, user: MailUser) -> imaplib.IMAP4_SSL:
    conn = imaplib.IMAP4_SSL(server.host, server.imaps_port, ssl_context=tls_context(server))
    conn.login(user.name, user.password)
    return conn


def exists(conn: imaplib.IMAP4, folder: str) -> int:
    typ, data = conn.select(f'"{folder}"', readonly=True)
    assert typ == "OK" and data[0] is not None, data
    return int(data[0])


def fetched(conn: imaplib.IMAP4, seq: str, items: str) -> bytes:
    """The first literal of the FETCH answer for message ``seq`` of the selected folder."""
    typ, data = conn.fetch(seq, items)
    assert typ == "OK" and isinstance(data[0], tuple), data
    return data[0][1]


def subjects(conn: imaplib.IMAP4, folder: str) -> list[str]:
    exists(conn, folder)
    typ, data = conn.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert typ == "OK"
    parts = [item[1] for item in data if isinstance(item, tuple)]
    return [str(email.message_from_bytes(p, policy=email.policy.default)["Subject"]) for p in parts]


def test_imaps_verifies_the_certificate_and_offers_modern_extensions(
    dovecot: DovecotServer, mail_user: MailUser
) -> None:
    conn = imaps(dovecot, mail_user)
    try:
        typ, data = conn.capability()
        caps = set(data[0].decode().upper().split())
        assert {"IDLE", "CONDSTORE", "QRESYNC", "NOTIFY", "SPECIAL-USE", "MOVE", "UIDPLUS"} <= caps
        typ, listing = conn.list()
        assert typ == "OK"
        lines = b"\n".join(line for line in listing if isinstance(line, bytes)).decode()
        for flag, name in [("\\Drafts", "Drafts"), ("\\Sent", "Sent"), ("\\Trash", "Trash"),
                           ("\\Junk", "Junk"), ("\\Archive", "Archive")]:
            assert any(flag in line and line.endswith(f" {name}") for line in lines.splitlines())
    finally:
        conn.logout()


def test_imaps_is_refused_without_the_test_ca(dovecot: DovecotServer) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port,
                          ssl_context=ssl.create_default_context())


def test_imap_starttls_then_login(dovecot: DovecotServer, mail_user: MailUser) -> None:
    conn = imaplib.IMAP4(dovecot.host, dovecot.imap_port)
    try:
        assert "STARTTLS" in conn.capabilities
        conn.starttls(tls_context(dovecot))
        conn.login(mail_user.name, mail_user.password)
        assert exists(conn, "INBOX") == 0
    finally:
        conn.logout()


def test_lmtp_delivery_arrives_in_inbox(dovecot: DovecotServer, mail_user: MailUser) -> None:
    dovecot.deliver(mail_user.name, make_message(7))
    conn = imaps(dovecot, mail_user)
    try:
        assert subjects(conn, "INBOX") == [subject_of(7)]
        assert message_id(7).encode() in fetched(conn, "1", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    finally:
        conn.logout()


def test_idle_client_hears_of_an_lmtp_delivery(dovecot: DovecotServer,
                                               mail_user: MailUser) -> None:
    raw = socket.create_connection((dovecot.host, dovecot.imaps_port), timeout=60)  # a hung run only
    with tls_context(dovecot).wrap_socket(raw, server_hostname=dovecot.host) as conn:
        reader = conn.makefile("rb")
        reader.readline()  # greeting
        for line in (f"a LOGIN {mail_user.name} {mail_user.password}", "b SELECT INBOX", "c IDLE"):
            conn.sendall(line.encode() + b"\r\n")
            tag = line.split()[0].encode()
            while not (reply := reader.readline()).startswith((tag + b" ", b"+")):
                assert reply, "connection closed"
            assert not reply.startswith(tag + b" NO") and not reply.startswith(tag + b" BAD")
        dovecot.deliver(mail_user.name, make_message(11))
        assert reader.readline() == b"* 1 EXISTS\r\n"  # pushed during IDLE, unasked
        conn.sendall(b"DONE\r\n")
        while not (reply := reader.readline()).startswith(b"c "):
            assert reply, "connection closed"
        assert reply.startswith(b"c OK")
        reader.close()


def test_deliver_into_a_new_folder(dovecot: DovecotServer, mail_user: MailUser) -> None:
    dovecot.deliver(mail_user.name, make_message(1), folder="Projects/Zoë")
    dovecot.deliver(mail_user.name, make_message(2), folder="Sent")
    conn = imaps(dovecot, mail_user)
    try:
        assert exists(conn, "Projects/Zo&AOs-") == 1  # modified UTF-7 on the wire
        assert exists(conn, "Sent") == 1
        assert exists(conn, "INBOX") == 0
    finally:
        conn.logout()


def test_pop3_with_stls_and_pop3s(dovecot: DovecotServer, mail_user: MailUser) -> None:
    dovecot.deliver(mail_user.name, make_message(3, attachment=True))
    dovecot.deliver(mail_user.name, make_message(4))

    plain = poplib.POP3(dovecot.host, dovecot.pop3_port, timeout=10)
    try:
        assert "STLS" in plain.capa()
        plain.stls(tls_context(dovecot))
        plain.user(mail_user.name)
        plain.pass_(mail_user.password)
        count, _size = plain.stat()
        assert count == 2
    finally:
        plain.quit()

    secure = poplib.POP3_SSL(dovecot.host, dovecot.pop3s_port, context=tls_context(dovecot),
                             timeout=10)
    try:
        secure.user(mail_user.name)
        secure.pass_(mail_user.password)
        _resp, lines, _octets = secure.retr(1)
        assert message_id(3).encode() in b"\n".join(lines)
    finally:
        secure.quit()


def test_deliver_many_fills_a_folder_in_order(dovecot: DovecotServer, mail_user: MailUser) -> None:
    messages = [make_message(i, size=500) for i in range(2000)]
    dovecot.deliver_many(mail_user.name, messages, folder="Archive/Bulk 2024")
    conn = imaps(dovecot, mail_user)
    try:
        assert exists(conn, "Archive/Bulk 2024") == 2000
        assert fetched(conn, "1", "(BODY.PEEK[])") == messages[0]  # byte for byte, CRLF on the wire
        for seq, i in [(1, 0), (1000, 999), (2000, 1999)]:
            assert message_id(i).encode() in fetched(conn, str(seq), "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    finally:
        conn.logout()


def test_deliver_many_into_inbox_adds_to_what_is_there(
    dovecot: DovecotServer, mail_user: MailUser
) -> None:
    dovecot.deliver(mail_user.name, make_message(1))
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(10, 20)))
    dovecot.deliver_many(mail_user.name, [make_message(30)], folder="Projects/Zoë")
    conn = imaps(dovecot, mail_user)
    try:
        assert exists(conn, "INBOX") == 11
        assert exists(conn, "Projects/Zo&AOs-") == 1
    finally:
        conn.logout()


def test_a_second_user_cannot_see_the_first_users_mail(dovecot: DovecotServer,
                                                      mail_user: MailUser) -> None:
    dovecot.deliver(mail_user.name, make_message(5))
    other = dovecot.add_user()
    assert other.name != mail_user.name
    conn = imaps(dovecot, other)
    try:
        assert exists(conn, "INBOX") == 0
    finally:
        conn.logout()


def test_wrong_password_is_refused(dovecot: DovecotServer, mail_user: MailUser) -> None:
    conn = imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=tls_context(dovecot))
    try:
        with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
            conn.login(mail_user.name, mail_user.password + "x")
    finally:
        conn.shutdown()
    # A failed login does not lock the user out: the right password is let in next.
    imaps(dovecot, mail_user).logout()


def test_kick_disconnects_the_user(dovecot: DovecotServer, mail_user: MailUser) -> None:
    conn = imaps(dovecot, mail_user)
    conn.select("INBOX")
    dovecot.kick(mail_user.name)
    with pytest.raises((imaplib.IMAP4.abort, OSError)):
        for _ in range(50):  # the BYE arrives asynchronously
            conn.noop()
            time.sleep(0.1)
    conn.shutdown()


def test_mail_survives_a_restart(dovecot: DovecotServer, mail_user: MailUser) -> None:
    dovecot.deliver(mail_user.name, make_message(9))
    dovecot.restart()
    conn = imaps(dovecot, mail_user)
    try:
        assert exists(conn, "INBOX") == 1
    finally:
        conn.logout()


def test_doveadm_errors_are_raised(dovecot: DovecotServer, mail_user: MailUser) -> None:
    with pytest.raises(RuntimeError, match="doveadm"):
        dovecot.doveadm("mailbox", "status", "-u", mail_user.name, "messages", "NoSuchFolder")


def test_each_test_has_private_xdg_directories(xdg_dirs: Path) -> None:
    seen = set()
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        path = Path(os.environ[var])
        assert path.is_dir()
        assert path.parent == xdg_dirs
        assert not any(path.iterdir())
        seen.add(path)
    assert len(seen) == 4


def test_make_message_is_deterministic_and_threads() -> None:
    reply = make_message(12, thread_of=3, attachment=True)
    assert reply == make_message(12, thread_of=3, attachment=True)
    parsed = email.message_from_bytes(reply, policy=email.policy.default)
    original = email.message_from_bytes(make_message(3), policy=email.policy.default)
    assert parsed["Subject"] == f"Re: {original['Subject']}"
    assert parsed["In-Reply-To"] == message_id(3)
    assert parsed["References"] == message_id(3)
    assert [part.get_filename() for part in parsed.iter_attachments()] == ["report-12.pdf"]
    raw_headers = b"".join(make_message(i).split(b"\r\n\r\n", 1)[0] for i in range(20))
    assert b"=?utf-8?" in raw_headers  # some names and subjects need encoded words
