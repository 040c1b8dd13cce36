"""`mailbag sync` for a POP3 account, as a person runs it, and killed (SIGKILL) in the middle of
a download or of the deletion on the server: the next run ends with every message here exactly
once, and on the server as configured."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mailbag import paths
from mailbag.services.pop3_account import CHILD_MIN, DOWNLOAD_LOCK
from mailbag.services.pop3_batches import BATCH
from mailbag.store.store import Store
from tests.integration.pop3_fixtures import QuitHolder, expected_ids, local_ids, on_server
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.messages import make_message

pytestmark = pytest.mark.dovecot


def write_config(
    path: Path, dovecot: DovecotServer, user: MailUser, *, leave: bool = True, port: int | None = None
) -> Path:
    """The account on Dovecot's POP3S port, or in plain text on ``port``."""
    security = "tls" if port is None else "none"
    path.write_text(
        f"""
[accounts.old]
email = "{user.email}"

[accounts.old.pop3]
host = "localhost"
port = {port or dovecot.pop3s_port}
security = "{security}"
username = "{user.name}"
password_env = "MAILBAG_TEST_PASSWORD"
ca_file = "{dovecot.ca_file}"
leave_on_server = {"true" if leave else "false"}
""",
        encoding="utf-8",
    )
    return path


def command(config: Path) -> list[str]:
    return [sys.executable, "-m", "mailbag", "--debug", "--config", str(config), "sync"]


def run(config: Path, password: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MAILBAG_TEST_PASSWORD=password)
    return subprocess.run(command(config), capture_output=True, text=True, env=env, timeout=300)


def maildir() -> Path:
    return paths.pop3_maildir("old")


def files_in(root: Path) -> int:
    return sum(len(os.listdir(root / sub)) for sub in ("new", "cur") if (root / sub).is_dir())


def kill_when(config: Path, password: str, ready: object) -> bool:
    """Start ``mailbag sync`` and SIGKILL it once ``ready()`` holds; True if it was killed
    before it finished."""
    env = dict(os.environ, MAILBAG_TEST_PASSWORD=password)
    proc = subprocess.Popen(command(config), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert callable(ready)
    try:
        while proc.poll() is None and not ready():
            time.sleep(0.005)
        killed = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(60)
    return killed


def test_sync_downloads_into_the_default_maildir(dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path) -> None:
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(20)))
    config = write_config(tmp_path / "config.toml", dovecot, mail_user)
    result = run(config, mail_user.password)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:-1] == ["old/INBOX: 20/20 messages downloaded"]
    assert "old: 1 folder, 20 messages cached in " in result.stdout  # a new account's Inbox alone
    assert local_ids(maildir()) == expected_ids(range(20))
    assert maildir() == Path(os.environ["XDG_DATA_HOME"]) / "mailbag" / "pop3" / "old"
    again = run(config, mail_user.password)
    assert again.returncode == 0 and "20 messages cached" in again.stdout
    assert again.stdout.splitlines()[:-1] == []  # nothing new, read or downloaded: the summary alone
    assert local_ids(maildir()) == expected_ids(range(20))


