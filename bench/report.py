"""The benchmark's outputs: a text table on stdout and a JSON file under bench/results/."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.figures import Figure, Spread

RESULTS = Path(__file__).resolve().parent / "results"
HEADERS = ("size", "figure", "mailbag min / med / max", "reference", "ref min / med / max", "ratio", "goal")


def table(figures: list[Figure]) -> str:
    """A Markdown table (readable in a terminal, pasteable into the README)."""
    rows = [HEADERS]
    for f in figures:
        mine = f"{Spread.of(f.samples).show(f.digits)} {f.unit}" if f.samples else "-"
        ref = (f"{Spread.of(f.reference_samples).show(f.digits)} {f.unit}"
               if f.reference_samples else "-")
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else "-"
        rows.append((f"{f.size:,}", f.name, mine, f.reference or "-", ref, ratio, f.goal or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADERS))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _git_commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=RESULTS.parent, check=False)
    return result.stdout.strip() or "unknown"


def write_json(figures: list[Figure], options: dict[str, Any], extra: dict[str, Any]) -> Path:
    """Write the figures and their context to ``bench/results/<timestamp>.json``."""
    now = datetime.now(timezone.utc)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{now.strftime('%Y%m%dT%H%M%SZ')}.json"
    data = {
        "timestamp": now.isoformat(timespec="seconds"),
        "commit": _git_commit(),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                    "platform": platform.platform()},
        "command": " ".join(["python -m bench", *sys.argv[1:]]),
        "options": options,
        "context": extra,
        "figures": [f.as_json() for f in figures],
    }
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
