"""Files on this machine when mailbag is killed (a real SIGKILL) while it writes them: a saved
attachment is whole under its name or not there at all, and the name is free for the next try; a
Maildir folder renamed on disk before the cache followed is found again, every message in it; the
config file `mailbag setup` writes is the old one or the new one, whole."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import mailbag as package
from mailbag.domain.config import MaildirLayout, parse_config
from mailbag.domain.events import ActionApplied, ErrorReported, RequestDone
from mailbag.paths import write_private
from mailbag.protocols.maildir import MaildirStore
from mailbag.services.maildir_account import MaildirAccount
from mailbag.services.pop3_account import Pop3Account
from mailbag.services.saving import save_as_new
from mailbag.store.store import Store
from tests.cache_reads import cached_summary
from tests.integration.accounts import Recorder, account_running
from tests.integration.pop3_fixtures import pop3_account
from tests.integration.test_live_triage import until
from tests.servers.messages import make_message, message_id

SIZE = 256 << 20  # written for long enough that the kill lands while it is


def _killed_while_saving(folder: Path, name: str) -> None:
    """Start a process that saves ``SIZE`` bytes as ``name`` into ``folder``; SIGKILL it as soon
    as anything shows in the folder."""
    script = textwrap.dedent(f"""
        from pathlib import Path
        from mailbag.services.saving import save_as_new
        save_as_new(Path({str(folder)!r}), {name!r}, b"x" * {SIZE})
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(package.__file__).parents[1])}
    child = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        while not os.listdir(folder):
            assert child.poll() is None, "the save ended before anything showed"
        child.send_signal(signal.SIGKILL)
    finally:
        assert child.wait(30) == -signal.SIGKILL


def test_an_attachment_save_killed_midway_leaves_no_part_under_its_name(tmp_path: Path) -> None:
    folder = tmp_path / "Downloads"
    folder.mkdir()
    _killed_while_saving(folder, "report.pdf")
    assert not (folder / "report.pdf").exists()  # never a torn file the user would open
    assert save_as_new(folder, "report.pdf", b"%PDF whole") == folder / "report.pdf"
    assert (folder / "report.pdf").read_bytes() == b"%PDF whole"


def test_the_next_save_removes_what_a_killed_save_left_and_no_file_of_the_user(tmp_path: Path) -> None:
    """The hidden file a killed save leaves goes with the next save into that folder, as does
    one an older version left a day ago; files of the user that look alike stay."""
    folder = tmp_path / "Downloads"
    folder.mkdir()
    _killed_while_saving(folder, "report.pdf")
    (left,) = os.listdir(folder)
    assert left.startswith(".report.pdf.") and left.endswith(".part")
    old = folder / ".photo.jpg.0123abcd.part"  # an older version's, killed a day ago
    old.write_bytes(b"half a photo")
    os.utime(old, (0, 0))
    users = {".report.pdf.part": b"mine", ".notes.0123abcd.part": b"fresh", "draft.12-0123abcd.part": b"x",
             ".plan.1-0123abcd.part.txt": b"y"}
    for name, data in users.items():
        (folder / name).write_bytes(data)
    assert save_as_new(folder, "other.txt", b"text") == folder / "other.txt"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == {**users, "other.txt": b"text"}


RENAME_SCRIPT = """
import asyncio, sys
from pathlib import Path
from mailbag.domain.config import parse_config
from mailbag.domain.events import ActionApplied, ErrorReported, RequestDone
from mailbag.domain.requests import RenameFolder
from mailbag.services.maildir_account import MaildirAccount
from mailbag.store.store import Store

async def main() -> None:
    events = []
    account = MaildirAccount("home", Path(sys.argv[1]), Store.open(Path(sys.argv[2])), events.append)
    running = asyncio.ensure_future(account.run())
    while not any(isinstance(e, RequestDone) for e in events):
        await asyncio.sleep(0.02)
    print("synced", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    account.submit(RenameFolder(account="home", folder="Work", new_name="Jobs"))
    await running

asyncio.run(main())
"""


def _work_tree(root: Path) -> MaildirStore:
    """A Maildir++ tree with Work (two messages, one flagged) and Work/Sub (one)."""
    maildir = MaildirStore(root, "home", create=True)
    maildir.create_folder("Work/Sub")
    maildir.add_many("Work", [(make_message(1), ("\\Flagged",)), (make_message(2), ())])
    maildir.add("Work/Sub", make_message(3))
    return maildir


