"""Profile one ``mailbag sync`` with py-spy (every thread, so the cache writes in worker threads count)
and sum the samples by layer: IMAP parsing, summary building, SQLite writes, events, I/O.

Each sample goes to the innermost frame whose file belongs to a known layer, so a call into
``re`` or ``datetime`` is charged to the mailbag code that made it.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.mailbag_run import Account, SyncRun, run_sync

#: (layer, substring of the frame's file path), first match from the innermost frame wins.
LAYERS: tuple[tuple[str, str], ...] = (
    ("IMAP framing/parsing", "mailbag/protocols/imap/framing.py"),
    ("IMAP framing/parsing", "mailbag/protocols/imap/parser.py"),
    ("IMAP framing/parsing", "mailbag/protocols/imap/protocol.py"),
    ("IMAP framing/parsing", "mailbag/protocols/imap/stream.py"),
    ("summary building", "mailbag/protocols/imap/summary.py"),
    ("summary building", "mailbag/domain/headers.py"),
    ("summary building", "mailbag/domain/sanitize.py"),
    ("summary building", "mailbag/domain/models.py"),
    ("IMAP client plumbing", "mailbag/protocols/imap/client.py"),
    ("POP3 client", "mailbag/protocols/pop3/"),
    ("Maildir delivery (write, fsync)", "mailbag/protocols/maildir_delivery.py"),
    ("Maildir scan + summaries", "mailbag/protocols/maildir.py"),
    ("aioimaplib", "aioimaplib/"),
    ("SQLite writes (store)", "mailbag/store/"),
    ("SQLite writes (store)", "sqlalchemy/"),
    ("SQLite writes (store)", "sqlite3/"),
    ("services + events", "mailbag/services/"),
    ("CLI + progress output", "mailbag/__main__.py"),
    ("TLS / socket I/O", "ssl.py"),
    ("asyncio loop", "asyncio/"),
    ("threads (to_thread hand-off)", "concurrent/futures/"),
    ("threads (to_thread hand-off)", "threading.py"),
    ("start-up imports", "<frozen importlib"),
)
_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>.*?)(?::\d+)?\)$")


@dataclass(frozen=True)
class Profile:
    """Samples by layer and the costliest functions (self time), with the run they came from."""

    run: SyncRun
    total: int
    layers: list[tuple[str, int]]
    top_self: list[tuple[str, int]]
    top_inclusive: list[tuple[str, int]]
    raw_path: Path


def py_spy() -> str | None:
    """py-spy's path: on the PATH, or beside this Python (a virtual environment's bin/, which
    ``.venv/bin/python -m bench`` does not put on the PATH)."""
    return shutil.which("py-spy") or shutil.which("py-spy", path=os.path.dirname(sys.executable))


def available() -> bool:
    return py_spy() is not None


def _layer(stack: list[str]) -> str:
    for frame in reversed(stack):
        for layer, marker in LAYERS:
            if marker in frame:
                return layer
    leaf = _FRAME.match(stack[-1]) if stack else None
    return f"other ({Path(leaf.group('file')).name})" if leaf else "other"


def _short(frame: str) -> str:
    found = _FRAME.match(frame)
    if not found:
        return frame
    file = found.group("file")
    for anchor in ("mailbag/", "aioimaplib/", "sqlalchemy/", "asyncio/"):
        if anchor in file:
            file = file[file.index(anchor):]
            break
    else:
        file = Path(file).name
    return f"{found.group('func')} ({file})"


def summarise(raw: str) -> tuple[int, Counter[str], Counter[str], Counter[str]]:
    """Parse py-spy's raw (collapsed) output into totals by layer, self time and inclusive time."""
    layers: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not stack_text or not count_text.isdigit():
            continue
        count = int(count_text)
        stack = [f for f in stack_text.split(";") if f and not f.startswith("process ")
                 and not f.startswith("thread ")]
        if not stack:
            continue
        total += count
        layers[_layer(stack)] += count
        self_time[_short(stack[-1])] += count
        for frame in {_short(f) for f in stack if "mailbag/" in f}:
            inclusive[frame] += count
    return total, layers, self_time, inclusive


def profile_sync(account: Account, rate: int = 250, top: int = 15, protocol: str = "imap",
                 idle: bool = False) -> Profile:
    """One first sync under ``py-spy record`` with fresh XDG dirs; the raw profile is kept.
    ``idle`` also counts threads while they wait (on the disk, the network, a lock)."""
    out_dir = Path(tempfile.mkdtemp(prefix="mailbag-bench-profile-"))
    raw_path = out_dir / "sync.pyspy.txt"
    prefix = [py_spy() or "py-spy", "record", "--format", "raw", "--rate", str(rate), "--nonblocking",
              "--output", str(raw_path)] + (["--idle"] if idle else []) + ["--"]
    run = run_sync(out_dir / "home", account, prefix=prefix, protocol=protocol)
    total, layers, self_time, inclusive = summarise(raw_path.read_text())
    return Profile(run, total, layers.most_common(), self_time.most_common(top),
                   inclusive.most_common(top), raw_path)


def format_profile(p: Profile) -> str:
    """The profile as text: share of samples by layer, then the top functions."""
    def pct(n: int) -> str:
        return f"{100 * n / p.total:5.1f}%" if p.total else "  -  "
    lines = [f"py-spy: {p.total} samples over a {p.run.seconds:.2f} s sync (raw: {p.raw_path})",
             "by layer (innermost mailbag/library frame):"]
    lines += [f"  {pct(n)}  {name}" for name, n in p.layers]
    lines.append("top functions, self time:")
    lines += [f"  {pct(n)}  {name}" for name, n in p.top_self]
    lines.append("top mailbag functions, inclusive:")
    lines += [f"  {pct(n)}  {name}" for name, n in p.top_inclusive]
    return "\n".join(lines)
