"""mailbag, aerc and NeoMutt as a user sees them: each in a tmux pane at 80x24, timed until the
message list shows rows, with their peak RSS after scrolling the folder end to end.

"Rows show" means the same for all three: at least ``MIN_ROWS`` lines of the screen carry a sender
name of the generated mailbox (the folder pane and status lines never do).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.mailbag_run import REPO, Account, sync_env, write_config
from bench.neomutt import muttrc
from bench.tmux import Pane

MIN_ROWS = 3
#: Sender names of the corpus, cut to what an 80-column list shows of them.
SENDERS = ("Alice Ma", "Bob Okaf", "Grace Ho", "Priya Ra", "Ivan Pet", "Mei Chen", "Release ",
           "Fatima Z", "dev-list")
#: How long to let a client settle after G / g before reading its peak RSS.
SCROLL_SETTLE = 1.5


def rows_shown(screen: str) -> bool:
    return sum(1 for line in screen.splitlines() if any(s in line for s in SENDERS)) >= MIN_ROWS


@dataclass(frozen=True)
class Client:
    """How to start one mail client in a pane, and the keys for end / start of the list and quit."""

    name: str
    command: list[str]
    env: dict[str, str]
    bottom: tuple[str, ...]
    top: tuple[str, ...]
    quit: tuple[str, ...]

    @contextmanager
    def pane(self) -> Iterator[Pane]:
        pane = Pane(self.command, self.env, cwd=REPO)
        try:
            yield pane
        finally:
            pane.close(self.quit)


def mailbag(home: Path, account: Account) -> Client:
    """The real ``mailbag`` CLI with XDG dirs under ``home`` (reuse ``home`` for a warm start)."""
    config = write_config(home, account)
    return Client("mailbag", [sys.executable, "-m", "mailbag", "--config", str(config)],
                  sync_env(home, account), ("G",), ("g",), ("q",))


def neomutt(home: Path, account: Account, header_cache: bool) -> Client:
    """NeoMutt on the INBOX; ``header_cache`` keeps one under ``home`` (else none)."""
    home.mkdir(parents=True, exist_ok=True)
    cache = home / "hcache" if header_cache else None
    if cache:
        cache.mkdir(exist_ok=True)
    rc = muttrc(home, account.host, account.port, account.username, account.password,
                account.ca_file, cache)
    env = {**os.environ, "HOME": str(home)}
    return Client("NeoMutt", ["neomutt", "-n", "-F", str(rc)], env, ("*",), ("=",), ("q",))


def aerc_available() -> bool:
    return shutil.which("aerc") is not None


def aerc(home: Path, account: Account, cache_headers: bool) -> Client:
    """aerc 0.14 on the INBOX over IMAPS; Go reads the private CA from ``SSL_CERT_FILE``."""
    conf = home / "config" / "aerc"
    conf.mkdir(parents=True, exist_ok=True)
    accounts = conf / "accounts.conf"
    accounts.write_text(
        "[bench]\n"
        f"source = imaps://{account.username}:{account.password}@{account.host}:{account.port}\n"
        "outgoing = /bin/true\n"
        "default = INBOX\n"
        f"from = {account.username} <{account.username}@example.test>\n"
        f"cache-headers = {'true' if cache_headers else 'false'}\n",
        encoding="utf-8",
    )
    accounts.chmod(0o600)
    (conf / "aerc.conf").write_text("[general]\n\n[ui]\n", encoding="utf-8")
    shutil.copy("/usr/share/aerc/binds.conf", conf / "binds.conf")
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_CACHE_HOME": str(home / "cache"), "SSL_CERT_FILE": str(account.ca_file)}
    return Client("aerc", ["aerc"], env, ("G",), ("g",), (":", "q", "Enter"))


@dataclass(frozen=True)
class Opened:
    """Seconds from launch to rows on screen; peak RSS after G / g (None when not scrolled)."""

    seconds: float
    peak_rss_mb: float | None = None


def open_folder(client: Client, timeout: float = 600.0, scroll: bool = False) -> Opened:
    """Launch ``client``, time it until rows show; with ``scroll``, go to the end and back (letting
    each settle) and read the peak RSS."""
    with client.pane() as pane:
        seconds = pane.wait_for(rows_shown, timeout, f"{client.name} rows")
        if not scroll:
            return Opened(seconds)
        for keys in (client.bottom, client.top):
            pane.send(*keys)
            time.sleep(SCROLL_SETTLE)
        return Opened(seconds, pane.peak_rss_mb())


def temp_home(prefix: str) -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix=f"mailbag-bench-{prefix}-")
