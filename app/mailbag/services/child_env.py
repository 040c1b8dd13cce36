"""What the helper processes mailbag starts (``python -m mailbag.services...``) share."""

from __future__ import annotations

import os
from pathlib import Path

import mailbag

#: How much lower a helper process's CPU priority is than mailbag's.
CHILD_NICENESS = 10


def child_environment() -> dict[str, str]:
    """This process's environment, with this mailbag importable in a ``python -m`` child."""
    package_root = str(Path(mailbag.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    return env
