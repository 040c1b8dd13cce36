"""A POP3 account beside an IMAP account in the app, over the real services and the private
Dovecot's POP3: its mail is downloaded, read, searched and filed into a local folder, and $
fetches what came since."""

from __future__ import annotations

from pathlib import Path

from mailbag.domain.config import AccountConfig, Config
from mailbag.protocols.maildir import MaildirStore
from tests.integration.accounts import imap_account_config
from tests.integration.pop3_fixtures import local_ids, on_server, pop3_server
from tests.servers.dovecot import DovecotServer, MailUser
from tests.ui.helpers import cursor_subject, screen_text, status_text
from tests.ui.real_services import reader_text, running, simple_message, wait_until


async def test_a_pop3_account_beside_an_imap_account(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path
) -> None:
    dovecot.deliver_many(mail_user.name, [simple_message(n, subject=f"Old mail {n}") for n in range(4)])
    imap_user = dovecot.add_user()
    dovecot.deliver_many(imap_user.name, [simple_message(n, subject=f"Work mail {n}") for n in range(10, 12)])
    root = tmp_path / "Mail"
    MaildirStore(root, "old", create=True).create_folder("Archive")  # a local folder to file into
    old = AccountConfig(name="old", email=mail_user.email, default=True, maildir=root,
                        pop3=pop3_server(dovecot, mail_user))
    config = Config(path=None, accounts={"old": old, "work": imap_account_config(dovecot, imap_user)})

    async with running(config, tmp_path / "cache.sqlite3", 4) as (app, pilot, store):
        listing = app.main_screen.message_list
        await wait_until(pilot, lambda: store.counts("work", "INBOX")[0] == 2, "the IMAP account synced")
        tree = screen_text(app)
        assert "old" in tree and "work" in tree and "Archive" in tree
        assert cursor_subject(app) == "Old mail 3"

        await pilot.press("enter")
        await wait_until(pilot, lambda: "body of message 3" in reader_text(app)[1], "the message is read")

        await pilot.press("slash", *"mail 1", "enter")
        await wait_until(pilot, lambda: "1 result" in status_text(app), "found by search")
        assert cursor_subject(app) == "Old mail 1"
        await pilot.press("escape")
        await wait_until(pilot, lambda: listing.row_count == 4, "back to the Inbox")

        await pilot.press("g", "a")  # archive the newest, locally
        await wait_until(pilot, lambda: listing.row_count == 3, "filed away")
        archived = MaildirStore(root, "old")
        await wait_until(pilot, lambda: len(archived.flags("Archive")) == 1, "in the local Archive")

        await pilot.press("m", *"Garden", "enter")  # a folder of one's own, made as it is named
        await wait_until(pilot, lambda: listing.row_count == 2, "filed into a new folder")
        await wait_until(pilot, lambda: len(archived.flags("Garden")) == 1, "in the local Garden")
        await wait_until(pilot, lambda: "Garden" in screen_text(app), "the new folder in the tree")
        await pilot.press("g")

        dovecot.deliver(mail_user.name, simple_message(7, subject="Old mail 7"))
        await pilot.press("dollar_sign")  # check now
        await wait_until(pilot, lambda: listing.row_count == 3, "the new mail is fetched")
        assert cursor_subject(app) == "Old mail 7"

    assert len(local_ids(root)) == 5
    assert on_server(dovecot, mail_user) == 5  # left on the server, as by default
