"""Opening a web link in the user's browser.

The browser is ``$BROWSER`` (its first entry: the variable may list several, separated by
``:``; ``%s`` in it stands for the URL, else the URL is added at the end), else ``xdg-open``. It is
started with an argument list, never through a shell, so nothing in a URL is ever run as a
command; detached from mailbag's terminal (its own session, no terminal input or output), so
it cannot draw over the screen. Only http and https URLs are handed over here: the caller has
checked the scheme and asked the user.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import threading
from collections.abc import Callable, Mapping

_WEB_SCHEMES = ("http://", "https://")


class BrowserFailed(Exception):
    """The browser could not be started (not installed, a malformed ``$BROWSER``)."""


def browser_command(url: str, environ: Mapping[str, str] | None = None) -> list[str]:
    """The command that opens ``url``, as an argument list."""
    environ = os.environ if environ is None else environ
    for entry in environ.get("BROWSER", "").split(":"):
        try:
            words = shlex.split(entry)
        except ValueError:
            raise BrowserFailed(f"$BROWSER cannot be read: {entry!r}") from None
        if words:
            if any("%s" in word for word in words):
                return [word.replace("%s", url) for word in words]
            return [*words, url]
    return ["xdg-open", url]


def open_in_browser(url: str, ended: Callable[[list[str], int], None]) -> None:
    """Start the browser on ``url`` (http or https only); ``ended(command, status)`` is called
    from another thread when the command exits. Raises BrowserFailed when it cannot start."""
    if not url.lower().startswith(_WEB_SCHEMES):
        raise BrowserFailed(f"not a web link: {url}")
    command = browser_command(url)
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as error:
        raise BrowserFailed(f"cannot run {command[0]}: {error.strerror or error}") from None
    # Wait for it (so that it is reaped) on a thread of its own: a browser may run for hours.
    threading.Thread(
        target=lambda: ended(command, process.wait()), name="mailbag-browser", daemon=True
    ).start()
