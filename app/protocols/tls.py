"""TLS client contexts shared by the IMAP, SMTP and POP3 clients."""

from __future__ import annotations

import ssl


def make_client_context(ca_file: str | None = None) -> ssl.SSLContext:
    """A context that always verifies the server: system CAs, plus ``ca_file`` when given.

    Hostname checking is on and anything older than TLS 1.2 is refused.
    """
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context
