"""Secrets never reach a file: `mailbag --debug` logs the protocol traffic of IMAP, POP3 and SMTP
with every login masked, and no file mailbag writes (log, cache, local store, Maildir) holds a
password, AUTH PLAIN's string or LOGIN's base64 answers."""

from __future__ import annotations

import base64
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailbag.logsetup import setup_logging
from mailbag.protocols.login import ServerLogin
from tests.integration.test_hostile_servers import session
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.hostile import HostileServer, Hostility, Kind, certificates
from tests.servers.messages import make_message
from tests.servers.smtp import PASSWORD as SMTP_PASSWORD
from tests.servers.smtp import USERNAME as SMTP_USER
from tests.servers.smtp import SmtpServer
from tests.toml_text import toml_table
from tests.unit.cli import environment


def secrets_of(username: str, password: str) -> list[bytes]:
    """Every form a login puts the password in: itself, AUTH PLAIN's base64 string, and the
    base64 answer of AUTH LOGIN."""
    return [
        password.encode(),
        base64.b64encode(f"\0{username}\0{password}".encode()),
        base64.b64encode(password.encode()),
    ]


def leaks(root: Path, secrets: list[bytes]) -> list[str]:
    """The files under ``root`` that hold one of ``secrets``."""
    return [str(path) for path in root.rglob("*") if path.is_file()
            and any(secret in path.read_bytes() for secret in secrets)]


@pytest.fixture
def debug_log(tmp_path: Path) -> Iterator[Path]:
    """The log at its highest level, as --debug sets it up."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    path = tmp_path / "state" / "mailbag.log"
    path.parent.mkdir()
    setup_logging(path, debug=True)
    yield path
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


USER, PASSWORD = "me@example.org", "Secr3t-pw"


@pytest.mark.parametrize("kind", ["imap", "pop3", "smtp"])
@pytest.mark.parametrize("security", ["none", "starttls"])
async def test_the_debug_log_shows_the_traffic_with_every_login_masked(
    debug_log: Path, tmp_path: Path, kind: Kind, security: str
) -> None:
    # In plain text the server offers IMAP's LOGIN, POP3's USER/PASS and SMTP's AUTH LOGIN; over
    # TLS, AUTHENTICATE PLAIN, AUTH PLAIN and AUTH PLAIN.
    server = HostileServer(kind, Hostility(), certificates(tmp_path, "good")).start()
    try:
        await session(kind, ServerLogin(host="127.0.0.1", port=server.port, security=security,
                                       username=USER, password=PASSWORD, ca_file=server.ca_file))
    finally:
        server.stop()
    sent = b"".join(server.wire.plain + server.wire.secure)
    assert PASSWORD.encode() in sent or base64.b64encode(PASSWORD.encode()) in sent \
        or base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()) in sent  # the login did go out
    logged = debug_log.read_text()
    login = {("imap", "none"): "LOGIN ****", ("imap", "starttls"): "AUTHENTICATE PLAIN ****",
             ("pop3", "none"): "PASS ****", ("pop3", "starttls"): "AUTH PLAIN ****",
             ("smtp", "none"): "AUTH LOGIN ****", ("smtp", "starttls"): "AUTH PLAIN ****"}[kind, security]
    assert login in logged, logged
    assert " < " in logged  # the server's answers too
    assert not leaks(debug_log.parent, secrets_of(USER, PASSWORD))


QUOTING = {"imap": b"{tag} NO [AUTHENTICATIONFAILED] not {line}\r\n", "pop3": b"-ERR not {line}\r\n",
           "smtp": b"535 5.7.8 not {line}\r\n"}


@pytest.mark.parametrize("kind", ["imap", "pop3", "smtp"])
async def test_a_refusal_that_quotes_the_login_is_masked_in_the_error_and_the_log(
    debug_log: Path, tmp_path: Path, kind: Kind
) -> None:
    server = HostileServer(kind, Hostility(login_answer=QUOTING[kind]), certificates(tmp_path, "good")).start()
    try:
        with pytest.raises(Exception) as failure:
            await session(kind, ServerLogin(host="127.0.0.1", port=server.port, security="starttls",
                                           username=USER, password=PASSWORD, ca_file=server.ca_file))
    finally:
        server.stop()
    assert base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()) in b"".join(server.wire.secure)  # it was quoted
    assert "AUTH" in str(failure.value) and "PLAIN ****" in str(failure.value), failure.value
    assert not [s for s in secrets_of(USER, PASSWORD) if s.decode() in str(failure.value)]
    assert "PLAIN ****" in debug_log.read_text()
    assert not leaks(debug_log.parent, secrets_of(USER, PASSWORD))


def write_config(path: Path, dovecot: DovecotServer, me: MailUser, old: MailUser, smtp: SmtpServer) -> Path:
    """An IMAP account with SMTP, and a POP3 account, all with their passwords in variables."""
    tables = [
        toml_table("accounts.work", email=me.email, default=True),
        toml_table("accounts.work.imap", host=dovecot.host, port=dovecot.imap_port, security="starttls",
                   username=me.name, password_env="IMAP_PASSWORD", ca_file=dovecot.ca_file),
        toml_table("accounts.work.smtp", host=smtp.host, port=smtp.port, security="starttls",
                   username=SMTP_USER, password_env="SMTP_PASSWORD", ca_file=dovecot.ca_file),
        toml_table("accounts.old", email=old.email),
        toml_table("accounts.old.pop3", host="localhost", port=dovecot.pop3s_port, username=old.name,
                   password_env="POP3_PASSWORD", ca_file=dovecot.ca_file),
    ]
    path.write_text("\n".join(tables), encoding="utf-8")
    return path


@pytest.mark.dovecot
def test_sync_and_send_at_debug_leave_no_secret_in_any_file(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, old = dovecot.add_user(password="Imap-Pa55w0rd"), dovecot.add_user(password="Pop3-Pa55w0rd")
    to = dovecot.add_user()
    dovecot.deliver_many(me.name, (make_message(i) for i in range(20)))
    dovecot.deliver_many(old.name, (make_message(i) for i in range(5)))
    config = write_config(tmp_path / "config.toml", dovecot, me, old, smtp_server)
    home = tmp_path / "home"
    env = environment(home) | {"IMAP_PASSWORD": me.password, "POP3_PASSWORD": old.password,
                               "SMTP_PASSWORD": SMTP_PASSWORD}
    mailbag = [sys.executable, "-m", "mailbag", "--debug", "--config", str(config)]
    synced = subprocess.run([*mailbag, "sync"], capture_output=True, env=env, timeout=120)
    assert synced.returncode == 0, synced.stderr
    message = f"From: {me.email}\nTo: {to.email}\nSubject: from a script\n\nhello\n".encode()
    sent = subprocess.run([*mailbag, "send"], input=message, capture_output=True, env=env, timeout=120)
    assert sent.returncode == 0, sent.stderr
    log = (home / "state" / "mailbag" / "mailbag.log").read_text()
    assert "imap > " in log and "AUTHENTICATE PLAIN ****" in log  # IMAP traffic, masked
    assert f"pop3 localhost:{dovecot.pop3s_port} > AUTH PLAIN ****" in log
    assert "> AUTH PLAIN ****" in log and "smtp " in log and "> STARTTLS" in log
    secrets = (secrets_of(me.name, me.password) + secrets_of(old.name, old.password)
               + secrets_of(SMTP_USER, SMTP_PASSWORD))
    assert not leaks(home, secrets)
    for output in (synced.stdout, synced.stderr, sent.stdout, sent.stderr):
        assert not [s for s in secrets if s in output]
