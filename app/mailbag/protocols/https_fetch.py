"""Fetching a small document over HTTPS (autoconfig), certificates always checked.

Redirects are followed to HTTPS only (never to plain HTTP), a few times at most; the body is read
up to a limit. ``connect_to`` sends a host name's connections to another address (as curl's
``--connect-to``), with the certificate still checked against the host name: how a test serves
``autoconfig.example.test`` from loopback.
"""

from __future__ import annotations

import asyncio
import http.client
import socket
import ssl
from collections.abc import Mapping
from urllib.parse import urljoin, urlsplit

from mailbag.protocols.tls import make_client_context

MAX_REDIRECTS = 3


class FetchError(Exception):
    """The document could not be had; the message says why."""


class HttpsFetcher:
    """GET over HTTPS with a bounded time and size."""

    def __init__(
        self,
        *,
        timeout: float = 5.0,
        limit: int = 256 * 1024,
        ca_file: str | None = None,
        connect_to: Mapping[str, tuple[str, int]] | None = None,
    ) -> None:
        self.timeout = timeout
        self.limit = limit
        self.ca_file = ca_file
        self.connect_to = dict(connect_to or {})

    async def __call__(self, url: str) -> bytes:
        """The body of ``url`` (a 200 answer); FetchError otherwise."""
        return await asyncio.wait_for(asyncio.to_thread(self._get, url), self.timeout + 1)

    def _get(self, url: str) -> bytes:
        for _ in range(MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            if parts.scheme != "https" or not parts.hostname:
                raise FetchError(f"not an https URL: {url}")
            status, location, body = self._request(parts.hostname, parts.port or 443, url)
            if status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)
                continue
            if status != 200:
                raise FetchError(f"{parts.hostname} answered {status}")
            return body
        raise FetchError("too many redirects")

    def _request(self, host: str, port: int, url: str) -> tuple[int, str, bytes]:
        address, real_port = self.connect_to.get(host, (host, port))
        context = make_client_context(self.ca_file)
        connection = _Connection(host, address, real_port, self.timeout, context)
        parts = urlsplit(url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        try:
            connection.request("GET", path, headers={"Host": host, "Accept": "application/xml, text/xml"})
            response = connection.getresponse()
            body = response.read(self.limit + 1)
            if len(body) > self.limit:
                raise FetchError(f"{host}: the document is larger than {self.limit} bytes")
            return response.status, response.getheader("Location") or "", body
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(f"{host}: {exc}") from None
        finally:
            connection.close()


class _Connection(http.client.HTTPSConnection):
    """An HTTPS connection to ``address`` that checks the certificate against ``host``."""

    def __init__(self, host: str, address: str, port: int, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)
