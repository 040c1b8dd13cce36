"""A private SMTP server for tests: aiosmtpd, delivering into the private Dovecot over LMTP.

Two listeners share one handler: a submission port (587 style) that offers STARTTLS and requires
it before AUTH and MAIL, and an implicit-TLS port (465 style). Both use a certificate of the
Dovecot fixture's throw-away CA and accept one login, ``username`` / ``password``. A message
accepted here is delivered over LMTP to every recipient's INBOX on Dovecot, so a test sees it
arrive as a user would; what the server received is also kept in ``received``.

Tests script refusals a real server makes (``refuse_rcpt``, ``refuse_data``), leave SMTPUTF8
out of the EHLO answer (``offer_smtputf8``), say a smaller SIZE there (``size_limit``), offer only some
login mechanisms (``mechanisms``: PLAIN, LOGIN, and CRAM-MD5, which aiosmtpd does not have built in),
give an address a mailbox on Dovecot (``aliases``:
Dovecot's users are ASCII) and take the server down and up again (``stop`` / ``start``, on the
same ports).
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import smtplib
import ssl
import threading
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.servers.dovecot import DovecotServer
from tests.servers.ports import free_ports

USERNAME = "submitter"
PASSWORD = "subm1t pass"
#: The login mechanisms offered unless a test says otherwise (aiosmtpd's own).
MECHANISMS = ("PLAIN", "LOGIN")


@dataclass
class Received:
    """One message the server accepted, as it arrived."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    mail_options: list[str] = field(default_factory=list)
    login: str = ""
    tls: bool = False
    #: The mechanism of the login the message came after (``PLAIN``, ``CRAM-MD5``...).
    mechanism: str = ""


class _Login(NamedTuple):
    """Who logged in on a session, and by which mechanism."""

    login: bytes
    mechanism: str


