"""The newer folder features on a server with neither SPECIAL-USE nor anything else optional, its
folders under ``INBOX.`` with ``.`` as separator (Courier, Cyrus): the private Dovecot's compat
listener behind a proxy that also takes the special-use attributes out of LIST (Dovecot sends
them there all the same), so Sent, Drafts, Trash and Archive are found by their names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mailbag.domain.events import ActionApplied, ActionRolledBack, Notice, RequestDone
from mailbag.domain.models import FolderRole
from mailbag.domain.requests import (
    AppendMessage,
    CreateFolder,
    DeleteFolder,
    LoadBody,
    MoveMessages,
    RenameFolder,
    SaveDraft,
    SubscribeFolder,
)
from mailbag.store.store import Store
from tests.integration.test_folder_admin import answer
from tests.integration.test_imap_compat import other_client, running, server_state, subjects, without_copyuid
from tests.integration.test_live_triage import uid_of, until
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.messages import make_message, message_id

pytestmark = pytest.mark.dovecot

_SPECIAL_USE = re.compile(rb"\\(Sent|Drafts|Trash|Junk|Archive|All|Flagged) ?", re.IGNORECASE)


def plain_list(line: bytes) -> bytes:
    """A server without SPECIAL-USE: LIST names the folders only (and no COPYUID either)."""
    if line.startswith((b"* LIST ", b"* LSUB ")):
        line = _SPECIAL_USE.sub(b"", line).replace(b" )", b")")
    return without_copyuid(line)


async def test_roles_by_name_sent_copy_draft_and_archive_under_the_inbox_prefix(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path
) -> None:
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(2)))
    with Store.open(tmp_path / "c.db") as store:
        async with running(dovecot, mail_user, store, rewrite=plain_list) as (account, events):
            roles = {f.role: f.name for f in store.folders("work")}
            assert not [f for f in store.folders("work") if any(a.lower() == "\\sent" for a in f.attributes)]
            assert roles[FolderRole.SENT] == "INBOX.Sent"
            assert roles[FolderRole.DRAFTS] == "INBOX.Drafts"
            assert roles[FolderRole.TRASH] == "INBOX.Trash"
            assert roles[FolderRole.ARCHIVE] == "INBOX.Archive"

            sent = make_message(50)
            done = await answer(account, events, AppendMessage(account="work", role=FolderRole.SENT, raw=sent,
                                                               message_id=message_id(50)))
            assert isinstance(done, RequestDone), done
            first = make_message(60)
            draft = await answer(account, events, SaveDraft(account="work", message_id=message_id(60), raw=first))
            assert isinstance(draft, RequestDone), draft
            again = await answer(account, events, SaveDraft(account="work", message_id=message_id(60),
                                                            raw=first.replace(b"body", b"longer body")))
            assert isinstance(again, RequestDone), again
            account.submit(MoveMessages(account="work", folder="INBOX", uids=(uid_of(store, "INBOX", 0),),
                                        target_role=FolderRole.ARCHIVE))
            await until(lambda: any(e.on_server for e in events.of(ActionApplied)), 20)
            await until(lambda: len(server_state(dovecot, mail_user, "INBOX.Drafts")) == 1, 20)
            assert not events.of(ActionRolledBack)

            made = await answer(account, events, CreateFolder(account="work", name="Projects"))
            assert isinstance(made, RequestDone), made
            renamed = await answer(account, events, RenameFolder(account="work", folder="INBOX.Projects",
                                                                 new_name="Plans"))
            assert isinstance(renamed, RequestDone), renamed
            subscribed = await answer(account, events, SubscribeFolder(account="work", folder="INBOX.Plans"))
            assert isinstance(subscribed, RequestDone), subscribed
            deleted = await answer(account, events, DeleteFolder(account="work", folder="INBOX.Plans"))
            assert isinstance(deleted, RequestDone), deleted
            names = {f.name for f in store.folders("work")}
    assert set(server_state(dovecot, mail_user, "INBOX.Sent")) == {message_id(50)}
    assert set(server_state(dovecot, mail_user, "INBOX.Archive")) == {message_id(0)}
    assert set(server_state(dovecot, mail_user)) == {message_id(1)}
    assert len(subjects(dovecot, mail_user, "INBOX.Drafts")) == 1
    assert not {"INBOX.Projects", "INBOX.Plans", "Projects", "Plans"} & names
    assert not {"Sent", "Drafts", "Archive"} & names  # nothing made outside the prefix


async def test_folders_made_and_deleted_by_another_client_show_without_notify(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path
) -> None:
    """Nothing tells a client without NOTIFY of another's folder changes: the look at every
    folder that it makes every poll_seconds finds them."""
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(2)), folder="Projects")
    dovecot.deliver(mail_user.name, make_message(3))
    with Store.open(tmp_path / "c.db") as store:
        async with running(dovecot, mail_user, store) as (account, events):
            assert len(store.uids("work", "INBOX.Projects")) == 2
            # the Inbox selected (Dovecot would drop a link with the folder deleted selected)
            await answer(account, events, LoadBody(account="work", folder="INBOX", uid=uid_of(store, "INBOX", 3)))
            client = other_client(dovecot, mail_user)
            try:
                client.delete("INBOX.Projects")
                client.create("INBOX.Plans")
            finally:
                client.logout()
            # the cache holds the new folder a moment before the deleted one is told
            await until(lambda: "INBOX.Plans" in {f.name for f in store.folders("work")}
                        and bool(events.of(Notice)), 20)
            names = {f.name for f in store.folders("work")}
            told = [e.message for e in events.of(Notice)]
    assert "INBOX.Projects" not in names
    assert store_was_emptied(tmp_path / "c.db")
    assert told == ["Projects was deleted or renamed by another program"]  # named as the tree shows it


def store_was_emptied(db: Path) -> bool:
    with Store.open(db) as store:
        return store.uids("work", "INBOX.Projects") == []
