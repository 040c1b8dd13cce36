"""Subscriptions in the folder tree over a real Dovecot: a folder not subscribed to is dim, the
Inbox never, even when the server leaves it out of the subscriptions (Cyrus does, until a client
subscribes it): INBOX always exists (RFC 3501)."""

from __future__ import annotations

import pytest
from rich.text import Text

from mailbag.domain.config import Config
from tests.integration.accounts import imap_account_config, other_client
from tests.servers.dovecot import DovecotServer, MailUser
from tests.ui.real_services import running, simple_message, wait_until


def label_style(label: str | Text) -> str:
    """The style of a tree label, as text (``"bold dim"``)."""
    assert isinstance(label, Text)
    return str(label.style)


@pytest.mark.dovecot
async def test_the_inbox_is_never_dim_though_not_subscribed(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path
) -> None:
    dovecot.deliver(mail_user.name, simple_message(1))
    client = other_client(dovecot, mail_user)
    try:
        for folder in ("Work", "Later"):
            client.create(folder)
        client.subscribe("Work")
        client.unsubscribe("INBOX")
        assert b"INBOX" not in b" ".join(line for line in client.lsub()[1] if isinstance(line, bytes))
    finally:
        client.logout()
    config = Config(path=None, accounts={"work": imap_account_config(dovecot, mail_user)})
    async with running(config, tmp_path / "cache.sqlite3", 1) as (app, pilot, store):
        tree = app.main_screen.folder_tree
        await wait_until(pilot, lambda: ("work", "Later") in tree._folders, "the folders")
        styles = {name: label_style(tree._folders[("work", name)].label) for name in ("INBOX", "Work", "Later")}
        assert "dim" in styles["Later"]  # the server says which are subscribed
        assert "dim" not in styles["Work"]
        assert "dim" not in styles["INBOX"]
