"""Hand one message to an SMTP submission server (RFC 5321, 6409) with aiosmtplib.

TLS is implicit (``security = "tls"``, port 465) or STARTTLS (``"starttls"``, port 587), which is
all-or-nothing: a server that does not offer it, refuses it, sends anything between its go-ahead
and the handshake (:mod:`mailbag.protocols.smtp.starttls`), or fails the handshake gets nothing
more, not even the login. Plain text only with ``"none"``. Certificates are always checked
(system CAs plus an optional ``ca_file``). Login with AUTH PLAIN, else LOGIN, else CRAM-MD5
(first on a link without TLS, where it keeps the password off the wire); with an OAuth2 access
token, OAUTHBEARER, else XOAUTH2. ``BODY=8BITMIME`` is asked for when the message holds
8-bit bytes and the server offers it. ``SMTPUTF8`` (RFC 6531) is required for an address beyond
ASCII (a message with one is refused by name where the server does not offer it), and asked for
where it is offered when the header holds UTF-8 (RFC 6532).

Every failure is one of :mod:`mailbag.protocols.smtp.errors`, typed by what the outbox must do.
The line is drawn at the server's go-ahead for the message (``354``): a link lost before it means
not sent; after it, the message may have been taken (uncertain). ``handing_over`` is awaited just
before the message's bytes go out, so that the caller can record that point durably first.
"""

from __future__ import annotations

import logging
import os
import ssl
from collections.abc import Awaitable, Callable, Sequence

import aiosmtplib
from aiosmtplib import SMTPResponse

from mailbag.domain.wording import human_size
from mailbag.protocols.smtp.errors import (
    SmtpAuthFailed,
    SmtpError,
    SmtpPermanent,
    SmtpTemporary,
    SmtpUncertain,
)
from mailbag.protocols.smtp.starttls import PlainText, StartTlsInjection
from mailbag.protocols.smtp.wire import data_payload, needs_8bit, utf8_header
from mailbag.protocols import sasl
from mailbag.protocols.login import ServerLogin
from mailbag.protocols.tls import (
    CaFileUnusable, PinMismatch, check_pin, client_context, silent_port_hint, tls_failed, untrusted,
)
from mailbag.protocols.traffic import MASK, credentials, log_line, masked

log = logging.getLogger(__name__)

_START_INPUT = 354
#: The code aiosmtplib gives a reply that is no SMTP reply line.
_MALFORMED = -1
_AUTH_CONTINUE = 334
_AUTH_SUCCESSFUL = 235


#: Where and how to submit: one account's table with its password.
SmtpSettings = ServerLogin


async def submit(
    settings: SmtpSettings,
    sender: str,
    recipients: Sequence[str],
    message: bytes,
    handing_over: Callable[[], Awaitable[None]] | None = None,
) -> str:
    """Send ``message`` from ``sender`` (the envelope's MAIL FROM) to ``recipients``; returns
    the server's reply to the message (its queue id, often). Raises an SmtpError."""
    if not recipients:
        raise SmtpPermanent("the message has no recipients")
    smtp, context = await _client(settings)
    where = f"{settings.host}:{settings.port}"
    try:
        await _open(smtp, settings, context, where)
        await _envelope(smtp, sender, recipients, message)
        return await _hand_over(smtp, message, handing_over, where)
    finally:
        await _close(smtp)


async def check_login(settings: SmtpSettings) -> None:
    """Connect, secure the link and log in as ``submit`` does, then say goodbye, sending nothing:
    whether these settings will do for sending. Raises an SmtpError."""
    smtp, context = await _client(settings)
    try:
        await _open(smtp, settings, context, f"{settings.host}:{settings.port}")
    finally:
        await _close(smtp)


async def _client(settings: SmtpSettings) -> tuple[aiosmtplib.SMTP, ssl.SSLContext | None]:
    try:
        context = None if settings.security == "none" else await client_context(
            str(settings.ca_file) if settings.ca_file else None
        )
    except CaFileUnusable as exc:  # tried again later: a file put right meanwhile is read then
        raise SmtpTemporary(str(exc)) from None
    smtp = aiosmtplib.SMTP(
        hostname=settings.host,
        port=settings.port,
        use_tls=settings.security == "tls",
        start_tls=False,
        tls_context=context,
        timeout=settings.timeout,
    )
    return smtp, context


