"""The private SMTP server behaves like a real submission server (checked with the stdlib)."""

from __future__ import annotations

import smtplib
import ssl

import pytest

from tests.integration.test_dovecot_fixture import imaps, subjects
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.messages import make_message, subject_of
from tests.servers.smtp import SmtpServer

pytestmark = pytest.mark.dovecot


def context(server: SmtpServer) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server.ca_file))


def test_starttls_submission_arrives_in_the_recipients_inbox(
    smtp_server: SmtpServer, dovecot: DovecotServer, mail_user: MailUser
) -> None:
    message = make_message(1)
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=30) as smtp:
        smtp.starttls(context=context(smtp_server))
        smtp.login(smtp_server.username, smtp_server.password)
        smtp.sendmail("me@example.test", [mail_user.email], message)
    conn = imaps(dovecot, mail_user)
    assert subjects(conn, "INBOX") == [subject_of(1)]
    assert smtp_server.received[0].tls and smtp_server.received[0].login == smtp_server.username


def test_implicit_tls_port_delivers(smtp_server: SmtpServer, dovecot: DovecotServer, mail_user: MailUser) -> None:
    message = make_message(2)
    with smtplib.SMTP_SSL(
        smtp_server.host, smtp_server.tls_port, context=context(smtp_server), timeout=30
    ) as smtp:
        smtp.login(smtp_server.username, smtp_server.password)
        smtp.sendmail("me@example.test", [mail_user.email], message)
    assert subjects(imaps(dovecot, mail_user), "INBOX") == [subject_of(2)]


def test_plain_text_mail_and_login_are_refused_before_starttls(smtp_server: SmtpServer) -> None:
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=30) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("starttls")
        assert not smtp.has_extn("auth")
        code, _ = smtp.mail("me@example.test")
        assert code == 530


def test_scripted_refusals_and_a_stopped_server(smtp_server: SmtpServer, mail_user: MailUser) -> None:
    smtp_server.refuse_rcpt[mail_user.email] = "550 5.1.1 no such user"
    with smtplib.SMTP_SSL(
        smtp_server.host, smtp_server.tls_port, context=context(smtp_server), timeout=30
    ) as smtp:
        smtp.login(smtp_server.username, smtp_server.password)
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail("me@example.test", [mail_user.email], make_message(3))
    smtp_server.stop()
    with pytest.raises(OSError):
        smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5)
    smtp_server.start()
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=30) as smtp:
        assert smtp.ehlo()[0] == 250
