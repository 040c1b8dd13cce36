"""An account's OAuth2 provider for the device-code flow (RFC 8628), and the known providers."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

#: The keys of ``[accounts.NAME.oauth2]``.
OAUTH2_KEYS = (
    "provider", "device_authorization_endpoint", "token_endpoint", "client_id", "client_secret", "scope",
)

#: Endpoints and scope of well-known providers (``provider = "..."``); any key in the table wins.
#: Google is not here: its device flow does not grant the mail scope (use oauth2_token_command).
PRESETS: dict[str, dict[str, str]] = {
    "microsoft": {
        "device_authorization_endpoint": "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode",
        "token_endpoint": "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        "scope": (
            "offline_access https://outlook.office.com/IMAP.AccessAsUser.All "
            "https://outlook.office.com/POP.AccessAsUser.All https://outlook.office.com/SMTP.Send"
        ),
    },
}


@dataclass(frozen=True)
class OAuth2Config:
    """Where an account gets its OAuth2 tokens: the provider's endpoints, the client and scope.
    ``account`` names the keyring entry of its refresh token."""

    account: str
    device_authorization_endpoint: str
    token_endpoint: str
    client_id: str
    scope: str = ""
    client_secret: str | None = field(default=None, repr=False)


def endpoint_problem(url: str) -> str | None:
    """Why ``url`` cannot be an OAuth2 endpoint (None when it can): it must be https, or http to
    a loopback address (a local test or proxy)."""
    parts = urlsplit(url)
    if not parts.hostname:
        return f'"{url}" is not a URL'
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and _loopback(parts.hostname):
        return None
    return f'"{url}" must be an https:// URL'


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
