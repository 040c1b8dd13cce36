"""A provider's OAuth2 endpoints over HTTPS: the device-code flow (RFC 8628) and refreshing an
access token (RFC 6749 6), with urllib (blocking: call from a worker thread).

Endpoints are https (certificates checked against the system's CAs), or http on loopback only
(see :func:`mailbag.domain.oauth2.endpoint_problem`). Tokens and codes never appear in an
exception, a repr or a log line; what the provider says is cleaned before it is shown.
"""

from __future__ import annotations

import json
import logging
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from mailbag.domain.oauth2 import OAuth2Config, endpoint_problem
from mailbag.domain.sanitize import clean_line
from mailbag.protocols.tls import make_client_context

log = logging.getLogger(__name__)

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
#: Seconds to wait between polls when the provider does not say (RFC 8628 3.2).
DEFAULT_INTERVAL = 5
#: How much longer to wait after a ``slow_down`` (RFC 8628 3.5).
SLOW_DOWN_STEP = 5
HTTP_TIMEOUT = 30.0
#: The longest answer read from an endpoint.
MAX_ANSWER = 1024 * 1024


class OAuth2Error(Exception):
    """The provider refused or could not be reached; ``code`` is its OAuth2 error code ("" when
    the failure was the network's), ``str()`` a line safe to show."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class DeviceCode:
    """What the user is shown (the code and where to enter it) and what the client polls with."""

    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int
    device_code: str = field(repr=False)


@dataclass(frozen=True)
class Tokens:
    """An access token, when it stops working (``time.time()`` seconds), and the refresh token
    when the provider sent one."""

    access_token: str = field(repr=False)
    expires_at: float
    refresh_token: str | None = field(default=None, repr=False)


def request_device_code(config: OAuth2Config) -> DeviceCode:
    """Start the device-code flow: the code to show and the URL to enter it at."""
    form = {"client_id": config.client_id}
    if config.scope:
        form["scope"] = config.scope
    status, data = post_form(config.device_authorization_endpoint, form)
    if status != 200:
        raise _refusal(data, "the device authorization endpoint")
    try:
        user_code = _shown(data["user_code"])
        uri = _shown(data.get("verification_uri") or data["verification_url"])  # Google's old name
        return DeviceCode(
            user_code=user_code,
            verification_uri=uri,
            verification_uri_complete=_shown(data.get("verification_uri_complete", "")),
            expires_in=int(data.get("expires_in", 1800)),
            interval=max(0, int(data.get("interval", DEFAULT_INTERVAL))),
            device_code=str(data["device_code"]),
        )
    except (KeyError, TypeError, ValueError):
        raise OAuth2Error("the device authorization endpoint answered without a code") from None


def poll_once(config: OAuth2Config, device: DeviceCode) -> Tokens | str:
    """Ask once whether the user has approved: the tokens, or the pending state
    (``authorization_pending`` or ``slow_down``); other answers raise OAuth2Error."""
    form = {"grant_type": DEVICE_GRANT, "device_code": device.device_code, "client_id": config.client_id}
    status, data = _token_request(config, form)
    if status == 200:
        return _tokens(data)
    error = data.get("error") if isinstance(data, dict) else None
    if error in ("authorization_pending", "slow_down"):
        return str(error)
    if error == "expired_token":
        raise OAuth2Error("the code expired before it was entered; start again", "expired_token")
    if error == "access_denied":
        raise OAuth2Error("the sign-in was declined", "access_denied")
    raise _refusal(data, "the token endpoint")


def refresh(config: OAuth2Config, refresh_token: str) -> Tokens:
    """A new access token (and maybe a new refresh token) for ``refresh_token``."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": config.client_id}
    status, data = _token_request(config, form)
    if status != 200:
        raise _refusal(data, "the token endpoint")
    return _tokens(data)


def post_form(url: str, form: dict[str, str]) -> tuple[int, Any]:
    """POST ``form`` to ``url``: the HTTP status and the JSON answer (None when it is not JSON)."""
    problem = endpoint_problem(url)
    if problem is not None:
        raise OAuth2Error(f"not an allowed endpoint: {problem}")
    body = urllib.parse.urlencode(form).encode("ascii")
    request = urllib.request.Request(
        url, data=body, method="POST",
        headers={"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
    )
    context = make_client_context()  # chain and host name checked, as for the mail servers
    host = urllib.parse.urlsplit(url).netloc
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT, context=context) as answer:
            status, raw = answer.status, answer.read(MAX_ANSWER)
    except urllib.error.HTTPError as exc:  # 4xx/5xx: OAuth2 errors come as JSON with a 400
        status, raw = exc.code, exc.read(MAX_ANSWER)
        exc.close()
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ssl.SSLCertVerificationError):
            raise OAuth2Error(f"{host}: certificate not trusted ({reason.verify_message})") from None
        raise OAuth2Error(f"cannot reach {host}: {clean_line(str(reason))}") from None
    except (OSError, TimeoutError) as exc:
        raise OAuth2Error(f"cannot reach {host}: {clean_line(str(exc)) or type(exc).__name__}") from None
    log.debug("oauth2: %s answered HTTP %d", host, status)
    try:
        return status, json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return status, None


def _token_request(config: OAuth2Config, form: dict[str, str]) -> tuple[int, Any]:
    if config.client_secret:
        form = {**form, "client_secret": config.client_secret}
    return post_form(config.token_endpoint, form)


def _tokens(data: Any) -> Tokens:
    try:
        access = str(data["access_token"])
        lifetime = int(data.get("expires_in", 3600))
    except (KeyError, TypeError, ValueError):
        raise OAuth2Error("the token endpoint answered without an access token") from None
    refresh_token = data.get("refresh_token")
    return Tokens(
        access_token=access,
        expires_at=time.time() + lifetime,
        refresh_token=str(refresh_token) if refresh_token else None,
    )


def _refusal(data: Any, who: str) -> OAuth2Error:
    """The provider's error answer as one line: its code and description, cleaned."""
    if not isinstance(data, dict) or not isinstance(data.get("error"), str):
        return OAuth2Error(f"{who} refused the request")
    code = _shown(data["error"])
    description = data.get("error_description")
    text = f"{who} said {code}" + (f": {_shown(description)}" if isinstance(description, str) else "")
    return OAuth2Error(text, code)


def _shown(value: Any) -> str:
    return clean_line(str(value))[:300]