async def _open(
    smtp: aiosmtplib.SMTP, settings: SmtpSettings, context: ssl.SSLContext | None, where: str
) -> None:
    """Connect, secure the link, log in."""
    try:
        await _connect(smtp, where)
        if settings.security == "tls":
            check_pin(smtp.get_transport_info("ssl_object"), settings.tls_fingerprint)
        if settings.security == "starttls":
            await _starttls(smtp, settings, context, where)
        _said(where, "EHLO", await smtp.ehlo())  # over TLS: aiosmtplib forgot the answer before it
        await _login(smtp, settings)
    except SmtpError:
        raise
    except (ssl.SSLError, PinMismatch) as exc:
        raise SmtpTemporary(_tls_failed(where, exc)) from None
    except aiosmtplib.SMTPConnectError as exc:
        cause = exc.__cause__
        if isinstance(cause, ssl.SSLError):  # implicit TLS: the handshake is part of connecting
            raise SmtpTemporary(_tls_failed(where, cause)) from None
        why = os.strerror(cause.errno) if isinstance(cause, OSError) and cause.errno else _cause(exc)
        if isinstance(exc, aiosmtplib.SMTPTimeoutError) and "ready message" in str(exc):  # linked, then silence
            hint = silent_port_hint(settings.security)
            raise SmtpTemporary(f"no greeting from {where} within {settings.timeout:g} s{hint}") from None
        raise SmtpTemporary(f"cannot reach {where}: {why[:1].lower()}{why[1:]}") from None
    except aiosmtplib.SMTPResponseException as exc:
        raise _by_code(exc.code, exc.message, f"{where} said") from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise SmtpTemporary(f"{where}: {_cause(exc)}") from None


async def _starttls(
    smtp: aiosmtplib.SMTP, settings: SmtpSettings, context: ssl.SSLContext | None, where: str
) -> None:
    """EHLO and STARTTLS in plain text, then the handshake and the pin; anything the server was
    not asked for ends the session (:mod:`mailbag.protocols.smtp.starttls`)."""
    plain = PlainText(smtp)
    try:
        _said(where, "EHLO", await plain.ehlo())
        if not smtp.supports_extension("starttls"):
            raise SmtpTemporary(f"{where} does not offer STARTTLS; nothing was sent in plain text")
        try:
            _said(where, "STARTTLS", await plain.starttls(context))
        except aiosmtplib.SMTPResponseException as exc:
            raise SmtpTemporary(
                f"{where} refused STARTTLS ({exc.code} {exc.message}); nothing was sent in plain"
                " text",
                exc.code,
            ) from None
    except StartTlsInjection as exc:
        when = "after agreeing to STARTTLS" if exc.after_go_ahead else "it was not asked for before STARTTLS"
        raise SmtpTemporary(
            f"{where} sent data {when}; possible injection, connection closed; nothing was sent"
            " in plain text"
        ) from None
    finally:
        plain.close()
    check_pin(smtp.get_transport_info("ssl_object"), settings.tls_fingerprint)


async def _connect(smtp: aiosmtplib.SMTP, where: str) -> None:
    """Connect and read the greeting; a greeting that is no SMTP reply says so."""
    try:
        _said(where, "", await smtp.connect())
    except aiosmtplib.SMTPConnectResponseError:
        raise
    except aiosmtplib.SMTPResponseException as exc:
        if exc.code != _MALFORMED:
            raise
        line = exc.message.partition(":")[2].strip()
        raise SmtpTemporary(f"{where}: not an SMTP server's greeting: {' '.join(line.split())[:200]}") from None


