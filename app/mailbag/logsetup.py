"""Logging to a file under the user's state dir; never to the screen."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path


def setup_logging(path: Path, *, debug: bool = False) -> None:
    """Send every log record to a rotating file at ``path`` (INFO, or DEBUG with --debug)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=5_000_000, backupCount=3, encoding="utf-8"
    )
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    # A record that cannot be written (a full disk) is dropped: logging would otherwise print
    # its own traceback on the screen, which a user must never see.
    logging.raiseExceptions = False
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    # aioimaplib logs every byte it sends and receives at DEBUG (LOGIN included): keep it quiet.
    logging.getLogger("aioimaplib").setLevel(logging.WARNING)
    logging.getLogger("aioimaplib.aioimaplib").setLevel(logging.WARNING)
