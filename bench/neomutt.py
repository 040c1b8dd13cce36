"""The NeoMutt reference: open a big IMAP folder with no header cache, headless in tmux.

NeoMutt runs in a detached tmux session on a private socket; the pane is polled with
``capture-pane`` until the index status line shows ``Msgs:<count>``, which NeoMutt prints only
once every header is loaded. The peak RSS is read from ``/proc/<pid>/status`` (VmHWM) then.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.tmux import peak_rss_mb

POLL = 0.02


@dataclass(frozen=True)
class NeomuttRun:
    """Seconds from launch until the index shows every message, and NeoMutt's peak RSS."""

    seconds: float
    peak_rss_mb: float


def available() -> bool:
    return shutil.which("neomutt") is not None and shutil.which("tmux") is not None


def install() -> None:
    """Install NeoMutt, aerc (a reference of the UI figures) and tmux with apt (needs root)."""
    subprocess.run(["apt-get", "install", "-y", "neomutt", "aerc", "tmux"], check=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def muttrc(home: Path, host: str, port: int, user: str, password: str, ca_file: Path,
            header_cache: Path | None = None) -> Path:
    """A muttrc for the INBOX over IMAPS; no header cache unless ``header_cache`` names a dir."""
    path = home / "muttrc"
    path.write_text(
        f'set folder="imaps://{user}@{host}:{port}/"\n'
        'set spoolfile="+INBOX"\n'
        f'set imap_user="{user}"\n'
        f'set imap_pass="{password}"\n'
        f'set ssl_ca_certificates_file="{ca_file}"\n'
        f'set certificate_file="{home / "certificates"}"\n'
        f'set header_cache="{header_cache or ""}"\n'
        'set message_cachedir=""\n'
        "set imap_check_subscribed=no\n"
        "set mail_check_stats=no\n"
        "set quit=yes\n"
        "set timeout=600\n",
        encoding="utf-8",
    )
    return path


def _tmux(socket: str, *args: str) -> str:
    result = subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, check=False)
    return result.stdout


def open_folder(host: str, port: int, user: str, password: str, ca_file: Path, count: int,
                timeout: float = 600.0) -> NeomuttRun:
    """Launch NeoMutt on the INBOX and time it until the index shows ``count`` messages."""
    with tempfile.TemporaryDirectory(prefix="mailbag-bench-neomutt-") as tmp:
        home = Path(tmp)
        rc = muttrc(home, host, port, user, password, ca_file)
        socket = f"mailbag-bench-{os.getpid()}"
        env = {**os.environ, "HOME": str(home), "TERM": "xterm-256color"}
        want = f"Msgs:{count}"
        started = time.perf_counter()
        subprocess.run(
            ["tmux", "-L", socket, "-f", "/dev/null", "new-session", "-d", "-x", "120", "-y", "40",
             "-s", "bench", f"neomutt -n -F {rc}"],
            env=env, check=True,
        )
        try:
            pid = int(_tmux(socket, "display-message", "-p", "-t", "bench", "#{pane_pid}").strip() or 0)
            while True:
                screen = _tmux(socket, "capture-pane", "-p", "-t", "bench")
                if want in screen:
                    seconds = time.perf_counter() - started
                    break
                if time.perf_counter() - started > timeout:
                    raise TimeoutError(f"NeoMutt did not show {want} in {timeout:g} s:\n{screen}")
                if not screen and not _tmux(socket, "list-sessions"):
                    raise RuntimeError("NeoMutt exited before showing the folder")
                time.sleep(POLL)
            rss = peak_rss_mb(pid)
            _tmux(socket, "send-keys", "-t", "bench", "q")
            time.sleep(0.2)
        finally:
            _tmux(socket, "kill-server")
        return NeomuttRun(seconds, rss)