async def _synced_child(script: str, root: Path, db: Path) -> subprocess.Popen[bytes]:
    """A child running ``script`` on the tree at ``root``, once it has synced it."""
    env = {**os.environ, "PYTHONPATH": str(Path(package.__file__).parents[1])}
    child = subprocess.Popen([sys.executable, "-c", script, str(root), str(db)], env=env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert child.stdout is not None
    assert await asyncio.to_thread(child.stdout.readline) == b"synced\n"
    return child


async def _started(
    account: MaildirAccount, events: Recorder, folders: tuple[str, ...]
) -> tuple[set[str], dict[str, dict[str, set[str]]]]:
    """Start ``account`` (its events going to ``events``) until its first sync is done: the
    cache's folder names, and the Message-IDs with their flags of each of ``folders``."""
    store = account.store
    async with account_running(account):
        await events.wait_for_one(RequestDone, timeout=30)
        names = {f.name for f in store.folders("home")}
        kept = {folder: {(s := cached_summary(store, "home", folder, uid)).message_id: set(s.flags)
                         for uid in store.uids("home", folder)}
                for folder in folders}
    return names, kept


def _told(events: Recorder) -> list[str]:
    """What the account told of folder changes and errors."""
    return [e.message for e in events.of(ErrorReported)] + [
        e.description for e in events.of(ActionApplied) if e.description.startswith("Folder")]


async def test_a_maildir_rename_killed_before_the_cache_followed_loses_nothing(tmp_path: Path) -> None:
    """mailbag is killed once the folders are renamed on disk, before the cache has followed:
    the next run shows the folders as the disk has them, every message in them, flags kept."""
    root, db = tmp_path / "Mail", tmp_path / "cache.sqlite3"
    _work_tree(root)
    child = await _synced_child(RENAME_SCRIPT, root, db)
    assert child.stdin is not None and child.stdout is not None
    try:
        cache = sqlite3.connect(db, isolation_level=None)
        cache.execute("BEGIN IMMEDIATE")  # the cache cannot be written: the rename stops there
        child.stdin.write(b"go\n")
        child.stdin.flush()
        await until(lambda: (root / ".Jobs.Sub").is_dir(), 30)
        child.send_signal(signal.SIGKILL)
        assert await asyncio.to_thread(child.wait, 30) == -signal.SIGKILL
        cache.execute("ROLLBACK")
        cache.close()
    finally:
        if child.poll() is None:
            child.kill()
    with Store.open(db) as store:
        assert "Work" in {f.name for f in store.folders("home")}  # the cache had not followed
    with Store.open(db) as store:
        events = Recorder()
        names, kept = await _started(MaildirAccount("home", root, store, events), events, ("Jobs", "Jobs/Sub"))
    assert {"Jobs", "Jobs/Sub"} <= names and not {"Work", "Work/Sub"} & names
    assert kept == {"Jobs": {message_id(1): {"\\Flagged"}, message_id(2): set()},
                    "Jobs/Sub": {message_id(3): set()}}
    assert _told(events) == ["Folder Work renamed to Jobs"]  # its own rename, not another program's


#: RENAME_SCRIPT, stopped for good after the rename's first directory (``.Work`` -> ``.Jobs``):
#: it says so, and waits there to be killed.
HALF_RENAME_SCRIPT = """
import os, sys, time
renamed = os.rename
def rename(source, target, **kwargs):
    renamed(source, target, **kwargs)
    if os.path.basename(source) == ".Work":
        print("half", flush=True)
        time.sleep(3600)
os.rename = rename
""" + RENAME_SCRIPT


@pytest.mark.parametrize("kind", ["maildir", "pop3"])
async def test_a_maildir_rename_killed_between_two_folders_is_finished_at_the_next_start(
    tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    """mailbag is killed after ``.Work`` became ``.Jobs`` and before ``.Work.Sub`` followed: the
    next start (of a Maildir or a POP3 account on the tree) finishes the rename, every message
    and flag kept, and the cache follows."""
    root, db = tmp_path / "Mail", tmp_path / "cache.sqlite3"
    maildir = _work_tree(root)
    maildir.create_folder("Work/Sub/Deep")
    maildir.add("Work/Sub/Deep", make_message(4), ("\\Seen",))
    child = await _synced_child(HALF_RENAME_SCRIPT, root, db)
    assert child.stdin is not None and child.stdout is not None
    try:
        child.stdin.write(b"go\n")
        child.stdin.flush()
        assert await asyncio.to_thread(child.stdout.readline) == b"half\n"
        child.send_signal(signal.SIGKILL)
        assert await asyncio.to_thread(child.wait, 30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
    assert {p.name for p in root.glob(".*")} >= {".Jobs", ".Work.Sub", ".Work.Sub.Deep"}  # half done

    events = Recorder()
    with Store.open(db) as store:
        if kind == "pop3":
            dovecot, user = request.getfixturevalue("dovecot"), request.getfixturevalue("mail_user")
            config = dataclasses.replace(pop3_account(dovecot, user, root), name="home")
            account: MaildirAccount = Pop3Account(config, root, store, events)
        else:
            account = MaildirAccount("home", root, store, events)
        names, kept = await _started(account, events, ("Jobs", "Jobs/Sub", "Jobs/Sub/Deep"))
    assert sorted(p.name for p in root.glob(".*")) == [".Jobs", ".Jobs.Sub", ".Jobs.Sub.Deep"]
    assert {"Jobs", "Jobs/Sub", "Jobs/Sub/Deep"} <= names and not {n for n in names if n.startswith("Work")}
    assert kept == {"Jobs": {message_id(1): {"\\Flagged"}, message_id(2): set()},
                    "Jobs/Sub": {message_id(3): set()}, "Jobs/Sub/Deep": {message_id(4): {"\\Seen"}}}
    assert _told(events) == ["Folder Work renamed to Jobs"]


@pytest.mark.parametrize("layout", ["maildir++", "nested"])
async def test_a_folder_half_deleted_by_an_older_version_is_shown_with_its_messages(
    tmp_path: Path, layout: MaildirLayout
) -> None:
    """An older mailbag, killed while deleting a folder, removed its ``cur/`` first: the messages
    left in ``new/`` were in a directory the tree did not show. It shows again, with them."""
    root, db = tmp_path / "Mail", tmp_path / "cache.sqlite3"
    maildir = MaildirStore(root, "home", create=True, layout=layout)
    maildir.create_folder("Old")
    maildir.create_folder("Kept")
    maildir.add_many("Old", [(make_message(1), ("\\Seen",)), (make_message(2), ()), (make_message(3), ())])
    directory = maildir.layout.path("Old")
    shutil.rmtree(directory / "cur")  # the state the kill left: cur/ gone, new/ still full
    shutil.rmtree(directory / "tmp")
    assert "Old" not in {f.name for f in MaildirStore(root, "home", layout=layout).list_folders()}
    events = Recorder()
    with Store.open(db) as store:
        names, kept = await _started(MaildirAccount("home", root, store, events, layout=layout), events, ("Old",))
    assert {"Old", "Kept"} <= names
    assert kept == {"Old": {message_id(2): set(), message_id(3): set()}}  # the unread ones, left in new/


CONFIG_SCRIPT = """
import sys
from pathlib import Path
from mailbag.paths import write_private

path = Path(sys.argv[1])
texts = [Path(sys.argv[2]).read_bytes(), Path(sys.argv[3]).read_bytes()]
print("writing", flush=True)
n = 0
while True:  # as `mailbag setup` saves an account: the whole file written again
    write_private(path, texts[n % 2])
    n += 1
"""


async def test_a_config_write_killed_at_any_moment_leaves_the_old_file_or_the_new(tmp_path: Path) -> None:
    folder = tmp_path / "mailbag"
    folder.mkdir(mode=0o700)
    config = folder / "config.toml"
    texts = [
        "".join(f'[accounts.a{i}]\nemail = "a{i}@example.test"\nmaildir = "~/Mail/a{i}"\n\n' for i in range(n))
        for n in (2000, 3000)
    ]
    for i, text in enumerate(texts):
        (tmp_path / f"text{i}").write_text(text)
    config.write_text(texts[0])
    env = {**os.environ, "PYTHONPATH": str(Path(package.__file__).parents[1])}
    for _ in range(5):
        child = subprocess.Popen([sys.executable, "-c", CONFIG_SCRIPT, str(config), str(tmp_path / "text0"),
                                  str(tmp_path / "text1")], env=env, stdout=subprocess.PIPE)
        assert child.stdout is not None
        assert await asyncio.to_thread(child.stdout.readline) == b"writing\n"
        await asyncio.sleep(0.05)  # some writes done, one under way
        child.send_signal(signal.SIGKILL)
        assert await asyncio.to_thread(child.wait, 30) == -signal.SIGKILL
        assert config.read_text() in texts  # whole, never a part
        assert len(parse_config(config.read_text(), config).accounts) in (2000, 3000)
        assert config.stat().st_mode & 0o777 == 0o600
    write_private(config, texts[1].encode())  # the next save (setup adding an account)
    assert sorted(p.name for p in folder.iterdir()) == ["config.toml"]  # no part left over
