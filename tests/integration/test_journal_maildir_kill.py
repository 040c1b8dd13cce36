"""A move on a Maildir account whose process is killed after the journal recorded it as sent and
before the files moved: the next run finishes it, and ``u`` still takes it back. A copy of a
message without a Message-ID is found again by its fingerprint."""

from __future__ import annotations

import asyncio
import errno
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import mailbag as package
from mailbag.domain.config import AccountConfig
from mailbag.protocols.maildir import MaildirStore
from mailbag.services.maildir_account import MaildirAccount
from mailbag.store.local import IN_FLIGHT
from mailbag.store.store import Store
from tests.integration.test_journal_undo import service
from tests.integration.test_live_triage import until
from tests.servers.messages import make_message, message_id

MOVE_SCRIPT = """
import asyncio, sys
from pathlib import Path
from mailbag.domain.requests import MoveMessages
from mailbag.services.maildir_account import MaildirAccount
from mailbag.store.store import Store

async def main() -> None:
    root, db, uid = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    account = MaildirAccount("work", root, Store.open(db), lambda event: None)
    account.submit(MoveMessages(account="work", folder="INBOX", uids=(uid,), target="Archive"))
    await account.run()

asyncio.run(main())
"""


def message_file(root: Path, n: int) -> Path:
    """The file of message ``n`` in the Inbox."""
    for path in [*(root / "cur").iterdir(), *(root / "new").iterdir()]:
        if message_id(n).encode() in path.read_bytes():
            return path
    raise AssertionError(f"message {n} is not in the Inbox")


async def reader_waits(fifo: Path) -> int:
    """Wait until a process opens ``fifo`` to read it; returns our writing end (never written)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60  # only stops a hung run
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO or loop.time() > deadline:
                raise
        await asyncio.sleep(0.02)


async def test_a_move_killed_before_the_files_moved_is_finished_and_can_be_undone(tmp_path):
    root, db = tmp_path / "Mail", tmp_path / "cache.sqlite3"
    maildir = MaildirStore(root, "work", create=True)
    maildir.create_folder("Archive")
    uid = maildir.add_many("INBOX", [(make_message(0), ()), (make_message(1), ())])[1]
    account = AccountConfig(name="work", email="me@example.test", maildir=root)
    async with service(account, db):
        pass  # the cache knows the Inbox

    # The message's file becomes a pipe: the move, once sent, blocks reading it.
    path = message_file(root, 1)
    content = path.read_bytes()
    path.unlink()
    os.mkfifo(path)
    env = dict(os.environ, PYTHONPATH=str(Path(package.__file__).parents[1]))
    process = subprocess.Popen([sys.executable, "-c", MOVE_SCRIPT, str(root), str(db), str(uid)], env=env)
    writer = -1
    try:
        writer = await reader_waits(path)
        process.send_signal(signal.SIGKILL)
        assert await asyncio.to_thread(process.wait, 30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        if writer >= 0:
            os.close(writer)
    path.unlink()
    path.write_bytes(content)
    with Store.open(db) as store:
        (action,) = store.local.actions("work", None)
    assert action.state == IN_FLIGHT  # recorded as sent; nothing moved yet
    assert MaildirStore(root, "work").flags("Archive") == {}

    async with service(account, db) as (mail, store, _events):
        await until(lambda: store.local.actions("work") == [], 30)
        assert len(MaildirStore(root, "work").flags("Archive")) == 1
        assert mail.undo() == "Moved 1 message to Archive"
        await until(lambda: MaildirStore(root, "work").flags("Archive") == {}, 30)
        await until(lambda: store.counts("work", "INBOX")[0] == 2, 30)
    assert len(MaildirStore(root, "work").flags("INBOX")) == 2
    assert message_file(root, 1).read_bytes() == content  # back in the Inbox, whole


async def test_a_maildir_copy_of_a_message_without_message_id_is_found_by_fingerprint(tmp_path):
    root = tmp_path / "Mail"
    maildir = MaildirStore(root, "work", create=True)
    maildir.create_folder("Archive")
    bare = re.sub(rb"Message-ID: [^\r\n]*\r\n", b"", make_message(1))
    uid, other = maildir.add_many("INBOX", [(bare, ()), (make_message(2), ())])
    since = maildir.folder_state("Archive").uidnext
    with Store.open(tmp_path / "cache.sqlite3") as store:
        account = MaildirAccount("work", root, store, lambda event: None)
        await account.connect()
        validity = maildir.folder_state("INBOX").uidvalidity
        prints = await account.server_fingerprints("INBOX", validity, [uid, other])
        copied = maildir.move("INBOX", [other, uid], "Archive", copy=True)  # done, answer lost
        target = maildir.folder_state("Archive").uidvalidity
        found = await account.server_find_fingerprints("Archive", target, since, {prints[uid]})
    assert found == {prints[uid]: [copied[uid]]}
