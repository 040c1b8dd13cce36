"""A message the user moved into a folder is not announced there as new mail: only what arrived
from elsewhere is, over a real Maildir account whose watcher syncs the folders it changed."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

from mailbag.domain.config import AccountConfig
from mailbag.domain.events import ActionApplied, NewMail, SyncProgress
from mailbag.domain.requests import MoveMessages
from mailbag.protocols.maildir import MaildirStore
from tests.integration.test_journal_undo import service
from tests.servers.messages import make_message


async def test_a_message_moved_into_a_folder_is_not_new_mail_there(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    maildir = MaildirStore(root, "work", create=True)
    maildir.create_folder("Projects")
    uid = maildir.add("INBOX", make_message(1))
    account = AccountConfig(name="work", email="me@example.test", maildir=root)
    async with service(account, tmp_path / "cache.sqlite3") as (mail, _store, events):
        mail.submit(MoveMessages(account="work", folder="INBOX", uids=(uid,), target="Projects"))
        done = await events.wait_for_one(ActionApplied, lambda e: e.on_server, 30)
        after = events.events.index(done)
        # The move changed the folder on disk: the watcher has it synced, which finds the
        # message under a UID the folder had not given out at the last sync.
        await events.wait_for(
            lambda e: isinstance(e, SyncProgress) and e.folder == "Projects" and events.events.index(e) > after, 60
        )
        filed = make_message(2)
        MaildirStore(root, "work").add("Projects", filed)  # mail filed by another program
        news = await events.wait_for_one(NewMail, timeout=60)
    assert (news.folder, news.count) == ("Projects", 1)
    assert events.of(NewMail) == [news]
    assert news.subjects == (_subject(filed),)


def _subject(raw: bytes) -> str:
    return str(email.message_from_bytes(raw, policy=email.policy.default)["Subject"])
