"""A local OAuth2 provider for tests: the device authorization endpoint and the token endpoint
(RFC 8628, RFC 6749 6) over plain HTTP on loopback, on a thread of its own.

An introspection endpoint (RFC 7662) tells a mail server which access tokens it issued and
to whom. The device flow answers polls with the states in ``device_states`` one after another (the last
repeats): ``authorization_pending``, ``slow_down``, ``expired_token``, ``access_denied`` or
``success``. Refreshing issues ``access-1``, ``access-2``... for a known refresh token (and a new
refresh token when ``rotate``), ``invalid_grant`` for any other. Every request's form is kept.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

DEVICE_CODE = "device-code-secret"
USER_CODE = "WDJB-MJHT"


@dataclass
class Provider:
    """What the provider does and what it was asked."""

    device_states: list[str] = field(default_factory=lambda: ["success"])
    refresh_tokens: set[str] = field(default_factory=lambda: {"refresh-0"})
    rotate: bool = False
    expires_in: int = 3600
    interval: int = 0
    #: Whom the introspection endpoint says an access token it issued belongs to.
    owner: str = "me"
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    issued: int = 0
    #: What every answer's body is instead of the JSON (a hostile or broken endpoint).
    raw_answer: bytes | None = None

    def access_tokens(self) -> list[str]:
        """Every access token handed out so far."""
        return [f"access-{n}" for n in range(1, self.issued + 1)]

    def grants(self, kind: str) -> int:
        """How many token requests of the grant type ``kind`` came."""
        return sum(1 for path, form in self.requests if path == "/token" and form.get("grant_type") == kind)


class TokenEndpoint:
    """The provider's HTTP server; ``url(path)`` is where a path of it is."""

    def __init__(self, provider: Provider | None = None) -> None:
        self.provider = provider or Provider()
        self._lock = threading.Lock()
        handler = self._handler()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def _answer(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        p = self.provider
        with self._lock:
            p.requests.append((path, form))
            if path == "/device":
                return 200, {
                    "device_code": DEVICE_CODE, "user_code": USER_CODE,
                    "verification_uri": "https://login.example.test/device",
                    "verification_uri_complete": f"https://login.example.test/device?code={USER_CODE}",
                    "expires_in": 900, "interval": p.interval,
                }
            if path == "/introspect":  # RFC 7662, as a mail server asks it
                active = form.get("token") in p.access_tokens()
                return 200, {"active": active, "username": p.owner} if active else {"active": False}
            if path != "/token":
                return 404, {"error": "not_found"}
            grant = form.get("grant_type", "")
            if grant == "urn:ietf:params:oauth:grant-type:device_code":
                if form.get("device_code") != DEVICE_CODE:
                    return 400, {"error": "invalid_grant"}
                state = p.device_states.pop(0) if len(p.device_states) > 1 else p.device_states[0]
                if state != "success":
                    return 400, {"error": state, "error_description": f"state {state}"}
                p.refresh_tokens.add("refresh-device")
                return 200, self._issue("refresh-device")
            if grant == "refresh_token":
                token = form.get("refresh_token", "")
                if token not in p.refresh_tokens:
                    return 400, {"error": "invalid_grant", "error_description": "token revoked"}
                if p.rotate:
                    p.refresh_tokens.discard(token)
                    token = f"refresh-{p.issued + 1}"
                    p.refresh_tokens.add(token)
                return 200, self._issue(token)
            return 400, {"error": "unsupported_grant_type"}

    def _issue(self, refresh_token: str) -> dict[str, Any]:
        p = self.provider
        p.issued += 1
        return {
            "access_token": f"access-{p.issued}", "token_type": "Bearer",
            "expires_in": p.expires_in, "refresh_token": refresh_token,
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
                length = int(self.headers.get("Content-Length", "0"))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                status, body = endpoint._answer(self.path, form)
                data = endpoint.provider.raw_answer or json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # nothing on the test's output

        return Handler