class _Handler:
    """aiosmtpd's handler: scripted refusals, then LMTP delivery into Dovecot."""

    def __init__(self, server: SmtpServer, implicit_tls: bool) -> None:
        self.server = server
        self.implicit_tls = implicit_tls

    async def handle_EHLO(
        self, _server: SMTP, session: Session, _envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if not self.server.offer_smtputf8:
            responses = [line for line in responses if line[4:].upper() != "SMTPUTF8"]
        if self.server.size_limit is not None:
            responses = [f"250-SIZE {self.server.size_limit}" if line.startswith("250-SIZE") else line
                         for line in responses]
        offered = " ".join(m for m in ("CRAM-MD5", "LOGIN", "PLAIN") if m in self.server.mechanisms)
        return [f"250-AUTH {offered}" if line.startswith("250-AUTH ") else line for line in responses]

    async def auth_CRAM__MD5(self, server: SMTP, _args: list[str]) -> AuthResult:
        """AUTH CRAM-MD5 (RFC 2195): a challenge, answered by the user name and the HMAC-MD5 of
        the challenge keyed with the password."""
        challenge = f"<{secrets.token_hex(8)}@{self.server.host}>".encode()
        answer = await server.challenge_auth(challenge)
        if answer is MISSING:
            return AuthResult(success=False, handled=True)
        assert isinstance(answer, bytes)
        login, _, digest = answer.decode("utf-8", "replace").rpartition(" ")
        expected = hmac.new(self.server.password.encode(), challenge, "md5").hexdigest()
        ok = "CRAM-MD5" in self.server.mechanisms and login == self.server.username and hmac.compare_digest(
            digest, expected
        )
        return AuthResult(success=ok, handled=False, auth_data=_Login(login.encode(), "CRAM-MD5") if ok else None)

    async def handle_RCPT(
        self, _server: SMTP, _session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        reply = self.server.refuse_rcpt.get(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, _server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.server.lock:
            if self.server.refuse_data:
                return self.server.refuse_data.pop(0)
        content = envelope.original_content or b""
        login = session.auth_data.login.decode() if isinstance(session.auth_data, _Login) else ""
        received = Received(
            mail_from=envelope.mail_from or "",
            rcpt_tos=list(envelope.rcpt_tos),
            content=content,
            mail_options=list(envelope.mail_options),
            login=login,
            tls=self.implicit_tls or session.ssl is not None,
            mechanism=session.auth_data.mechanism if isinstance(session.auth_data, _Login) else "",
        )
        try:
            await asyncio.to_thread(self.server.deliver, received)
        except (OSError, smtplib.SMTPException) as exc:
            return f"451 4.3.0 delivery failed: {exc}"
        with self.server.lock:
            self.server.received.append(received)
        return "250 2.0.0 OK delivered"


class SmtpServer:
    """aiosmtpd on two loopback ports (STARTTLS submission, implicit TLS), delivering to Dovecot."""

    host = "127.0.0.1"

    def __init__(self, dovecot: DovecotServer) -> None:
        self.dovecot = dovecot
        self.username = USERNAME
        self.password = PASSWORD
        self.ca_file = dovecot.ca_file
        self.port, self.tls_port = free_ports(2, self.host)
        self.lock = threading.Lock()
        self.received: list[Received] = []
        #: Address -> the reply to its RCPT TO (e.g. "550 5.1.1 no such user").
        self.refuse_rcpt: dict[str, str] = {}
        #: Replies to the next DATA commands, one each, before anything is delivered.
        self.refuse_data: list[str] = []
        #: Whether the EHLO answer offers SMTPUTF8.
        self.offer_smtputf8 = True
        #: The largest message the EHLO answer says it takes (SIZE), when not aiosmtpd's own.
        self.size_limit: int | None = None
        #: Envelope address -> the Dovecot user's address it is delivered to.
        self.aliases: dict[str, str] = {}
        #: The login mechanisms the EHLO answer offers (and the only ones taken).
        self.mechanisms: set[str] = set(MECHANISMS)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(dovecot.cert_file), str(dovecot.key_file))
        self._context = context
        self._controllers: list[Controller] = []

    def _controller(self, port: int, implicit: bool) -> Controller:
        options: dict[str, Any] = dict(
            hostname=self.host,
            port=port,
            enable_SMTPUTF8=True,
            authenticator=self._authenticate,
            auth_required=True,
            auth_require_tls=not implicit,  # aiosmtpd counts only STARTTLS as TLS
            ready_timeout=20.0,
        )
        if implicit:
            options["ssl_context"] = self._context
        else:
            options["tls_context"] = self._context
            options["require_starttls"] = True
        return Controller(_Handler(self, implicit), **options)

    def _authenticate(
        self, _server: SMTP, _session: Session, _envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            mechanism in ("PLAIN", "LOGIN")
            and mechanism in self.mechanisms
            and isinstance(data, LoginPassword)
            and data.login.decode() == self.username
            and data.password.decode() == self.password
        )
        # handled=False: aiosmtpd answers a refusal with 535 (by default it answers nothing).
        login = _Login(data.login, mechanism) if ok and isinstance(data, LoginPassword) else None
        return AuthResult(success=ok, handled=False, auth_data=login)

    def deliver(self, message: Received) -> None:
        """Hand ``message`` to Dovecot over LMTP, one transaction per recipient (LMTP answers
        DATA once per recipient, which the stdlib's client does not read)."""
        with smtplib.LMTP(self.dovecot.host, self.dovecot.lmtp_port, timeout=30) as lmtp:
            for recipient in message.rcpt_tos:
                sender = message.mail_from if message.mail_from.isascii() else ""
                lmtp.sendmail(sender, [self.aliases.get(recipient, recipient)], message.content)

    @property
    def running(self) -> bool:
        return bool(self._controllers)

    def start(self) -> None:
        """Listen on both ports (the same ones after a stop)."""
        if self._controllers:
            return
        for port, implicit in ((self.port, False), (self.tls_port, True)):
            controller = self._controller(port, implicit)
            controller.start()
            self._controllers.append(controller)

    def stop(self) -> None:
        """Close both listeners (connections made so far are closed too)."""
        controllers, self._controllers = self._controllers, []
        for controller in controllers:
            controller.stop()

    def reset(self) -> None:
        """Forget what was received and every scripted refusal; listen again if stopped."""
        with self.lock:
            self.received.clear()
            self.refuse_rcpt.clear()
            self.refuse_data.clear()
            self.aliases.clear()
            self.offer_smtputf8 = True
            self.size_limit = None
            self.mechanisms = set(MECHANISMS)
        self.start()
