"""Where and how a POP3 or SMTP client connects: one account's server table with its password."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mailbag.domain.config import ServerConfig


@dataclass(frozen=True)
class ServerLogin:
    """A server's address, its security and the login; the password never shows in a repr.
    With ``oauth2`` the password is an OAuth2 access token, sent with OAUTHBEARER or XOAUTH2
    (``auth_mechanism`` forces one)."""

    host: str
    port: int
    security: str  # "tls" | "starttls" | "none"
    username: str
    password: str = field(repr=False)
    ca_file: Path | None = None
    timeout: float = 30.0
    tls_fingerprint: str | None = None  # "sha256:...": the server's certificate must be this one
    oauth2: bool = False
    auth_mechanism: str | None = None

    @classmethod
    def of(cls, server: ServerConfig, password: str) -> ServerLogin:
        """The login for a config's ``[imap]``/``[pop3]``/``[smtp]`` table and its password (or
        access token, when the table's secret is an OAuth2 token)."""
        return cls(
            host=server.host, port=server.port, security=server.security, username=server.username,
            password=password, ca_file=server.ca_file, timeout=server.timeout,
            tls_fingerprint=server.tls_fingerprint,
            oauth2=server.uses_oauth2, auth_mechanism=server.auth_mechanism,
        )
