"""The OAuth2 SASL mechanisms IMAP, POP3 and SMTP share: OAUTHBEARER (RFC 7628) and XOAUTH2.

Both send the user name and the access token in one client response. A server that refuses the
token answers with a challenge holding a JSON error, and the exchange is finished by one more
client response: ``%x01`` for OAUTHBEARER (RFC 7628 3.2.3), an empty one for XOAUTH2. The token
is never put in an exception or a log line.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable

OAUTHBEARER = "OAUTHBEARER"
XOAUTH2 = "XOAUTH2"
#: The mechanisms mailbag speaks with a token, the preferred first.
OAUTH_MECHANISMS = (OAUTHBEARER, XOAUTH2)


class NoOAuthMechanism(Exception):
    """The server offers no OAuth2 mechanism (or not the one the config asks for). The clients
    raise their refused-login error from it, so that a caller can tell no token was sent."""


def choose_mechanism(offered: Iterable[str], forced: str | None = None) -> str:
    """The OAuth2 mechanism to use with a server offering ``offered``: ``forced`` when the
    config names one (it must be offered), else OAUTHBEARER, else XOAUTH2."""
    available = {name.upper() for name in offered}
    if forced is not None:
        wanted = forced.upper()
        if wanted not in available:
            raise NoOAuthMechanism(f"the server does not offer {wanted} (offered: {_listed(available)})")
        return wanted
    for name in OAUTH_MECHANISMS:
        if name in available:
            return name
    raise NoOAuthMechanism(f"the server offers no OAUTHBEARER or XOAUTH2 (offered: {_listed(available)})")


def initial_response(mechanism: str, user: str, token: str, host: str, port: int) -> str:
    """The client's first response for ``mechanism``, base64-encoded (ASCII)."""
    if mechanism == OAUTHBEARER:
        # RFC 7628 3.1: a GS2 header naming the user, then key=value pairs split by ^A.
        raw = f"n,a={_gs2_name(user)},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01"
    elif mechanism == XOAUTH2:
        raw = f"user={user}\x01auth=Bearer {token}\x01\x01"
    else:
        raise ValueError(f"not an OAuth2 mechanism: {mechanism}")
    return base64.b64encode(raw.encode("utf-8")).decode("ascii")


def failure_reply(mechanism: str) -> str:
    """What answers the server's error challenge, base64-encoded: the exchange then ends with the
    server's refusal (OAUTHBEARER: a single ``%x01``; XOAUTH2: an empty response)."""
    return base64.b64encode(b"\x01").decode("ascii") if mechanism == OAUTHBEARER else ""


def error_status(challenge: str | bytes) -> str:
    """The ``status`` of the server's base64 JSON error challenge (e.g. ``invalid_token``), made
    safe to show; "" when the challenge says nothing readable."""
    try:
        data = json.loads(base64.b64decode(challenge, validate=False))
    except (binascii.Error, ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
        return ""
    status = data.get("status") if isinstance(data, dict) else None
    if not isinstance(status, str):
        return ""
    return "".join(c for c in status if c.isprintable())[:80]


def _gs2_name(user: str) -> str:
    """A SASL authzid in a GS2 header: ``,`` and ``=`` escaped (RFC 5801 4)."""
    return user.replace("=", "=3D").replace(",", "=2C")


def _listed(names: set[str]) -> str:
    return ", ".join(sorted(names)) or "none"