async def _login(smtp: aiosmtplib.SMTP, settings: SmtpSettings) -> None:
    """Log in; what the server answers is logged and told with the credentials masked (a
    refusal may quote them)."""
    methods = smtp.server_auth_methods
    if not methods and settings.security == "none" and not settings.oauth2:
        return  # a server without AUTH (a local relay): nothing to log in to
    where = f"{settings.host}:{settings.port}"
    hide = credentials(settings.username, settings.password, settings.host, settings.port, settings.oauth2)
    try:
        if settings.oauth2:
            await _login_oauth2(smtp, settings, methods, hide)
            return
        mechanism = password_mechanism(methods, tls=settings.security != "none")
        if mechanism is None:
            offered = ", ".join(m.upper() for m in methods) or "none"
            raise SmtpAuthFailed(f"the server offers no AUTH PLAIN, LOGIN or CRAM-MD5 (offered: {offered})")
        login = {"plain": smtp.auth_plain, "login": smtp.auth_login, "cram-md5": smtp.auth_crammd5}[mechanism]
        _said(where, f"AUTH {mechanism.upper()} {MASK}", await login(settings.username, settings.password), hide)
    except aiosmtplib.SMTPAuthenticationError as exc:
        said = masked(exc.message, hide)
        log_line(log, "<", f"smtp {where}", f"{exc.code} {said}")
        if 400 <= exc.code < 500:
            raise SmtpTemporary(f"login: {exc.code} {said}", exc.code) from None
        raise SmtpAuthFailed(f"login refused: {exc.code} {said}", exc.code) from None


def password_mechanism(offered: Sequence[str], tls: bool) -> str | None:
    """The mechanism to log in with a password, of those ``offered`` (lower case): PLAIN, else
    LOGIN, else CRAM-MD5; CRAM-MD5 first without TLS, where the others would show the password
    to anyone on the path (RFC 2195)."""
    order = ("plain", "login", "cram-md5") if tls else ("cram-md5", "plain", "login")
    return next((name for name in order if name in offered), None)


async def _login_oauth2(
    smtp: aiosmtplib.SMTP, settings: SmtpSettings, methods: list[str], hide: tuple[str, ...]
) -> None:
    """AUTH OAUTHBEARER or XOAUTH2 with the access token as the initial response (aiosmtplib
    has XOAUTH2 only, so both go through ``execute_command``); the JSON error challenge of a
    refusal is answered as the mechanism asks, and the refusal raised."""
    try:
        mechanism = sasl.choose_mechanism(methods, settings.auth_mechanism)
    except sasl.NoOAuthMechanism as exc:
        raise SmtpAuthFailed(f"cannot log in: {exc}") from exc  # no token went out
    response = sasl.initial_response(
        mechanism, settings.username, settings.password, settings.host, settings.port
    )
    reply = await smtp.execute_command(b"AUTH", mechanism.encode("ascii"), response.encode("ascii"))
    _said(f"{settings.host}:{settings.port}", f"AUTH {mechanism} {MASK}", reply, hide)
    status = ""
    if reply.code == _AUTH_CONTINUE:
        status = sasl.error_status(reply.message)
        reply = await smtp.execute_command(sasl.failure_reply(mechanism).encode("ascii"))
    if reply.code != _AUTH_SUCCESSFUL:
        message = f"{reply.message} ({status})" if status else reply.message
        raise aiosmtplib.SMTPAuthenticationError(reply.code, message)


async def _envelope(
    smtp: aiosmtplib.SMTP, sender: str, recipients: Sequence[str], message: bytes
) -> None:
    """MAIL FROM and one RCPT TO per recipient; any refusal refuses the whole message (a
    message half-sent could not be sent again without doubling it)."""
    options: list[str] = []
    if smtp.supports_extension("size"):  # RFC 1870: refused at once, not after the upload
        limit = _size_limit(smtp.esmtp_extensions.get("size", ""))
        if limit and len(message) > limit:
            raise SmtpPermanent(f"the message is {human_size(len(message))}; {smtp.hostname} takes at most"
                                f" {human_size(limit)}")
        options.append(f"SIZE={len(message)}")
    utf8 = not sender.isascii() or not all(r.isascii() for r in recipients)
    if needs_8bit(message):
        if smtp.supports_extension("8bitmime"):
            options.append("BODY=8BITMIME")
        elif not smtp.supports_extension("smtputf8"):
            raise SmtpPermanent("the message has 8-bit text and the server does not take it (no 8BITMIME)")
    if utf8 and not smtp.supports_extension("smtputf8"):
        raise SmtpPermanent("an address has letters beyond ASCII, and the server does not offer SMTPUTF8,"
                            " which such an address needs")
    if utf8 or (utf8_header(message) and smtp.supports_extension("smtputf8")):
        options.append("SMTPUTF8")
    encoding = "utf-8" if utf8 else "ascii"
    where = f"{smtp.hostname}:{smtp.port}"
    try:
        _said(where, f"MAIL FROM:<{sender}> {' '.join(options)}", await smtp.mail(sender, options=options, encoding=encoding))
        for recipient in recipients:
            try:
                _said(where, f"RCPT TO:<{recipient}>", await smtp.rcpt(recipient, encoding=encoding))
            except aiosmtplib.SMTPRecipientRefused as exc:
                raise _by_code(exc.code, exc.message, f"recipient {recipient}") from None
    except SmtpError:
        await _reset(smtp)
        raise
    except aiosmtplib.SMTPSenderRefused as exc:
        await _reset(smtp)
        raise _by_code(exc.code, exc.message, f"sender {sender}") from None
    except aiosmtplib.SMTPResponseException as exc:
        raise _by_code(exc.code, exc.message, "the server said") from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise SmtpTemporary(f"link lost before the message was sent: {_cause(exc)}") from None


