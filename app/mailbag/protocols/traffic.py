"""Protocol traffic in the debug log (``--debug``): one line per command and reply, cut short
and cleaned of control characters. Callers mask credentials before they get here: a login is
logged by its verb and mechanism only."""

from __future__ import annotations

import logging

from mailbag.domain.sanitize import clean_line

#: The longest line of traffic logged; the rest is left out.
LIMIT = 200
#: What stands for a credential in the log.
MASK = "****"


def log_line(log: logging.Logger, direction: str, where: str, line: bytes | str) -> None:
    """Log ``line`` sent (``>``) or received (``<``) at DEBUG, when DEBUG is on."""
    if not log.isEnabledFor(logging.DEBUG):
        return
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
    text = text.split("\n", 1)[0].rstrip("\r")
    shown = clean_line(text)
    if len(shown) > LIMIT:
        shown = shown[:LIMIT] + "…"
    log.debug("%s %s %s", where, direction, shown)
