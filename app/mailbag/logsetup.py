"""Logging to a file under the user's state dir; never to the screen."""

from __future__ import annotations

import logging
import logging.handlers
from io import TextIOWrapper
from pathlib import Path

from mailbag import paths


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A RotatingFileHandler whose files (the first and each one after a rollover) are 0600."""

    def _open(self) -> TextIOWrapper:
        paths.private_file(Path(self.baseFilename))
        return super()._open()


def setup_logging(path: Path, *, debug: bool = False) -> None:
    """Send every log record to a rotating file at ``path`` (INFO, or DEBUG with --debug). When
    the file cannot be made (a full or read-only disk), records are dropped."""
    handler: logging.Handler
    try:
        handler = PrivateRotatingFileHandler(path, maxBytes=5_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()
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
