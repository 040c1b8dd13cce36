"""TLS for the IMAP, SMTP and POP3 clients: contexts that always verify the server, and the
optional certificate pin (``tls_fingerprint``) checked after every handshake."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
import ssl
from pathlib import Path

from mailbag.domain.config import ca_file_unusable


def make_client_context(ca_file: str | None = None) -> ssl.SSLContext:
    """A context that always verifies the server: system CAs, plus ``ca_file`` when given.

    Hostname checking is on and anything older than TLS 1.2 is refused. Loading the system CAs
    takes tens of milliseconds, so contexts are shared between connections (an SSLContext may
    be); a ``ca_file`` that changes on disk gets a fresh one.
    """
    stamp = os.stat(ca_file).st_mtime_ns if ca_file and os.path.exists(ca_file) else 0
    return _context(ca_file or None, stamp)


async def client_context(ca_file: str | None = None) -> ssl.SSLContext:
    """:func:`make_client_context` built in a worker thread: reading the system CAs (80-100 ms)
    must not hold up the event loop, which also runs the UI."""
    return await asyncio.to_thread(make_client_context, ca_file)


@functools.lru_cache(maxsize=8)
def _context(ca_file: str | None, _stamp: int) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except OSError as exc:  # ssl.SSLError too: changed on disk since the config was read
            raise CaFileUnusable(f"ca_file: {ca_file_unusable(Path(ca_file), exc)}") from exc
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class CaFileUnusable(OSError):
    """The account's ``ca_file`` cannot be loaded (the config's check passed, so it changed on
    disk since). A failure to connect like any other: each attempt reads the file again, so
    one put right is taken at the next."""


class PinMismatch(Exception):
    """The server's certificate is valid but is not the one ``tls_fingerprint`` pins."""


def fingerprint(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> str:
    """The SHA-256 fingerprint of the peer's certificate, as ``sha256:`` and 64 hex digits."""
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    if not der:
        raise PinMismatch("the server sent no certificate")
    return "sha256:" + hashlib.sha256(der).hexdigest()


def check_pin(ssl_object: ssl.SSLObject | ssl.SSLSocket | None, pin: str | None) -> None:
    """Raise :class:`PinMismatch` unless the certificate's fingerprint is ``pin`` (no pin: any
    certificate the context verified). Called once the handshake is done, before the login."""
    if not pin:
        return
    seen = fingerprint(ssl_object)
    if seen != normal_pin(pin):
        raise PinMismatch(f"certificate fingerprint {seen} is not the pinned {normal_pin(pin)}")


def normal_pin(pin: str) -> str:
    """``sha256:AB:CD:...`` in the form :func:`fingerprint` gives (lower case, no colons)."""
    kind, _, digits = pin.strip().partition(":")
    return f"{kind.lower()}:{digits.replace(':', '').lower()}"


_WEAK = ("weak certificate", "the server's certificate is too weak to trust (a short key or an old signature):"
         " its administrator must replace it")
#: OpenSSL's verify codes that a ``ca_file`` cannot cure: what failed in a few words (for a
#: status line), and what can cure it.
_NOT_THE_CA = {
    9: ("certificate not valid yet", "the server's clock or certificate is wrong: its administrator must fix it"),
    10: ("certificate expired", "the server's certificate has expired: its administrator must renew it"),
    62: ("certificate for another host", "use the host name the certificate is made for as the server's host"),
    # A key too short, or a signature by a broken hash (MD5, SHA-1): no CA makes it safe.
    66: _WEAK, 67: _WEAK, 68: _WEAK,
}
_UNKNOWN_CA = ("untrusted CA: set ca_file", "set ca_file to the certificate of the CA that signed it")
_PIN = ("not the pinned certificate", "if the server's certificate was changed, set tls_fingerprint to the new one")


class CertificateUntrusted(Exception):
    """A server's certificate refused, in the same words for IMAP, POP3 and SMTP: the server
    (``where``, ``host:port``), what failed (``why``: OpenSSL's words, or what was presented
    against the pin), and what to do about it (``advice``); ``brief`` says it in a few words."""

    def __init__(self, where: str, why: str, advice: str, brief: str) -> None:
        super().__init__(f"certificate not trusted for {where} ({why}): {advice}")
        self.where, self.why, self.advice, self.brief = where, why, advice, brief

    @property
    def told(self) -> str:
        """What to do first, then the server and why: ``untrusted certificate: set ca_file to
        ... (host:993: unable to get local issuer certificate)``, for a line that may be cut."""
        return f"untrusted certificate: {self.advice} ({self.where}: {self.why})"


def untrusted_certificate(where: str, exc: ssl.SSLCertVerificationError | PinMismatch) -> CertificateUntrusted:
    """The refusal of the certificate of the server at ``where`` (``host:port``)."""
    if isinstance(exc, PinMismatch):
        return CertificateUntrusted(where, str(exc), _PIN[1], _PIN[0])
    brief, advice = _NOT_THE_CA.get(exc.verify_code, _UNKNOWN_CA)
    return CertificateUntrusted(where, exc.verify_message, advice, brief)


def untrusted(where: str, exc: ssl.SSLCertVerificationError | PinMismatch) -> str:
    """A certificate refused, in words (see :class:`CertificateUntrusted`)."""
    return str(untrusted_certificate(where, exc))


#: What OpenSSL says when the other side answered a TLS handshake with something else (a
#: server's plain-text greeting): the port is not one for implicit TLS.
_NOT_TLS = frozenset({"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG", "HTTP_REQUEST"})


#: What OpenSSL says when the server speaks only TLS older than 1.2 (or SSL), which mailbag
#: does not use: the server's alert, or the client's own word.
_OLD_TLS = frozenset({"TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "NO_PROTOCOLS_AVAILABLE",
                      "SSLV3_ALERT_PROTOCOL_VERSION"})
#: ... and when the two sides have no cipher in common (an old server's few, weak ones).
_NO_SHARED_CIPHER = frozenset({"SSLV3_ALERT_HANDSHAKE_FAILURE", "NO_SHARED_CIPHER", "NO_CIPHERS_AVAILABLE",
                               "INSUFFICIENT_SECURITY", "TLSV1_ALERT_INSUFFICIENT_SECURITY"})


def tls_failed(where: str, exc: ssl.SSLError) -> str:
    """The line that tells a failed TLS handshake with ``where``: when the server answered in
    plain text, say what that usually means (``security = "tls"`` on a port for STARTTLS); when
    it speaks only an old TLS, or offers no cipher mailbag takes, say so."""
    reason = exc.reason or str(exc)
    if exc.reason in _NOT_TLS:
        return (f"TLS with {where} failed: the server did not answer in TLS ({reason}); is this a port for"
                ' STARTTLS? then security = "starttls"')
    if exc.reason in _OLD_TLS:
        return (f"TLS with {where} failed: the server speaks only TLS older than 1.2, which mailbag does not"
                f" use (not safe any more; {reason}); its provider has to update it")
    if exc.reason in _NO_SHARED_CIPHER:
        return (f"TLS with {where} failed: the server offers no cipher mailbag takes (only old, weak ones?"
                f" {reason})")
    return f"TLS with {where} failed: {reason}"


def silent_port_hint(security: str) -> str:
    """What to add when a server said nothing after the link was made, on a link that waits for
    its greeting in plain text (``starttls``, ``none``): a port for implicit TLS says nothing
    until the client starts TLS."""
    if security == "tls":
        return ""
    return '; a port for implicit TLS (993, 995, 465) says nothing until TLS starts: then security = "tls"'
