"""Sending from a local Maildir account through the private SMTP server: the copy of sent mail
goes to the Maildir, into a ``.Sent`` folder made for it when the tree has none."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from mailbag.domain.config import AccountConfig
from mailbag.paths import pop3_maildir
from mailbag.protocols.maildir import MaildirStore
from tests.integration.pop3_fixtures import pop3_account
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


async def test_a_pop3_account_with_its_default_maildir_keeps_a_copy_of_what_it_sends(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    """A POP3 account without a ``maildir`` key keeps its mail in the default place, and the copy
    of a sent message goes there too (it was dropped: only a ``maildir`` key counted)."""
    user = dovecot.add_user()
    to = dovecot.add_user()
    account = replace(pop3_account(dovecot, user, tmp_path / "unused"), name="work", maildir=None,
                      smtp=smtp_config(smtp_server))
    message = new_message(user.email, [to.email], subject="Sent from the old account")
    async with sending(config_of(account), tmp_path) as s:
        await s.send(message, [to.email])
        assert await s.outbox_settles() == []
        assert s.last_outbox().messages == ()
    (received,) = smtp_server.received
    root = pop3_maildir(account.name)
    (uid,) = [m.uid for m in MaildirStore(root, account.name).summaries("Sent")]
    copy = parsed(MaildirStore(root, account.name).read("Sent", uid))
    assert copy["Message-ID"] == parsed(received.content)["Message-ID"]
