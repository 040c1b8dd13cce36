"""The benchmark's private Dovecot, its mail kept in a cache dir between runs.

The server directory is keyed by the corpus generator version. Each mailbox size is one user
(``bench10000``, ``bench100000``...) whose INBOX is filled once; a marker file records that
the fill finished and how long it took, so an interrupted fill is redone, never trusted.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench import corpus
from tests.servers.dovecot import DovecotServer, MailUser

PASSWORD = "bench-secret"
FILL_BATCH = 10_000


def default_cache_dir() -> Path:
    """``$MAILBAG_BENCH_CACHE``, else a per-user dir under the system temp dir.

    Not under the home dir: Dovecot's unprivileged processes must be able to reach the mail.
    """
    env = os.environ.get("MAILBAG_BENCH_CACHE")
    if env:
        return Path(env)
    return Path(tempfile.gettempdir()) / f"mailbag-bench-{os.getuid()}"


def _stop_left_over_master(pid_file: Path) -> None:
    """Stop a Dovecot that a benchmark killed without its clean-up left running (holding the
    lock means no benchmark owns it now)."""
    try:
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return
    if b"dovecot" not in cmdline or str(pid_file.parent.parent).encode() not in cmdline:
        return  # the pid now belongs to something else
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)


@dataclass(frozen=True)
class FilledMailbox:
    """One user's INBOX of ``count`` generated messages."""

    user: MailUser
    count: int
    fill_seconds: float
    cached: bool


class BenchServer:
    """A started private Dovecot whose generated mailboxes survive between runs."""

    def __init__(self, cache_dir: Path) -> None:
        self.base = cache_dir / f"dovecot-gen{corpus.GENERATOR_VERSION}"
        self.base.mkdir(parents=True, exist_ok=True)
        for parent in (cache_dir, self.base):
            parent.chmod(0o755)
        # One benchmark at a time per cache dir: a second one would make new certificates under
        # the first one's running server. The lock goes with the process, however it ends.
        self._lock = open(self.base / "bench.lock", "w")  # noqa: SIM115 - held until __exit__
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise RuntimeError(
                f"another benchmark is running on {self.base}; run one at a time"
            ) from None
        _stop_left_over_master(self.base / "run" / "master.pid")
        self.dovecot = DovecotServer(self.base)

    def __enter__(self) -> BenchServer:
        self.dovecot.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.dovecot.stop()
        self._lock.close()

    def mailbox(self, count: int, progress: bool = True) -> FilledMailbox:
        """The user holding ``count`` messages, filling the INBOX first when not cached."""
        name = f"bench{count}"
        user = MailUser(name=name, password=PASSWORD, email=f"{name}@{corpus.DOMAIN}")
        marker = self.base / f"{name}.filled.json"
        if marker.exists():
            info = json.loads(marker.read_text())
            if info.get("count") == count and self._message_count(name) == count:
                return FilledMailbox(user, count, info["seconds"], cached=True)
        self._reset_user(name)
        started = time.monotonic()
        for start in range(0, count, FILL_BATCH):
            end = min(count, start + FILL_BATCH)
            self.dovecot.deliver_many(name, _slice(start, end, count))
            if progress:
                print(f"  filling {name}: {end}/{count} ({time.monotonic() - started:.0f} s)", flush=True)
        seconds = time.monotonic() - started
        found = self._message_count(name)
        if found != count:
            raise RuntimeError(f"{name}: expected {count} messages after the fill, found {found}")
        marker.write_text(json.dumps({"count": count, "seconds": round(seconds, 2)}))
        return FilledMailbox(user, count, seconds, cached=False)

    def _reset_user(self, name: str) -> None:
        entry = self.base / "users" / name
        if entry.exists():
            # Every folder: a hand test may have moved messages out of the INBOX.
            self.dovecot.doveadm("expunge", "-u", name, "mailbox", "*", "all", allowed_codes=(0, 68))
        else:
            self.dovecot.add_user(name, PASSWORD)

    def _message_count(self, name: str) -> int:
        if not (self.base / "users" / name).exists():
            return -1
        out = self.dovecot.doveadm("mailbox", "status", "-u", name, "-t", "messages", "*",
                                   allowed_codes=(0, 67, 68))  # the user's total, every folder
        text = out.strip().partition("=")[2]
        return int(text) if text.isdigit() else -1


def _slice(start: int, end: int, count: int) -> Iterator[bytes]:
    for i in range(start, end):
        yield corpus.message(i, count)
