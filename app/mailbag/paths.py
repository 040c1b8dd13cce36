"""Where mailbag keeps its files: XDG base directories through platformdirs.

Every path is computed when asked (never at import time), so setting XDG_* variables — as the tests
do — moves everything.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "mailbag"


def config_file() -> Path:
    """The config file: $MAILBAG_CONFIG, else $XDG_CONFIG_HOME/mailbag/config.toml."""
    override = os.environ.get("MAILBAG_CONFIG")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def data_dir() -> Path:
    """$XDG_DATA_HOME/mailbag: the cache database and local stores."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def state_dir() -> Path:
    """$XDG_STATE_HOME/mailbag: the log file."""
    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) if needed; returns it."""
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_db() -> Path:
    return data_dir() / "cache.sqlite3"


def log_file() -> Path:
    return state_dir() / "mailbag.log"
