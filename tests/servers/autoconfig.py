"""An HTTPS server on loopback that serves autoconfig documents, with a certificate from the
test CA for the names it stands for (autoconfig.example.test, ...)."""

from __future__ import annotations

import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import trustme

#: The domain the tests' addresses are in, and the names the server has a certificate for.
DOMAIN = "example.test"
NAMES = (f"autoconfig.{DOMAIN}", DOMAIN, "autoconfig.other.test", "other.test")


def thunderbird_xml(servers: list[dict[str, str]], domain: str = DOMAIN) -> bytes:
    """A config-v1.1.xml document listing ``servers`` (type, hostname, port, socketType,
    username, and optionally authentication)."""
    parts = [f'<?xml version="1.0"?>\n<clientConfig version="1.1">\n<emailProvider id="{domain}">',
             f"<domain>{domain}</domain><displayName>Test mail</displayName>"]
    for server in servers:
        tag = "outgoingServer" if server["type"] == "smtp" else "incomingServer"
        parts.append(
            f'<{tag} type="{server["type"]}"><hostname>{server["hostname"]}</hostname>'
            f'<port>{server["port"]}</port><socketType>{server["socketType"]}</socketType>'
            f'<username>{server.get("username", "%EMAILADDRESS%")}</username>'
            f'<authentication>{server.get("authentication", "password-cleartext")}</authentication>'
            f"</{tag}>"
        )
    parts.append("</emailProvider>\n</clientConfig>\n")
    return "\n".join(parts).encode()


class AutoconfigServer:
    """Serves ``documents`` (path with query -> body; a path without query matches any query)
    to HTTPS clients that connect to 127.0.0.1:``port``; remembers each Host and path asked."""

    host = "127.0.0.1"

    def __init__(self, ca: trustme.CA, port: int = 0) -> None:
        self.documents: dict[tuple[str, str], bytes] = {}
        self.redirects: dict[tuple[str, str], str] = {}
        self.asked: list[tuple[str, str]] = []
        cert = ca.issue_cert(*NAMES)
        self._dir = tempfile.TemporaryDirectory(prefix="mailbag-autoconfig-")
        chain = Path(self._dir.name) / "cert.pem"
        key = Path(self._dir.name) / "key.pem"
        chain.write_bytes(b"".join(pem.bytes() for pem in cert.cert_chain_pems))
        cert.private_key_pem.write_to_path(str(key))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(chain), str(key))
        self._httpd = ThreadingHTTPServer((self.host, port), self._handler())
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def serve(self, host: str, path: str, body: bytes) -> None:
        self.documents[(host, path)] = body

    def connect_to(self) -> dict[str, tuple[str, int]]:
        """Every name the server stands for, sent to its loopback port (HttpsFetcher's map)."""
        return {name: (self.host, self.port) for name in NAMES}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                host = (self.headers.get("Host") or "").split(":")[0]
                path = self.path.split("?")[0]
                server.asked.append((host, self.path))
                target = server.redirects.get((host, path))
                if target is not None:
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.end_headers()
                    return
                body = server.documents.get((host, path))
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._dir.cleanup()
