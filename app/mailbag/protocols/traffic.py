"""Protocol traffic in the debug log (``--debug``): one line per command and reply, cut short
and cleaned of control characters. Callers mask credentials before they get here: a login is
logged by its verb and mechanism only, and what the server says back with a credential in it
(a refusal quoting the login) shows :data:`MASK` in its place, in the log and in errors alike."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable

from mailbag.domain.sanitize import clean_line
from mailbag.protocols import sasl

#: The longest line of traffic logged; the rest is left out.
LIMIT = 200
#: What stands for a credential in the log.
MASK = "****"
#: The shortest form of a credential masked in what the server says.
SHORTEST = 8


def log_line(
    log: logging.Logger, direction: str, where: str, line: bytes | str, hide: Iterable[str] = ()
) -> None:
    """Log ``line`` sent (``>``) or received (``<``) at DEBUG, when DEBUG is on, with each of
    ``hide`` (see :func:`credentials`) masked."""
    if not log.isEnabledFor(logging.DEBUG):
        return
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
    text = masked(text.split("\n", 1)[0].rstrip("\r"), hide)
    shown = clean_line(text)
    if len(shown) > LIMIT:
        shown = shown[:LIMIT] + "…"
    log.debug("%s %s %s", where, direction, shown)


def credentials(username: str, secret: str, host: str, port: int, oauth2: bool = False) -> tuple[str, ...]:
    """Every form in which a login gives ``secret`` (a password or an OAuth2 access token) away:
    itself, AUTH PLAIN's base64 string, LOGIN's base64 answer, and a token's SASL responses;
    those shorter than :data:`SHORTEST` are left out (they would mask ordinary words: a
    password "p" in "expires")."""
    if not secret:
        return ()
    forms = [secret, _b64(f"\0{username}\0{secret}"), _b64(secret)]
    if oauth2:
        forms += [sasl.initial_response(m, username, secret, host, port) for m in sasl.OAUTH_MECHANISMS]
    return tuple(form for form in forms if len(form) >= SHORTEST)


def masked(text: str, hide: Iterable[str]) -> str:
    """``text`` with each of ``hide`` replaced by :data:`MASK` (the longest first)."""
    for form in sorted(hide, key=len, reverse=True):
        if form:
            text = text.replace(form, MASK)
    return text


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")
