"""`mailbag send` as scripts and git send-email run it: a message on stdin, an exit status, and
nothing lost or sent twice when the process is killed at any point (a real SIGKILL)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mailbag.domain.config import load_config
from tests.integration.outbox_fixtures import mailbox, parsed, sending
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.smtp import SmtpServer
from tests.servers.smtp_script import Script, ScriptedSmtp
from tests.unit.cli import environment

pytestmark = pytest.mark.dovecot


def write_config(
    path: Path, dovecot: DovecotServer, me: MailUser, smtp_host: str, smtp_port: int, security: str,
    *, imap_port: int | None = None, smtp_password: str = "", smtp_extra: str = "",
) -> Path:
    path.write_text(
        f"""
[accounts.work]
email = "{me.email}"
name = "Me Myself"

[accounts.work.imap]
host = "{dovecot.host}"
port = {imap_port or dovecot.imaps_port}
username = "{me.name}"
password_command = "printf '%s\\\\n' '{me.password}'"
ca_file = "{dovecot.ca_file}"
timeout = 5

[accounts.work.smtp]
host = "{smtp_host}"
port = {smtp_port}
security = "{security}"
username = "submitter"
password_env = "MAILBAG_SMTP_PASSWORD"
ca_file = "{dovecot.ca_file}"
timeout = 5
{smtp_extra}
""",
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


def aiosmtpd_config(path: Path, dovecot: DovecotServer, me: MailUser, smtp: SmtpServer) -> Path:
    return write_config(path, dovecot, me, smtp.host, smtp.port, "starttls")


def send_command(config: Path, home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "mailbag", "--config", str(config), "send", *args]


def env(home: Path) -> dict[str, str]:
    from tests.servers.smtp import PASSWORD

    return environment(home) | {"MAILBAG_SMTP_PASSWORD": PASSWORD}


def run_send(config: Path, home: Path, message: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        send_command(config, home, *args), input=message, capture_output=True, env=env(home), timeout=120
    )


def message_from(me: MailUser, to: MailUser, hidden: MailUser | None = None, subject: str = "From a script") -> bytes:
    lines = [f"From: Me Myself <{me.email}>", f"To: {to.email}", f"Subject: {subject}"]
    if hidden is not None:
        lines.append(f"Bcc: {hidden.email}")
    return ("\n".join(lines) + "\n\nSent by a script.\n").encode()


def test_a_message_on_stdin_is_sent_to_to_cc_and_bcc_and_kept_in_sent(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, to, hidden = dovecot.add_user(), dovecot.add_user(), dovecot.add_user()
    config = aiosmtpd_config(tmp_path / "config.toml", dovecot, me, smtp_server)
    result = run_send(config, tmp_path, message_from(me, to, hidden))
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    for user in (to, hidden):
        (delivered,) = mailbox(dovecot, user)
        assert parsed(delivered)["Subject"] == "From a script" and "Bcc" not in parsed(delivered)
    (copy,) = mailbox(dovecot, me, "Sent")
    assert hidden.email.encode() not in copy
    assert hidden.email.encode() not in smtp_server.received[0].content


def test_a_message_without_from_is_sent_from_the_account_with_its_name(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, to = dovecot.add_user(), dovecot.add_user()
    config = aiosmtpd_config(tmp_path / "config.toml", dovecot, me, smtp_server)
    result = run_send(config, tmp_path, f"To: {to.email}\nSubject: No From\n\nHello.\n".encode())
    assert result.returncode == 0, result.stderr
    (delivered,) = mailbox(dovecot, to)
    assert parsed(delivered)["From"] == f"Me Myself <{me.email}>"
    assert parsed(delivered)["Subject"] == "No From"
    assert smtp_server.received[0].mail_from == me.email


async def test_a_message_queued_while_mailbag_runs_is_sent_by_it(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The running mailbag holds the outbox: `mailbag send` queues and waits for it to send.
    from tests.servers.smtp import PASSWORD

    me, to = dovecot.add_user(), dovecot.add_user()
    config = aiosmtpd_config(tmp_path / "config.toml", dovecot, me, smtp_server)
    monkeypatch.setenv("MAILBAG_SMTP_PASSWORD", PASSWORD)
    async with sending(load_config(config), tmp_path / "data" / "mailbag") as running:
        outbox = running.service.outbox
        assert outbox is not None
        while not outbox.sends:
            await asyncio.sleep(0.05)
        await running.outbox_settles()
        result = await asyncio.to_thread(run_send, config, tmp_path, message_from(me, to))
        assert result.returncode == 0, result.stderr
        # Sent, its copy for Sent kept or on its way: the running mailbag stores it (stopping
        # it now would leave the copy owed, for its next start).
        await running.outbox_settles()
    assert len(mailbox(dovecot, to)) == 1 and len(mailbox(dovecot, me, "Sent")) == 1


def test_an_unreachable_server_queues_with_75_and_flush_sends_it_once(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, to = dovecot.add_user(), dovecot.add_user()
    config = aiosmtpd_config(tmp_path / "config.toml", dovecot, me, smtp_server)
    smtp_server.stop()
    result = run_send(config, tmp_path, message_from(me, to))
    assert result.returncode == 75, result.stderr
    assert b"waits in the outbox" in result.stderr and b"connection refused" in result.stderr
    assert run_send(config, tmp_path, b"", "--flush").returncode == 75
    smtp_server.start()
    flushed = run_send(config, tmp_path, b"", "--flush")
    assert flushed.returncode == 0, flushed.stderr
    assert len(mailbox(dovecot, to)) == 1 and len(mailbox(dovecot, me, "Sent")) == 1
    assert run_send(config, tmp_path, b"", "--flush").returncode == 0
    assert len(smtp_server.received) == 1


def test_a_held_message_is_named_by_flush_and_not_sent_again_unasked(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, to = dovecot.add_user(), dovecot.add_user()
    config = aiosmtpd_config(tmp_path / "config.toml", dovecot, me, smtp_server)
    smtp_server.refuse_rcpt[to.email] = "550 5.1.1 no such user"
    assert run_send(config, tmp_path, message_from(me, to)).returncode == 69
    smtp_server.refuse_rcpt.clear()
    flushed = run_send(config, tmp_path, b"", "--flush")
    assert flushed.returncode == 0, flushed.stderr
    assert b"1 message(s) held in the outbox, not sent again here" in flushed.stderr
    assert b"550 5.1.1 no such user" in flushed.stderr
    assert smtp_server.received == []


def test_a_header_in_an_older_mailers_8_bit_bytes_is_sent_as_written(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    # Its subject read as UTF-8 with surrogates could not be stored: a traceback, nothing queued.
    me, to = dovecot.add_user(), dovecot.add_user()
    config = aiosmtpd_config(tmp_path / "config.toml", dovecot, me, smtp_server)
    message = f"From: {me.email}\nTo: {to.email}\nSubject: caf\xe9\n\nx\n".encode("latin-1")
    result = run_send(config, tmp_path, message)
    assert result.returncode == 0, result.stderr
    (delivered,) = mailbox(dovecot, to)
    assert b"\r\nSubject: caf\xe9\r\n" in delivered
    assert "SMTPUTF8" not in smtp_server.received[0].mail_options  # not UTF-8: 8BITMIME only


@pytest.mark.parametrize(
    "message, problem",
    [
        (b"From: a@example.test\nTo: b@example.test\nSubject: hi\rBcc: evil@example.test\n\nx\n", b"bare CR"),
        (b"From: a@example.test\nTo: b@example.test\nX-Evil\n\nx\n", b"is not a header field"),
        (b"From: a@example.test\nSubject: nobody\n\nx\n", b"no recipients"),
        (b"From: a@example.test\nTo: b@example.test, evil\n\nx\n", b"not an email address"),
    ],
    ids=["cr-in-subject", "broken-header", "no-recipient", "bad-address"],
)
def test_a_message_that_cannot_be_sent_is_refused_with_65_and_never_queued(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path, message: bytes, problem: bytes
) -> None:
    me = dovecot.add_user()
    config = aiosmtpd_config(tmp_path / "config.toml", dovecot, me, smtp_server)
    result = run_send(config, tmp_path, message.replace(b"a@example.test", me.email.encode()))
    assert result.returncode == 65, result.stderr
    assert problem in result.stderr and b"Traceback" not in result.stderr
    assert run_send(config, tmp_path, b"", "--flush").returncode == 0
    assert smtp_server.received == []


def test_an_unknown_from_address_asks_for_an_account(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, to = dovecot.add_user(), dovecot.add_user()
    config = aiosmtpd_config(tmp_path / "config.toml", dovecot, me, smtp_server)
    result = run_send(config, tmp_path, message_from(to, me))
    assert result.returncode == 64 and b"--account" in result.stderr
    assert run_send(config, tmp_path, message_from(to, me), "--account", "work").returncode == 0


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60  # only so that a regression cannot hang the run
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def killed_while(config: Path, home: Path, message: bytes, condition: Callable[[], bool], what: str) -> None:
    """Start ``mailbag send``, SIGKILL it once ``condition`` holds."""
    child = subprocess.Popen(
        send_command(config, home), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, env=env(home),
    )
    assert child.stdin is not None
    child.stdin.write(message)
    child.stdin.close()
    try:
        wait_until(lambda: condition() or child.poll() is not None, what)
        assert child.poll() is None, f"mailbag send ended ({child.returncode}) before {what}"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()


def test_killed_before_the_server_greets_the_message_waits_and_goes_once(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, to = dovecot.add_user(), dovecot.add_user()
    silent = ScriptedSmtp(dovecot, Script(greet=False)).start()
    try:
        config = write_config(tmp_path / "config.toml", dovecot, me, silent.host, silent.port, "starttls")
        killed_while(config, tmp_path, message_from(me, to), lambda: bool(silent.held), "connected")
    finally:
        silent.stop()
    aiosmtpd_config(tmp_path / "config.toml", dovecot, me, smtp_server)
    flushed = run_send(tmp_path / "config.toml", tmp_path, b"", "--flush")
    assert flushed.returncode == 0, flushed.stderr
    assert len(mailbox(dovecot, to)) == 1 and len(mailbox(dovecot, me, "Sent")) == 1


def test_killed_after_the_final_dot_the_message_is_uncertain_and_never_resent(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, to = dovecot.add_user(), dovecot.add_user()
    hanging = ScriptedSmtp(dovecot, Script(after_dot="hang"), tls=True).start()
    try:
        config = write_config(tmp_path / "config.toml", dovecot, me, hanging.host, hanging.port, "tls")
        killed_while(config, tmp_path, message_from(me, to), lambda: bool(hanging.seen.messages), "the dot")
        flushed = run_send(config, tmp_path, b"", "--flush")
        assert flushed.returncode == 0, flushed.stderr
        assert len(hanging.seen.messages) == 1  # not sent again
    finally:
        hanging.stop()
    aiosmtpd_config(tmp_path / "config.toml", dovecot, me, smtp_server)
    assert run_send(tmp_path / "config.toml", tmp_path, b"", "--flush").returncode == 0
    assert smtp_server.received == [] and mailbox(dovecot, me, "Sent") == []
    from mailbag.store.local import LocalStore

    local = LocalStore.open(tmp_path / "data" / "mailbag" / "local.sqlite3")
    try:
        (item,) = local.outbox()
        assert item.state == "uncertain" and "may have been sent" in item.last_error
    finally:
        local.close()


def test_killed_before_the_copy_is_stored_it_is_stored_once_and_the_message_not_resent(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, to = dovecot.add_user(), dovecot.add_user()
    silent_imap = ScriptedSmtp(dovecot, Script(greet=False)).start()  # never greets: IMAP hangs too
    try:
        config = write_config(
            tmp_path / "config.toml", dovecot, me, smtp_server.host, smtp_server.port, "starttls",
            imap_port=silent_imap.port,
        )
        killed_while(config, tmp_path, message_from(me, to), lambda: bool(silent_imap.held), "the copy")
    finally:
        silent_imap.stop()
    assert len(smtp_server.received) == 1
    aiosmtpd_config(tmp_path / "config.toml", dovecot, me, smtp_server)
    assert run_send(tmp_path / "config.toml", tmp_path, b"", "--flush").returncode == 0
    assert run_send(tmp_path / "config.toml", tmp_path, b"", "--flush").returncode == 0
    assert len(smtp_server.received) == 1
    assert len(mailbox(dovecot, to)) == 1 and len(mailbox(dovecot, me, "Sent")) == 1


def test_a_certificate_not_the_pinned_one_gets_no_message(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, to = dovecot.add_user(), dovecot.add_user()
    pin = 'tls_fingerprint = "sha256:' + "00" * 32 + '"'
    config = write_config(tmp_path / "config.toml", dovecot, me, smtp_server.host, smtp_server.port, "starttls",
                          smtp_extra=pin)
    result = run_send(config, tmp_path, message_from(me, to))
    assert result.returncode == 75, result.stderr
    assert b"waits in the outbox" in result.stderr
    assert b"is not the pinned sha256:" + b"0" * 64 in result.stderr
    assert smtp_server.received == [] and mailbox(dovecot, to) == []


def test_compose_from_a_script_sends_the_text_on_stdin_with_its_subject_and_file(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    # As mutt -s Report -a report.csv ann@... < text: no UI, the message sent at once.
    me, to = dovecot.add_user(), dovecot.add_user()
    config = aiosmtpd_config(tmp_path / "config.toml", dovecot, me, smtp_server)
    report = tmp_path / "report.csv"
    report.write_text("day,count\nMon,3\n")
    command = [sys.executable, "-m", "mailbag", "--config", str(config), "compose", "-s", "Nightly report",
               "-a", str(report), to.email]
    result = subprocess.run(command, input="Numbers inside.\n".encode(), capture_output=True, env=env(tmp_path),
                            timeout=120)
    assert result.returncode == 0, result.stderr
    (delivered,) = mailbox(dovecot, to)
    message = parsed(delivered)
    assert message["Subject"] == "Nightly report" and message["From"] == f"Me Myself <{me.email}>"
    text = message.get_body(("plain",))
    assert text is not None and text.get_content().startswith("Numbers inside.")
    [attached] = message.iter_attachments()
    assert attached.get_filename() == "report.csv" and attached.get_content() == "day,count\nMon,3\n"
    (copy,) = mailbox(dovecot, me, "Sent")  # kept as mailbag send keeps it
    assert b"Nightly report" in copy
    nobody = subprocess.run([*command[:5], "compose", "-s", "x"], input=b"text", capture_output=True,
                            env=env(tmp_path), timeout=120)
    assert nobody.returncode == 65 and b"no recipient" in nobody.stderr  # refused, never queued
