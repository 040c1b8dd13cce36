"""A ``ca_file`` that changed on disk after the config's check (a certificate being rotated, a
file cut short) is told by what is wrong with it, for IMAP, POP3 and SMTP alike, never in
OpenSSL's words alone or as an internal error; a connection fails as one that found its server
out of reach would, and once the file is put right the next attempt goes through."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mailbag.protocols.imap import ImapClient, ImapSettings
from mailbag.protocols.pop3.client import Pop3Client, Pop3Settings
from mailbag.protocols.pop3.errors import Pop3LinkLost
from mailbag.protocols.smtp.client import SmtpSettings, check_login
from mailbag.protocols.smtp.errors import SmtpTemporary
from mailbag.services.failures import Failure, classify_common
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.smtp import SmtpServer

pytestmark = pytest.mark.dovecot


def broken(ca_file: Path) -> str:
    """Cut ``ca_file`` short, as a write still going on leaves it; the words mailbag says of it."""
    text = ca_file.read_text()
    ca_file.write_text(text[: len(text) // 2])
    return f"ca_file: {ca_file} holds no certificate mailbag can read ("


async def test_imap_pop3_and_smtp_say_what_is_wrong_with_the_file_and_take_it_once_put_right(
    dovecot: DovecotServer, mail_user: MailUser, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    ca_file = tmp_path / "ca.pem"
    shutil.copy(dovecot.ca_file, ca_file)
    imap = ImapSettings(host=dovecot.host, port=dovecot.imaps_port, security="tls", username=mail_user.name,
                        password=mail_user.password, ca_file=str(ca_file), timeout=30)
    pop3 = Pop3Settings(host=dovecot.host, port=dovecot.pop3s_port, security="tls", username=mail_user.name,
                        password=mail_user.password, ca_file=ca_file)
    smtp = SmtpSettings(host=smtp_server.host, port=smtp_server.port, security="starttls",
                        username=smtp_server.username, password=smtp_server.password, ca_file=ca_file)
    words = broken(ca_file)

    client = ImapClient(imap, "work")
    with pytest.raises(Exception) as imap_failure:
        await client.connect()
    assert words in str(imap_failure.value) and "must be PEM text" in str(imap_failure.value)
    assert classify_common(imap_failure.value) is Failure.LINK  # tried again, as a server out of reach
    with pytest.raises(Pop3LinkLost, match="must be PEM text") as pop3_failure:
        await Pop3Client.open(pop3)
    assert words in str(pop3_failure.value)
    with pytest.raises(SmtpTemporary, match="must be PEM text") as smtp_failure:
        await check_login(smtp)
    assert words in str(smtp_failure.value)

    shutil.copy(dovecot.ca_file, ca_file)  # put right
    client = ImapClient(imap, "work")
    await client.connect()
    await client.logout()
    (await Pop3Client.open(pop3)).abort()
    await check_login(smtp)