def _size_limit(value: str) -> int:
    """The largest message a server's SIZE takes, in bytes (0: it names none)."""
    word = value.strip().split(" ")[0]
    return int(word) if word.isascii() and word.isdigit() else 0


async def _hand_over(
    smtp: aiosmtplib.SMTP,
    message: bytes,
    handing_over: Callable[[], Awaitable[None]] | None,
    where: str,
) -> str:
    """DATA; once the server says go ahead, the message and the final dot."""
    try:
        reply = await smtp.execute_command(b"DATA")
    except aiosmtplib.SMTPResponseException as exc:
        raise _by_code(exc.code, exc.message, "the server said") from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise SmtpTemporary(f"link lost before the message was sent: {_cause(exc)}") from None
    _said(where, "DATA", reply)
    if reply.code != _START_INPUT:
        raise _by_code(reply.code, reply.message, "the server said")
    if handing_over is not None:
        await handing_over()
    protocol = smtp.protocol
    try:
        if protocol is None:
            raise aiosmtplib.SMTPServerDisconnected("Connection lost")
        protocol.write(data_payload(message))
        # read_response marks a reply as awaited before it yields, so none can slip past.
        reply = await protocol.read_response(timeout=smtp.timeout)
    except aiosmtplib.SMTPResponseException as exc:
        raise SmtpUncertain(f"{where} answered the message oddly: {exc.message}") from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise SmtpUncertain(
            f"the link to {where} was lost after the message was handed over ({_cause(exc)});"
            " it may have been sent"
        ) from None
    _said(where, f"({len(message)} bytes of message)", reply)
    if reply.code != 250:
        raise _by_code(reply.code, reply.message, "message refused")
    return _text(reply)


def _said(where: str, sent: str, reply: SMTPResponse, hide: tuple[str, ...] = ()) -> None:
    """Log a command (``sent``, credentials masked; "" for the greeting) and the reply (with
    ``hide`` masked)."""
    if sent:
        log_line(log, ">", f"smtp {where}", sent)
    log_line(log, "<", f"smtp {where}", _text(reply), hide)


def _by_code(code: int, message: str, what: str) -> SmtpError:
    """A reply that is not a success: 4xx temporary, anything else permanent."""
    text = f"{what}: {code} {' '.join(message.split())}".strip()
    if 400 <= code < 500:
        return SmtpTemporary(text, code)
    return SmtpPermanent(text, code)


async def _reset(smtp: aiosmtplib.SMTP) -> None:
    try:
        await smtp.rset()
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        log.debug("RSET failed", exc_info=True)


async def _close(smtp: aiosmtplib.SMTP) -> None:
    if not smtp.is_connected:
        return
    try:
        await smtp.quit(timeout=5)
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        smtp.close()


def _text(reply: SMTPResponse) -> str:
    return f"{reply.code} {' '.join(reply.message.split())}"


def _cause(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    cause = exc.__cause__
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text} ({cause})"
    return " ".join(text.split())


def _tls_failed(where: str, exc: ssl.SSLError | PinMismatch) -> str:
    if isinstance(exc, (ssl.SSLCertVerificationError, PinMismatch)):
        return untrusted(where, exc)
    return tls_failed(where, exc)