def test_a_big_download_is_shared_with_a_child_that_writes_while_sync_reads_the_headers(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path
) -> None:
    total = CHILD_MIN + 10
    dovecot.deliver_many(mail_user.name, (make_message(i, size=500) for i in range(total)))
    config = write_config(tmp_path / "config.toml", dovecot, mail_user)
    env = dict(os.environ, MAILBAG_TEST_PASSWORD=mail_user.password)
    sync = subprocess.Popen(command(config), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = sync.communicate(timeout=300)
    assert sync.returncode == 0, err
    assert f"{total} messages cached" in out
    assert local_ids(maildir()) == expected_ids(range(total))
    # Another process delivered them (a Maildir key names the process that wrote it) ...
    writers = {re.search(r"P(\d+)Q", p.name).group(1) for p in (maildir() / "new").iterdir()}  # type: ignore[union-attr]
    assert len(writers) == 1 and writers != {str(sync.pid)}
    # ... and what this one read from the files is in the cache, each row with its own message.
    store = Store.open(paths.cache_db())
    try:
        cached = {store.summary("old", "INBOX", uid).message_id for uid in store.uids("old", "INBOX")}  # type: ignore[union-attr]
    finally:
        store.close()
    assert sorted(cached) == expected_ids(range(total))


def test_sync_with_a_wrong_password_says_so_without_a_traceback(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "config.toml", dovecot, mail_user)
    result = run(config, "wrong-password")
    assert result.returncode == 1
    assert "old: sync failed: login refused" in result.stderr
    assert "Traceback" not in result.stderr and "wrong-password" not in result.stderr


def test_killed_during_the_download_the_next_run_has_every_message_once(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path
) -> None:
    total = 3000
    dovecot.deliver_many(mail_user.name, (make_message(i, size=4000) for i in range(total)))
    config = write_config(tmp_path / "config.toml", dovecot, mail_user)
    killed = [
        kill_when(config, mail_user.password, lambda: (maildir() / "new").is_dir() and files_in(maildir()) >= at)
        for at in (1, 700)
    ]
    assert killed == [True, True]
    assert 0 < files_in(maildir()) < total
    result = run(config, mail_user.password)
    assert result.returncode == 0, result.stderr
    assert local_ids(maildir()) == expected_ids(range(total))
    assert on_server(dovecot, mail_user) == total
    assert not os.listdir(maildir() / "tmp")


@pytest.mark.parametrize("total", [BATCH + 44, CHILD_MIN + 44], ids=["in mailbag's process", "in the download process"])
async def test_killed_during_the_deletion_the_next_run_finishes_it(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, total: int
) -> None:
    """Killed once every DELE is answered and its QUIT (which would commit them) is on its way:
    the server keeps every message, the next run deletes them, nothing is here twice. A big
    download's process sends the DELEs in its own session, and stops when mailbag is killed."""
    dovecot.deliver_many(mail_user.name, (make_message(i, size=500) for i in range(total)))
    async with QuitHolder(dovecot.host, dovecot.pop3_port) as holder:
        config = write_config(tmp_path / "held.toml", dovecot, mail_user, leave=False, port=holder.port)
        env = dict(os.environ, MAILBAG_TEST_PASSWORD=mail_user.password)
        child = await asyncio.create_subprocess_exec(
            *command(config), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        held = asyncio.create_task(holder.quit_held.wait())
        ended = asyncio.create_task(child.wait())
        await asyncio.wait({held, ended}, timeout=300, return_when=asyncio.FIRST_COMPLETED)  # a hang guard
        assert held.done(), "mailbag ended (or hung) before its QUIT"
        child.kill()
        await ended
        await holder.closed()
    assert holder.deletes == total
    assert local_ids(maildir()) == expected_ids(range(total))
    assert on_server(dovecot, mail_user) == total  # the server forgot the DELE without QUIT
    config = write_config(tmp_path / "config.toml", dovecot, mail_user, leave=False)
    result = await asyncio.to_thread(run, config, mail_user.password)
    assert result.returncode == 0, result.stderr
    assert local_ids(maildir()) == expected_ids(range(total))
    assert on_server(dovecot, mail_user) == 0


def test_a_sync_beside_a_download_under_way_says_it_leaves_the_download_to_it(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path
) -> None:
    """`mailbag sync` while another mailbag downloads for the account (holding its download lock)
    fetches nothing itself, and says why, instead of ending as if there were no new mail."""
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(3)))
    config = write_config(tmp_path / "config.toml", dovecot, mail_user)
    root = maildir()
    root.mkdir(parents=True)
    held = paths.try_lock(root / DOWNLOAD_LOCK)  # as the other mailbag's download holds it
    assert held is not None
    try:
        result = run(config, mail_user.password)
    finally:
        os.close(held)
    assert result.returncode == 0, result.stderr
    assert "old: another mailbag is downloading this account's mail; this check leaves it to that one" \
        in result.stdout
    assert files_in(root) == 0
