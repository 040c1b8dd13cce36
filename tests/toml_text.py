"""Config files for tests, written as TOML tables instead of text templates."""

from __future__ import annotations

import json
from pathlib import Path


def toml_table(name: str, **values: str | int | bool | Path) -> str:
    """The table ``[name]`` with ``values``: strings and paths quoted, booleans in lower case."""
    lines = [f"[{name}]"]
    for key, value in values.items():
        if isinstance(value, bool):
            shown = "true" if value else "false"
        elif isinstance(value, int):
            shown = str(value)
        else:
            shown = json.dumps(str(value))  # a JSON string is a TOML basic string
        lines.append(f"{key} = {shown}")
    return "\n".join(lines) + "\n"
