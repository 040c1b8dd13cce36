"""A cache that cannot be used (not a database, damaged pages, read-only, a full disk) is one line
from the UI and from ``mailbag sync``, never a traceback; the file is left as it was."""

from __future__ import annotations

import mailbox
import os
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import pytest

from mailbag.services.demo import build_demo_mailbox
from tests.unit.cli import environment, mailbag, run_in_terminal

MOVE_IT = "move it away and mailbag builds a new one from the server"


def demo_config(home: Path) -> Path:
    """A config whose one account is a local Maildir with the demo's 99 messages."""
    config = home / "config.toml"
    root = build_demo_mailbox(home / "Mail")
    config.write_text(f'[accounts.demo]\nemail = "me@example.org"\nmaildir = "{root}"\n', encoding="utf-8")
    return config


def filled_cache(home: Path) -> tuple[Path, Path]:
    """The config and the cache a real ``mailbag sync`` of the demo account wrote."""
    config = demo_config(home)
    result = mailbag("--config", str(config), "sync", env_home=home)
    assert result.returncode == 0, result.stderr
    return config, home / "data" / "mailbag" / "cache.sqlite3"


def assert_one_line_from_ui_and_sync(
    config: Path, cache: Path, reason: str, prefix: Sequence[str] = ()
) -> None:
    expected = f"mailbag: the cache {cache} cannot be used ({reason}); {MOVE_IT}"
    home = cache.parents[2]
    status, screen = run_in_terminal("--config", str(config), env=environment(home), prefix=prefix)
    assert "Traceback" not in screen and expected in screen
    assert status == 2

    synced = subprocess.run(
        [*prefix, sys.executable, "-m", "mailbag", "--config", str(config), "sync"],
        capture_output=True, text=True, env=environment(home), timeout=60,
    )
    assert (synced.returncode, synced.stderr.splitlines()) == (2, [expected])


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    config = demo_config(tmp_path)
    cache = tmp_path / "data" / "mailbag" / "cache.sqlite3"
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"this is not a database " * 200)

    assert_one_line_from_ui_and_sync(config, cache, "file is not a database")
    assert cache.read_bytes() == b"this is not a database " * 200  # left as it was


def test_a_cache_with_damaged_pages(tmp_path: Path) -> None:
    config, cache = filled_cache(tmp_path)
    with closing(sqlite3.connect(cache)) as raw:  # the pages of the messages the list shows
        pages = [p for (p,) in raw.execute(
            "SELECT pageno FROM dbstat WHERE name = 'messages' ORDER BY pageno"
        )]
        (size,) = raw.execute("PRAGMA page_size").fetchone()
    data = bytearray(cache.read_bytes())
    for page in pages[:2]:  # two of them overwritten
        data[(page - 1) * size : page * size] = b"\xa5" * size
    cache.write_bytes(bytes(data))

    assert_one_line_from_ui_and_sync(config, cache, "database disk image is malformed")
    assert cache.read_bytes() == bytes(data)


def test_a_read_only_cache_file(tmp_path: Path) -> None:
    config, cache = filled_cache(tmp_path)
    cache.chmod(0o444)
    # Root may write to any file: the command runs as an ordinary user in a user namespace of its
    # own, which still owns the files (and so reaches the checkout wherever it is) but has no
    # privilege over them.
    as_ordinary_user = ["unshare", "--map-user=1000", "--map-group=1000"] if os.geteuid() == 0 else []

    assert_one_line_from_ui_and_sync(config, cache, "read-only file", as_ordinary_user)
    assert oct(cache.stat().st_mode & 0o777) == oct(0o444)


def test_a_cache_on_a_read_only_file_system(tmp_path: Path) -> None:
    config, cache = filled_cache(tmp_path)
    before = cache.read_bytes()
    # The cache's folder bound read-only onto itself in a mount namespace of its own: a mount
    # that refuses writes even to root.
    folder = cache.parent
    read_only = [
        "unshare", "--mount", "--map-root-user", "sh", "-c",
        f'mount --bind "{folder}" "{folder}" && mount -o remount,bind,ro "{folder}" && exec "$@"',
        "sh",
    ]

    assert_one_line_from_ui_and_sync(config, cache, "read-only file system", read_only)
    assert cache.read_bytes() == before


def usage(home: Path) -> int:
    """Bytes the files under ``home`` take, counted in whole 4 KiB pages as tmpfs does."""
    return sum(-(-p.stat().st_size // 4096) * 4096 for p in home.rglob("*") if p.is_file())


def big_maildir_config(home: Path, count: int) -> Path:
    """A config whose one account is a Maildir: 10 messages in the Inbox, ``count`` in Archive."""
    root = home / "Mail"
    inbox = mailbox.Maildir(root)
    for box, size in ((inbox, 10), (inbox.add_folder("Archive"), count)):
        for n in range(size):
            box.add(f"From: a{n}@example.org\nSubject: Report {n} about the {n % 97}th item\n"
                    f"Message-ID: <{n}@example.org>\n\nMessage {n}\n")
    config = home / "config.toml"
    config.write_text(f'[accounts.big]\nemail = "me@example.org"\nmaildir = "{root}"\n', encoding="utf-8")
    return config


def test_a_full_disk_is_one_line_without_a_logging_traceback(tmp_path: Path) -> None:
    config = big_maildir_config(tmp_path, 3000)
    # The room a whole sync takes, measured; the disk below has half of it.
    measured = tmp_path / "measured"
    result = mailbag("--config", str(config), "sync", env_home=measured)
    assert result.returncode == 0, result.stderr
    room = usage(measured) // 2 // 4096 * 4096
    # A real filesystem of that size, in a mount namespace of its own: the cache is created on it,
    # and the disk fills up part-way through the sync.
    disk = tmp_path / "disk"
    disk.mkdir()
    script = (
        f'mount -t tmpfs -o size={room} tmpfs "{disk}" && '
        f'exec "{sys.executable}" -m mailbag --config "{config}" sync'
    )
    result = subprocess.run(
        ["unshare", "--mount", "--map-root-user", "sh", "-c", script],
        capture_output=True, text=True, env=environment(disk), timeout=120,
    )

    cache = disk / "data" / "mailbag" / "cache.sqlite3"
    assert result.stderr.splitlines() == [
        f"mailbag: the cache {cache} cannot be used (database or disk is full); "
        "free some space on its disk and start mailbag again"
    ]
    assert result.returncode == 2
    assert "big/INBOX: 10/10 headers" in result.stdout  # the disk filled up part-way through
