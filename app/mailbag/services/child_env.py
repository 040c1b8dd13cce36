"""What the helper processes mailbag starts (``python -m mailbag.services...``) share."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import mailbag

#: How much lower a helper process's CPU priority is than mailbag's.
CHILD_NICENESS = 10
#: What a helper's stderr may hold that is kept for the log (the end of it).
STDERR_KEPT = 4000


def child_environment() -> dict[str, str]:
    """This process's environment, with this mailbag importable in a ``python -m`` child."""
    package_root = str(Path(mailbag.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    return env


async def stderr_tail(stream: asyncio.StreamReader) -> str:
    """The end of what a helper wrote to its stderr (a pipe: never the terminal the UI draws on)."""
    kept = b""
    while chunk := await stream.read(65536):
        kept = (kept + chunk)[-STDERR_KEPT:]
    return kept.decode("utf-8", "replace")
