"""A Maildir account picks up what other programs change in its tree while it runs: a message
moved with ``mv`` into another folder, a flag set by renaming its file, a folder made, a message
delivered."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path

import pytest

from mailbag.domain.events import Event, MessagesChanged, SyncProgress
from mailbag.domain.models import FLAGGED, SEEN
from mailbag.protocols.maildir import MaildirStore
from mailbag.protocols.maildir_layout import make_maildir
from mailbag.services import maildir_account
from mailbag.services.maildir_account import MaildirAccount
from mailbag.store.store import Store
from tests.integration.accounts import Recorder, stop
from tests.servers.messages import make_message


async def until(what: str, check: object) -> None:
    assert callable(check)
    for _ in range(600):  # only stops a test that would hang
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


async def test_external_changes_show_up_while_running(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    maildir = MaildirStore(root, "home", create=True)
    maildir.create_folder("Archive")
    uids = [maildir.add("INBOX", make_message(i)) for i in range(3)]
    store = Store.open(tmp_path / "cache.sqlite3")
    account = MaildirAccount("home", root, store, Recorder())
    task = asyncio.create_task(account.run())
    try:
        await until("the first sync", lambda: store.counts("home", "INBOX")[0] == 3)

        moved = next((root / "new").iterdir())
        subprocess.run(["mv", str(moved), str(root / ".Archive" / "cur" / (moved.name + ":2,S"))], check=True)
        await until("the mv", lambda: store.counts("home", "INBOX")[0] == 2
                    and store.counts("home", "Archive") == (1, 0))

        flagged = next((root / "new").iterdir())
        flagged.rename(root / "cur" / (flagged.name + ":2,FS"))
        await until("the flags in the file name",
                    lambda: {FLAGGED, SEEN} in [set(f) for f in store_flags(store, "INBOX")])

        MaildirStore(root, "home").create_folder("Lists/dev")
        MaildirStore(root, "home").add("Lists/dev", make_message(9))
        await until("the new folder", lambda: "Lists/dev" in [f.name for f in store.folders("home")]
                    and store.counts("home", "Lists/dev")[0] == 1)

        MaildirStore(root, "home").add("INBOX", make_message(10))
        await until("the delivery", lambda: store.counts("home", "INBOX")[0] == 3)
        await stop(account, task)
    finally:
        if not task.done():
            task.cancel()
        store.close()
    assert len(uids) == 3


def store_flags(store: Store, folder: str) -> list[frozenset[str]]:
    summaries = (store.summary("home", folder, uid) for uid in store.uids("home", folder))
    return [s.flags for s in summaries if s is not None]


async def test_external_changes_show_up_in_a_nested_tree(tmp_path: Path) -> None:
    """The same in a tree as mbsync SubFolders Verbatim writes it (INBOX/, Work/Projects/)."""
    root = tmp_path / "Mail"
    maildir = MaildirStore(root, "home", layout="nested", create=True)
    maildir.create_folder("Work/Projects")
    for i in range(2):
        maildir.add("INBOX", make_message(i))
    store = Store.open(tmp_path / "cache.sqlite3")
    account = MaildirAccount("home", root, store, Recorder())
    task = asyncio.create_task(account.run())
    try:
        await until("the first sync", lambda: store.counts("home", "INBOX")[0] == 2)
        moved = next((root / "INBOX" / "new").iterdir())
        target = root / "Work" / "Projects" / "cur" / (moved.name + ":2,S")
        subprocess.run(["mv", str(moved), str(target)], check=True)
        await until("the mv", lambda: store.counts("home", "INBOX")[0] == 1
                    and store.counts("home", "Work/Projects") == (1, 0))

        MaildirStore(root, "home").create_folder("Lists/dev")
        MaildirStore(root, "home").add("Lists/dev", make_message(9))
        await until("the new folder", lambda: store.counts("home", "Lists/dev")[0] == 1)
        assert (root / "Lists" / "dev" / "new").is_dir() and not list(root.glob(".*"))
        await stop(account, task)
    finally:
        if not task.done():
            task.cancel()
        store.close()


async def test_a_look_at_a_folder_that_finds_no_flag_changed_does_not_have_the_list_read_again(
    tmp_path: Path,
) -> None:
    """Each look at a Maildir folder compares every message's flags with the cache; only a real
    change is written and told (the list re-reads itself for it)."""
    from mailbag.domain.events import MessagesChanged

    root = tmp_path / "Mail"
    maildir = MaildirStore(root, "home", create=True)
    for i in range(50):
        maildir.add("INBOX", make_message(i))
    store = Store.open(tmp_path / "cache.sqlite3")
    recorder = Recorder()
    account = MaildirAccount("home", root, store, recorder)
    try:
        await account.sync_once()
        await account.connect()
        recorder.events.clear()
        await account.sync_folder("INBOX")
        assert recorder.of(MessagesChanged) == []

        flagged = next((root / "new").iterdir())
        flagged.rename(root / "cur" / (flagged.name + ":2,F"))
        await account.sync_folder("INBOX")
        assert [(e.added, e.changed, e.removed) for e in recorder.of(MessagesChanged)] == [(0, 1, 0)]
    finally:
        store.close()


async def test_a_message_whose_file_could_not_be_read_shows_once_it_can(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    maildir = MaildirStore(root, "home", create=True)
    maildir.add("INBOX", make_message(1))
    elsewhere = tmp_path / "annex" / "message"  # a link into a disk not mounted yet (git-annex)
    (root / "cur" / "1700000000.M1P1.host:2,S").symlink_to(elsewhere)
    store = Store.open(tmp_path / "cache.sqlite3")
    account = MaildirAccount("home", root, store, Recorder())
    task = asyncio.create_task(account.run())
    try:
        await until("the first sync", lambda: store.folder_state("home", "INBOX") is not None)
        assert store.counts("home", "INBOX")[0] == 1
        elsewhere.parent.mkdir()
        elsewhere.write_bytes(make_message(2))
        MaildirStore(root, "home").add("INBOX", make_message(3))  # the folder changes: a sync
        await until("all three", lambda: store.counts("home", "INBOX")[0] == 3)
        await stop(account, task)
    finally:
        if not task.done():
            task.cancel()
        store.close()


async def test_a_big_folder_seen_first_fills_its_list_newest_first_in_parts(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    maildir = MaildirStore(root, "home", create=True)
    uids = maildir.add_many("INBOX", [(make_message(i), ()) for i in range(1200)])
    store = Store.open(tmp_path / "cache.sqlite3")
    cached_at_first_word: list[list[int]] = []

    class Watching(Recorder):
        def __call__(self, event: Event) -> None:
            super().__call__(event)
            if isinstance(event, MessagesChanged) and not cached_at_first_word:
                cached_at_first_word.append(store.uids("home", "INBOX"))

    recorder = Watching()
    try:
        await MaildirAccount("home", root, store, recorder).sync_once()
        # The newest 500 are on screen first, with how far the rest is, as for IMAP.
        assert sorted(cached_at_first_word[0]) == uids[-500:]
        progress = [(e.done, e.total) for e in recorder.of(SyncProgress) if e.folder == "INBOX"]
        assert progress == [(500, 1200), (1200, 1200)]
        assert store.counts("home", "INBOX")[0] == 1200
    finally:
        store.close()


async def test_changes_to_an_mbsync_tree_show_up_while_running(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    make_maildir(root / "Inbox")  # mbsync: Inbox ~/Mail/Inbox, SubFolders Legacy
    make_maildir(root / "Work")
    store = Store.open(tmp_path / "cache.sqlite3")
    account = MaildirAccount("home", root, store, Recorder())
    task = asyncio.create_task(account.run())
    try:
        await until("the first sync", lambda: store.folder_state("home", "Work") is not None)
        (root / "Inbox" / "new" / "1700000001.M1P1.host").write_bytes(make_message(1))  # mbsync delivers
        make_maildir(root / "Work" / ".Plans")  # a folder made on the server, mirrored
        (root / "Work" / ".Plans" / "cur" / "1700000002.M2P1.host,U=1:2,S").write_bytes(make_message(2))
        await until("the delivery", lambda: store.counts("home", "INBOX") == (1, 1))
        await until("the new folder", lambda: store.counts("home", "Work/Plans") == (1, 0))
        await stop(account, task)
    finally:
        if not task.done():
            task.cancel()
        store.close()


def procmail_delivery(root: Path, n: int) -> None:
    """A message delivered as procmail or getmail does it: written in tmp/, renamed into new/."""
    name = f"{time.time_ns()}.P{os.getpid()}Q{n}.example"
    (root / "tmp" / name).write_bytes(make_message(n))
    os.rename(root / "tmp" / name, root / "new" / name)


async def test_a_second_delivery_within_the_tick_of_a_coarse_directory_clock_shows_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a file system that keeps directory times to the second (HFS+, ext3, many file
    servers), a delivery in the same second as the one before leaves new/ with the time it
    already had. Seen right after the first, that time cannot tell the second: a folder changed
    that recently is read again once its time is settled. (The directory times are set here as
    such a clock leaves them; the window is widened, so that a slow machine cannot outlast it.)"""
    monkeypatch.setattr(maildir_account, "WATCH_SECONDS", 0.05)
    monkeypatch.setattr(maildir_account, "UNSETTLED_SECONDS", 60.0)
    root = tmp_path / "Mail"
    make_maildir(root)
    procmail_delivery(root, 0)
    store = Store.open(tmp_path / "cache.sqlite3")
    account = MaildirAccount("home", root, store, Recorder())
    task = asyncio.create_task(account.run())
    try:
        await until("the first sync", lambda: store.counts("home", "INBOX")[0] == 1)
        second = time.time_ns() // 10**9 * 10**9  # this second, as a coarse clock keeps it
        procmail_delivery(root, 1)
        os.utime(root / "new", ns=(second, second))
        await until("the first delivery", lambda: store.counts("home", "INBOX")[0] == 2)
        procmail_delivery(root, 2)
        os.utime(root / "new", ns=(second, second))  # the same second: the time did not change
        await until("the delivery in the same second", lambda: store.counts("home", "INBOX")[0] == 3)
        await stop(account, task)
    finally:
        if not task.done():
            task.cancel()
        store.close()
