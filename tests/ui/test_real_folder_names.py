"""Folder names in the new-folder and rename prompts on a server that keeps its folders under
``INBOX.`` (Courier, Cyrus; here the private Dovecot's compat listener): the prompts hold the
name as the tree shows it, without the prefix, and take it so; a full server name typed works too.
So do they on a server that says so in its NAMESPACE and lists other users' or shared folders
beside (Cyrus)."""

from __future__ import annotations

import dataclasses
import re

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Label

from mailbag.domain.config import Config
from mailbag.ui.app import MailbagApp
from mailbag.ui.screens.prompt import PromptScreen
from tests.integration.proxy import Proxy
from tests.integration.test_imap_compat import compat_config, other_client
from tests.servers.dovecot import DovecotServer, MailUser
from tests.ui.helpers import cursor_on_folder, status_text
from tests.ui.real_services import running, simple_message, wait_until


def prompt(app: MailbagApp) -> tuple[str, str]:
    """The open prompt's question and what its field holds."""
    screen = app.screen
    assert isinstance(screen, PromptScreen)
    return str(screen.query_one(Label).render()), screen.query_one("#prompt-field", Input).value


def compat_with_work(dovecot: DovecotServer, mail_user: MailUser) -> Config:
    """The config of an account "work" on the compat listener, where another program has made
    the folder ``INBOX.Work``."""
    client = other_client(dovecot, mail_user)
    try:
        client.create("INBOX.Work")
    finally:
        client.logout()
    return Config(path=None, accounts={"work": compat_config(dovecot, mail_user)})


@pytest.mark.dovecot
async def test_the_prompts_hold_and_take_the_name_without_the_inbox_prefix(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path
) -> None:
    dovecot.deliver(mail_user.name, simple_message(1))
    config = compat_with_work(dovecot, mail_user)
    async with running(config, tmp_path / "cache.sqlite3", 1) as (app, pilot, store):
        tree = app.main_screen.folder_tree
        await wait_until(pilot, lambda: ("work", "INBOX.Work") in tree._folders, "the folders")
        await cursor_on_folder(pilot, "work", "INBOX.Work")
        await pilot.press("M")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptScreen), "the prompt")
        assert prompt(app)[1] == "Work."
        await pilot.press(*"Plans", "enter")
        await wait_until(pilot, lambda: ("work", "INBOX.Work.Plans") in tree._folders, "made below Work")

        assert await rename_prompt(app, pilot, "INBOX.Work.Plans") == ("Rename Work.Plans to:", "Work.Plans")
        await pilot.press("ctrl+u", *"Projects", "enter")
        await wait_until(pilot, lambda: ("work", "INBOX.Projects") in tree._folders, "renamed")
        assert ("work", "INBOX.Work.Plans") not in tree._folders

        await cursor_on_folder(pilot, "work", "INBOX.Projects")
        await pilot.press("M", "ctrl+u", *"INBOX.Later", "enter")  # the server's full name, as before
        await wait_until(pilot, lambda: ("work", "INBOX.Later") in tree._folders, "made at the top")
        assert not [name for (_a, name) in tree._folders if "INBOX.INBOX" in name]
        assert "error" not in status_text(app)


async def rename_prompt(app: MailbagApp, pilot: Pilot, folder: str) -> tuple[str, str]:
    """``E`` on ``folder`` of the account "work": the prompt's question and field."""
    await cursor_on_folder(pilot, "work", folder)
    await pilot.press("E")
    await wait_until(pilot, lambda: isinstance(app.screen, PromptScreen), "the prompt")
    return prompt(app)


_INBOX_LISTED = re.compile(rb'^\* LIST \([^)]*\) "\." INBOX\r\n$')


def as_cyrus_with_shared_folders(line: bytes) -> bytes:
    """NAMESPACE offered (Dovecot answers it: ``(("INBOX." "."))``), and LIST shows another
    user's folders beside the Inbox, outside the personal namespace, as Cyrus does."""
    if line.startswith(b"* CAPABILITY ") or b"[CAPABILITY " in line:
        line = line.replace(b"IMAP4rev1", b"IMAP4rev1 NAMESPACE", 1)
    if _INBOX_LISTED.match(line):
        line += b'* LIST (\\Noselect \\HasChildren) "." user\r\n* LIST (\\Noselect \\HasNoChildren) "." user.bob\r\n'
    return line


@pytest.mark.dovecot
async def test_the_prompts_leave_the_prefix_out_beside_shared_folders(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path
) -> None:
    dovecot.deliver(mail_user.name, simple_message(1))
    config = compat_with_work(dovecot, mail_user)
    async with Proxy(dovecot.compat_host, dovecot.compat_imap_port, rewrite=as_cyrus_with_shared_folders) as proxy:
        imap = config.accounts["work"].imap
        assert imap is not None
        config.accounts["work"] = dataclasses.replace(
            config.accounts["work"], imap=dataclasses.replace(imap, host="127.0.0.1", port=proxy.port))
        async with running(config, tmp_path / "cache.sqlite3", 1) as (app, pilot, store):
            tree = app.main_screen.folder_tree
            await wait_until(pilot, lambda: ("work", "user.bob") in tree._folders, "the shared folders")
            assert await rename_prompt(app, pilot, "INBOX.Work") == ("Rename Work to:", "Work")
            await pilot.press("ctrl+u", *"Projects", "enter")
            await wait_until(pilot, lambda: ("work", "INBOX.Projects") in tree._folders, "renamed")
