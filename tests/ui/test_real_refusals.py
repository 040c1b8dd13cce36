"""A folder change the server refuses, over a real Dovecot: the status bar says what the
response code means in plain words, with the server's own text after it."""

from __future__ import annotations

import pytest

from mailbag.domain.config import Config
from tests.integration.accounts import imap_account_config, other_client
from tests.servers.dovecot import DovecotServer, MailUser
from tests.ui.helpers import cursor_on_folder, status_text
from tests.ui.real_services import running, simple_message, wait_until


@pytest.mark.dovecot
async def test_a_refused_new_folder_says_why_in_plain_words(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path
) -> None:
    dovecot.deliver(mail_user.name, simple_message(1))
    config = Config(path=None, accounts={"work": imap_account_config(dovecot, mail_user)})
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(160, 30)) as (app, pilot, store):
        client = other_client(dovecot, mail_user)
        try:
            client.create("Work")  # made by another program: the tree does not know it yet
        finally:
            client.logout()
        await cursor_on_folder(pilot, "work", "INBOX")
        await pilot.press("M", *"Work", "enter")
        await wait_until(pilot, lambda: "CREATE failed" in status_text(app), "the refusal")
        said = status_text(app)
        assert "CREATE failed: a folder of that name exists already (Mailbox already exists" in said
        assert "[ALREADYEXISTS]" not in said
