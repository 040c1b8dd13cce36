"""Sending from a local Maildir account through the private SMTP server: the copy of sent mail
goes to the Maildir, into a ``.Sent`` folder made for it when the tree has none."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailbag.domain.config import AccountConfig
from mailbag.protocols.maildir import MaildirStore
from tests.integration.outbox_fixtures import config_of, new_message, parsed, sending, smtp_config
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import SmtpServer

pytestmark = pytest.mark.dovecot


async def test_a_maildir_account_without_sent_keeps_one_copy_in_a_new_sent_folder(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    root = tmp_path / "Mail"
    MaildirStore(root, "work", create=True)  # Inbox only, as a POP3 account's Maildir starts
    to = dovecot.add_user()
    account = AccountConfig(
        name="work", email="me@example.test", default=True, maildir=root, smtp=smtp_config(smtp_server)
    )
    message = new_message("me@example.test", [to.email], subject="Notes from the meeting")
    async with sending(config_of(account), tmp_path) as s:
        await s.send(message, [to.email])
        assert await s.outbox_settles() == []
        assert s.last_outbox().messages == ()
        folders = {f.name: f.role for f in s.service.store.folders("work")}
    (received,) = smtp_server.received
    assert parsed(received.content)["Subject"] == "Notes from the meeting"
    assert folders.get("Sent") == "sent"  # in the folder tree
    assert (root / ".Sent").is_dir()
    (uid,) = [m.uid for m in MaildirStore(root, "work").summaries("Sent")]
    copy = parsed(MaildirStore(root, "work").read("Sent", uid))
    assert copy["Subject"] == "Notes from the meeting"
    assert copy["Message-ID"] == parsed(received.content)["Message-ID"]
