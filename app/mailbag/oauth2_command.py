"""``mailbag oauth2 ACCOUNT``: sign an account in with its provider's device-code flow.

It prints a code and the address where to enter it (any browser, on any device: it works over
SSH), waits for the approval and keeps the refresh token in the system keyring. Exit status: 0
signed in, 1 the provider refused or could not be reached, 2 no such account or no ``[oauth2]``.
"""

from __future__ import annotations

import sys

from mailbag.domain.config import Config
from mailbag.services.oauth2_http import DeviceCode, OAuth2Error
from mailbag.services.keyring_entries import KEYRING_SERVICE
from mailbag.services.oauth2_tokens import TokenUnavailable, keyring_user, sign_in


async def run_oauth2(config: Config, name: str) -> int:
    """Sign in account ``name``; messages on stdout, errors on stderr."""
    account = config.accounts.get(name)
    if account is None:
        print(f"mailbag: no account named {name!r} in {config.path}", file=sys.stderr)
        return 2
    provider = account.oauth2
    if provider is None:
        print(
            f"mailbag: account {name!r} has no [accounts.{name}.oauth2] table (its provider's"
            " endpoints and client_id; see README)",
            file=sys.stderr,
        )
        return 2

    def show(device: DeviceCode) -> None:
        print(f"To sign in {name} ({account.email}), open\n\n    {device.verification_uri}\n")
        print(f"and enter the code\n\n    {device.user_code}\n")
        if device.verification_uri_complete:
            print(f"(or open {device.verification_uri_complete})")
        minutes = max(1, device.expires_in // 60)
        print(f"Waiting for the sign-in (the code works for {minutes} minutes; Ctrl+C gives up)...", flush=True)

    try:
        await sign_in(provider, show)
    except (OAuth2Error, TokenUnavailable) as exc:
        print(f"mailbag: oauth2: {exc}", file=sys.stderr)
        return 1
    print(
        f"Signed in: the refresh token of {name} is in the system keyring"
        f" (service {KEYRING_SERVICE!r}, user {keyring_user(provider)!r})."
    )
    return 0
