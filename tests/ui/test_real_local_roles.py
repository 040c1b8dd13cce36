"""A local Maildir that has only an Inbox (as a POP3 account's starts): archive, delete and junk
make their standard folder the first time and file the message there."""

from __future__ import annotations

from pathlib import Path

from mailbag.domain.config import AccountConfig, Config
from mailbag.protocols.maildir import MaildirStore
from tests.ui.helpers import status_text
from tests.ui.real_services import running, simple_message, wait_until


async def test_triage_keys_on_an_inbox_only_maildir_make_archive_trash_and_junk(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    MaildirStore(root, "home", create=True).add_many("INBOX", [(simple_message(n), ()) for n in range(3)])
    config = Config(
        path=None,
        accounts={"home": AccountConfig(name="home", email="me@example.test", default=True, maildir=root)},
    )
    async with running(config, tmp_path / "cache.sqlite3", 3) as (app, pilot, _store):
        screen = app.main_screen
        for key, folder, left in (("a", "Archive", 2), ("d", "Trash", 1), ("exclamation_mark", "Junk", 0)):
            await pilot.press(key)
            await wait_until(pilot, lambda: screen.message_list.row_count == left, f"{key} took the row")
            await wait_until(
                pilot,
                lambda: len(list(MaildirStore(root, "home").summaries(folder))) == 1,
                f"the message filed in {folder}",
            )
            assert "folder" not in status_text(app)  # never "home has no archive folder"
            names = {f.name for f in app.facade.folders("home")}
            assert folder in names  # the new folder is in the tree
        assert list(MaildirStore(root, "home").summaries("INBOX")) == []
