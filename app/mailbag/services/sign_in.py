"""``SignIn``: an account's OAuth2 device-code flow run for the UI, on the workers' loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from mailbag.domain.config import Config
from mailbag.domain.events import (
    EventSink,
    RequestCancelled,
    RequestDone,
    RequestFailed,
    RequestUnsupported,
    SignInCode,
)
from mailbag.domain.requests import SignIn
from mailbag.services.oauth2_http import DeviceCode, OAuth2Error
from mailbag.services.oauth2_tokens import TokenUnavailable, sign_in

log = logging.getLogger(__name__)


async def serve_sign_in(
    request: SignIn, config: Config, sink: EventSink, signed_in: Callable[[str], None]
) -> None:
    """Run the flow for ``request``: ``SignInCode`` once the provider gave a code, then one
    terminal answer; once signed in, ``signed_in(account)`` (which reconnects it)."""
    name, rid = request.account, request.request_id
    account = config.accounts.get(name)
    provider = account.oauth2 if account is not None else None
    if provider is None:
        sink(RequestUnsupported(rid, f"{name} has no [accounts.{name}.oauth2] table to sign in with"))
        return

    def show(device: DeviceCode) -> None:
        sink(SignInCode(rid, name, device.user_code, device.verification_uri,
                        device.verification_uri_complete, device.expires_in))

    try:
        await sign_in(provider, show)
    except asyncio.CancelledError:
        sink(RequestCancelled(rid))
        raise
    except (OAuth2Error, TokenUnavailable) as exc:
        log.info("oauth2: sign-in of %s failed: %s", name, exc)
        sink(RequestFailed(rid, f"sign-in of {name}: {exc}"))
        return
    except Exception as exc:  # noqa: BLE001 - a bug: logged, told in one line
        log.error("oauth2: sign-in of %s failed", name, exc_info=exc)
        sink(RequestFailed(rid, f"sign-in of {name}: internal error: {exc} (details in the log)"))
        return
    log.info("oauth2: %s signed in", name)
    sink(RequestDone(rid))
    signed_in(name)
