"""A Maildir account on a tree mbsync (isync) keeps in step with the private Dovecot, as its users
have it: what is done in mailbag (flags, reading, a move) reaches the server at mbsync's next
run, and what happens on the server (new mail, flags) shows in mailbag after it; nothing comes
twice on either side (a file mailbag moves is a new file, without mbsync's ``,U=`` of the old)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailbag.services.maildir_account import MaildirAccount
from mailbag.store.store import Store
from tests.integration.accounts import Recorder
from tests.integration.pop3_fixtures import message_ids
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.messages import make_message, message_id

pytestmark = pytest.mark.dovecot

SEEN, FLAGGED = "\\Seen", "\\Flagged"


def mbsync_config(dovecot: DovecotServer, user: MailUser, tmp_path: Path) -> Path:
    """A channel of every folder, both ways, into a nested Maildir tree (``SubFolders
    Verbatim``) with the Inbox at ``INBOX/``. Plain IMAP on loopback: isync 1.4 refuses a
    certificate without a common name, as the fixture's are."""
    config = tmp_path / "mbsyncrc"
    (tmp_path / "Mail").mkdir()  # mbsync makes folders in the tree, not the tree
    config.write_text(
        f"IMAPAccount test\nHost {dovecot.host}\nPort {dovecot.imap_port}\nUser {user.name}\n"
        f"Pass {user.password}\nSSLType None\nAuthMechs LOGIN\n\n"
        "IMAPStore remote\nAccount test\n\n"
        f"MaildirStore local\nPath {tmp_path / 'Mail'}/\nInbox {tmp_path / 'Mail' / 'INBOX'}\nSubFolders Verbatim\n\n"
        "Channel test\nFar :remote:\nNear :local:\nPatterns *\nCreate Both\nExpunge Both\nSyncState *\n",
        encoding="utf-8",
    )
    return config


async def mbsync(config: Path) -> None:
    done = await asyncio.to_thread(
        subprocess.run, ["mbsync", "-c", str(config), "-a"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


def server_ids(dovecot: DovecotServer, user: MailUser, folder: str, *query: str) -> list[str]:
    """The Message-IDs of the messages of ``folder`` on the server that match ``query``."""
    out = dovecot.doveadm("fetch", "-u", user.name, "hdr.message-id", "mailbox", folder, *(query or ("ALL",)))
    return sorted(line.split(":", 1)[1].strip() for line in out.splitlines() if line.lower().startswith("hdr.message-id:"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "cache.sqlite3")
    yield opened
    opened.close()


def uid_of(store: Store, folder: str, i: int) -> int:
    for uid in store.uids("synced", folder):
        summary = store.summary("synced", folder, uid)
        if summary is not None and summary.message_id == message_id(i):
            return uid
    raise AssertionError(f"message {i} is not in {folder}")


async def test_what_mailbag_does_reaches_the_server_through_mbsync_and_back(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store
) -> None:
    assert shutil.which("mbsync"), "mbsync (Debian's isync) is not installed: scripts/test installs it"
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(5)))
    config = mbsync_config(dovecot, mail_user, tmp_path)
    await mbsync(config)
    account = MaildirAccount("synced", tmp_path / "Mail", store, Recorder())
    await account.sync_once()
    assert len(store.uids("synced", "INBOX")) == 5

    await account.connect()
    validity = account.last_uidvalidity("INBOX") or (await account.server_position("INBOX"))[0]
    await account.server_set_flags("INBOX", validity, [uid_of(store, "INBOX", 0)], {FLAGGED}, set())
    await account.server_set_flags("INBOX", validity, [uid_of(store, "INBOX", 1)], {SEEN}, set())
    await account.server_move("INBOX", validity, [uid_of(store, "INBOX", 2)], "Archive")
    await mbsync(config)
    assert server_ids(dovecot, mail_user, "INBOX") == sorted(message_id(i) for i in (0, 1, 3, 4))
    assert server_ids(dovecot, mail_user, "Archive") == [message_id(2)]
    assert server_ids(dovecot, mail_user, "INBOX", "FLAGGED") == [message_id(0)]
    assert server_ids(dovecot, mail_user, "INBOX", "SEEN") == [message_id(1)]

    # On the server: new mail, and a flag set by another client.
    dovecot.deliver_many(mail_user.name, [make_message(5)])
    dovecot.doveadm("flags", "add", "-u", mail_user.name, "\\Flagged", "mailbox", "INBOX", "HEADER",
                    "Message-ID", message_id(4))
    await mbsync(config)
    await account.sync_folder("INBOX")
    await account.sync_folder("Archive")
    assert sorted(store.summary("synced", "INBOX", u).message_id for u in store.uids("synced", "INBOX")) == sorted(  # type: ignore[union-attr]
        message_id(i) for i in (0, 1, 3, 4, 5)
    )
    assert FLAGGED in store.summary("synced", "INBOX", uid_of(store, "INBOX", 4)).flags  # type: ignore[union-attr]
    assert [store.summary("synced", "Archive", u).message_id for u in store.uids("synced", "Archive")] == [  # type: ignore[union-attr]
        message_id(2)
    ]

    await mbsync(config)  # once more: nothing twice on either side
    assert server_ids(dovecot, mail_user, "INBOX") == sorted(message_id(i) for i in (0, 1, 3, 4, 5))
    assert server_ids(dovecot, mail_user, "Archive") == [message_id(2)]
    on_disk = sorted(i for path in (tmp_path / "Mail").glob("*/*/*") for i in message_ids(path.read_bytes()))
    assert on_disk == sorted(message_id(i) for i in range(6))
