"""A POP3 client on asyncio streams (RFC 1939, 2449 CAPA, 2595 STLS, 5034 SASL PLAIN, APOP).

TLS is implicit (``security = "tls"``, port 995) or STLS (``"starttls"``), which is all-or-nothing:
a server that does not offer STLS, refuses it or fails the handshake gets nothing more, not even the
user name. Plain text only with ``"none"``. Certificates are always checked (system CAs plus an
optional ``ca_file``). The login is AUTH PLAIN where the server offers it, else USER/PASS; APOP
(the password never sent) when the link is plain text and the greeting allows it, and those after
all when the server refuses APOP (GNU Mailutils' pop3d greets with a timestamp even when it has no
APOP secrets to check it against). A server that closes the link once it has refused APOP (Solid
POP3 does, as after any refused login) is logged in to again, with the password; and APOP, once
refused, is not tried again with that server and user while mailbag runs (each refused login is one
more failure in the server's log, which may lock the account).

RETR is pipelined where the server offers PIPELINING: a window of commands goes out at once and
the answers are read in order. Every failure is one of :mod:`mailbag.protocols.pop3.errors`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
import ssl
from collections.abc import AsyncIterator, Awaitable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import NoReturn, TypeVar

from mailbag.protocols.pop3.errors import (
    Pop3Error,
    Pop3LinkLost,
    Pop3LoginRefused,
    Pop3MessageFailed,
    Pop3Refused,
    Pop3Temporary,
)
from mailbag.protocols.pop3.wire import Closed, LineTooLong, Reader, Reply, explained, printable
from mailbag.protocols import sasl
from mailbag.protocols.login import ServerLogin
from mailbag.protocols.tls import (
    CaFileUnusable, PinMismatch, check_pin, client_context, silent_port_hint, tls_failed, untrusted_certificate,
)
from mailbag.protocols.traffic import MASK, credentials, log_line, masked

log = logging.getLogger(__name__)
T = TypeVar("T")

#: The largest message taken (bigger ones are left on the server).
MAX_MESSAGE = 64 * 1024 * 1024
#: How many RETR commands are in flight at once where the server offers PIPELINING.
WINDOW = 32
#: The longest command line with a SASL initial response (RFC 5034 4: 255 octets).
MAX_COMMAND = 255
#: Response codes (RFC 2449, 3206) that mean "try again later".
_TEMPORARY_CODES = frozenset({"IN-USE", "LOGIN-DELAY", "SYS/TEMP"})
_APOP_STAMP = re.compile(rb"<[^<>\s]+@[^<>\s]+>")
#: (host, port, user name) of each server that refused APOP to this process.
_APOP_REFUSED: set[tuple[str, int, str]] = set()


class _ClosedAfterApop(Pop3LinkLost):
    """The server closed the link after it refused APOP: log in again, with the password."""


#: Where and how to fetch: one account's table with its password.
Pop3Settings = ServerLogin


@dataclass(frozen=True)
class Listing:
    """One message on the server: its number in this session, unique id and size in bytes."""

    number: int
    uidl: str
    size: int


class Pop3Client:
    """One POP3 session. Use :meth:`open`; end it with :meth:`quit` (commits DELE) or
    :meth:`abort` (the server forgets every DELE)."""

    def __init__(self, settings: Pop3Settings) -> None:
        self.settings = settings
        self.capabilities: dict[str, str] = {}
        #: False once UIDL was refused: the listing's ids come from each message's size and header.
        self.uidl_offered = True
        self._reader: Reader | None = None
        self._writer: asyncio.StreamWriter | None = None
        #: Numbers of the messages this session read whole (RETR) or in part (TOP), and marked deleted.
        self._retrieved: set[int] = set()
        self._topped: set[int] = set()
        self._deleted: set[int] = set()
        self._where = f"{settings.host}:{settings.port}"
        #: What the server may quote back of the login, masked in the log and in errors.
        self._hide = credentials(settings.username, settings.password, settings.host, settings.port, settings.oauth2)

    @classmethod
    async def open(cls, settings: Pop3Settings) -> Pop3Client:
        """Connect, secure the link and log in; raises a Pop3Error."""
        client = cls(settings)
        try:
            await client._connect()
        except _ClosedAfterApop:
            client.abort()
            client = cls(settings)  # APOP is not tried again (see _login)
            try:
                await client._connect()
            except BaseException:
                client.abort()
                raise
        except BaseException:
            client.abort()
            raise
        return client

    @property
    def pipelining(self) -> bool:
        return "PIPELINING" in self.capabilities

    @property
    def login_delay(self) -> int | None:
        """The least number of seconds the server wants between two logins (LOGIN-DELAY, RFC
        2449; ``600 USER`` is 600); None when it names none, or none that is a number of seconds
        (``x``, ``-5``, nothing)."""
        return self._leading_number("LOGIN-DELAY")

    @property
    def expire_days(self) -> int | None:
        """How many days the server keeps a message once a session has read it (EXPIRE, RFC
        2449; ``30 USER`` is 30): 0 when it removes each one a session read (RETR or TOP) at the
        session's end; None when it keeps them (``NEVER``) or says nothing that is a number."""
        return self._leading_number("EXPIRE")

    def _leading_number(self, capability: str) -> int | None:
        words = self.capabilities.get(capability, "").split()
        if words and words[0].isascii() and words[0].isdigit():
            return int(words[0])
        return None

    # --- connecting ------------------------------------------------------------------------------

    async def _connect(self) -> None:
        s = self.settings
        try:
            context = await client_context(str(s.ca_file) if s.ca_file else None) if s.security != "none" else None
        except CaFileUnusable as exc:  # as a server out of reach: the next check reads the file again
            raise Pop3LinkLost(str(exc)) from None
        try:
            async with asyncio.timeout(s.timeout):
                stream, writer = await asyncio.open_connection(
                    s.host, s.port, ssl=context if s.security == "tls" else None,
                    server_hostname=s.host if s.security == "tls" else None,
                )
            self._reader, self._writer = Reader(stream, s.timeout), writer
            if s.security == "tls":
                check_pin(writer.get_extra_info("ssl_object"), s.tls_fingerprint)
            try:
                greeting = await self._reply()
            except TimeoutError:
                raise Pop3LinkLost(
                    f"no greeting from {self._where} within {s.timeout:g} s{silent_port_hint(s.security)}"
                ) from None
            if not greeting.ok:
                raise Pop3Temporary(f"{self._where} will not talk now: {greeting.text}")
            await self._capa()
            if s.security == "starttls":
                await self._stls(context)
            await self._login(greeting)
            await self._capa()  # some servers say more once logged in (PIPELINING, ...)
        except Pop3Error:
            raise
        except (ssl.SSLCertVerificationError, PinMismatch) as exc:
            refusal = untrusted_certificate(self._where, exc)
            raise Pop3LinkLost(str(refusal)) from refusal
        except ssl.SSLError as exc:
            raise Pop3LinkLost(tls_failed(self._where, exc)) from None
        except TimeoutError:
            raise Pop3LinkLost(f"{self._where} did not answer within {s.timeout:g} s") from None
        except OSError as exc:
            why = exc.strerror or str(exc) or type(exc).__name__
            raise Pop3LinkLost(f"cannot reach {self._where}: {why[:1].lower()}{why[1:]}") from None
        except (Closed, LineTooLong, ValueError) as exc:
            raise Pop3LinkLost(f"{self._where}: {exc}") from None

    async def _capa(self) -> None:
        """CAPA (RFC 2449); a server without it has none of the extensions."""
        reply = await self._command("CAPA", check=False)
        if not reply.ok:
            self.capabilities = {}
            return
        lines = (await self._read_multiline(64 * 1024)).decode("ascii", "replace").splitlines()
        capabilities: dict[str, str] = {}
        for line in lines:
            name, _, args = line.strip().partition(" ")
            if name:
                capabilities[name.upper()] = args.strip()
        self.capabilities = capabilities

    async def _stls(self, context: ssl.SSLContext | None) -> None:
        writer = self._writer
        if "STLS" not in self.capabilities or context is None or writer is None or self._reader is None:
            raise Pop3LinkLost(f"{self._where} does not offer STLS; nothing was sent in plain text")
        if self._reader.buffered:  # an answer to STLS before it was sent, say
            raise Pop3LinkLost(f"{self._where} sent what was not asked for before STLS; nothing was sent in plain text")
        reply = await self._command("STLS", check=False)
        if not reply.positive:
            answer = f"{reply.status} {reply.text}".strip()
            raise Pop3LinkLost(f"{self._where} refused STLS ({answer}); nothing was sent in plain text")
        if self._reader.buffered:
            # RFC 2595 4: nothing may follow +OK before the handshake; a man in the middle's work.
            raise Pop3LinkLost(f"{self._where} sent more after its STLS answer, before TLS; nothing was sent in plain text")
        async with asyncio.timeout(self.settings.timeout):
            await writer.start_tls(context, server_hostname=self.settings.host)
        check_pin(writer.get_extra_info("ssl_object"), self.settings.tls_fingerprint)
        # What was said in plain text may have been forged (RFC 2595 4): forget it and ask again.
        self._reader.replace_stream(self._reader.stream)
        self.capabilities = {}
        await self._capa()

    async def _login(self, greeting: Reply) -> None:
        s = self.settings
        plain_link = s.security == "none"
        stamp = _APOP_STAMP.search(greeting.text.encode("utf-8", "replace"))
        mechanisms = self.capabilities.get("SASL", "").upper().split()
        if s.oauth2:
            await self._login_oauth2(mechanisms)
        elif plain_link and stamp is not None and (s.host, s.port, s.username) not in _APOP_REFUSED:
            digest = hashlib.md5(stamp.group(0) + s.password.encode("utf-8")).hexdigest()
            reply = await self._command(f"APOP {s.username} {digest}", check=False, secret=True)
            if reply.ok:
                return
            if reply.code in _TEMPORARY_CODES:
                self._refused(reply)
            _APOP_REFUSED.add((s.host, s.port, s.username))
            log.info("%s refused APOP (%s): logging in with the password", self._where,
                     masked(explained(reply), self._hide))
            try:
                await self._password_login(mechanisms)
            except Pop3LinkLost as exc:
                raise _ClosedAfterApop(str(exc)) from None
        else:
            await self._password_login(mechanisms)

    async def _password_login(self, mechanisms: list[str]) -> None:
        """AUTH PLAIN where offered, else USER and PASS."""
        s = self.settings
        if "PLAIN" in mechanisms:
            token = base64.b64encode(f"\0{s.username}\0{s.password}".encode()).decode("ascii")
            await self._sasl_plain(token)
        else:
            await self._auth_step(f"USER {s.username}")
            await self._auth_step(f"PASS {s.password}")

    async def _sasl_plain(self, token: str) -> None:
        """AUTH PLAIN with ``token`` on the command line (RFC 5034's initial response); on the
        line after the server's ``+`` instead when the command would be over 255 octets, or when
        the server asks for it so (it took no initial response)."""
        line = f"AUTH PLAIN {token}"
        if len(line) > MAX_COMMAND:
            reply = await self._command("AUTH PLAIN", check=False)
        else:
            reply = await self._command(line, check=False, secret=True)
        if reply.status == "+":
            reply = await self._command(token, check=False, secret=True)
            if reply.status == "+":  # a challenge PLAIN has no answer to: cancelled (RFC 5034 4)
                reply = await self._command("*", check=False)
        if not reply.positive:
            self._refused(reply)

    async def _login_oauth2(self, mechanisms: list[str]) -> None:
        """AUTH with the access token (RFC 5034, initial response on the command line); a
        refusal's JSON challenge is answered as the mechanism asks, then the -ERR is reported."""
        s = self.settings
        try:
            mechanism = sasl.choose_mechanism(mechanisms, s.auth_mechanism)
        except sasl.NoOAuthMechanism as exc:
            raise Pop3LoginRefused(f"cannot log in to {self._where}: {exc}") from exc  # no token went out
        response = sasl.initial_response(mechanism, s.username, s.password, s.host, s.port)
        line = f"AUTH {mechanism} {response}"
        if len(line) > MAX_COMMAND:  # too long for one command line: wait for the server's "+"
            reply = await self._command(f"AUTH {mechanism}", check=False)
            if reply.status != "+":
                self._refused(reply)
            line = response
        reply = await self._command(line, check=False, secret=True)
        if reply.positive:
            return
        if reply.status == "+":  # the error challenge
            status = sasl.error_status(reply.text)
            reply = await self._command(sasl.failure_reply(mechanism), check=False, secret=True)
            if reply.positive:
                return
            if status:
                reply.text = f"{reply.text} ({status})".strip()
        self._refused(reply)

    async def _auth_step(self, line: str) -> None:
        reply = await self._command(line, check=False, secret=True)
        if reply.ok:
            return
        self._refused(reply)

    def _refused(self, reply: Reply) -> NoReturn:
        said = masked(explained(reply), self._hide)
        if reply.code in _TEMPORARY_CODES:
            raise Pop3Temporary(f"{self._where} cannot log in now: {said}")
        raise Pop3LoginRefused(f"login refused: {said or '-ERR'}")

    # --- commands --------------------------------------------------------------------------------

    async def list_messages(self) -> list[Listing]:
        """Every message in the drop: number, unique id and size (see :meth:`_listing`). Ids
        that more than one message has (against RFC 1939) are told apart by their order: the
        second ``x`` is ``x 2`` (a space no UIDL holds), so each message is downloaded once."""
        listing = await self._listing()
        seen: dict[str, int] = {}
        for at, message in enumerate(listing):
            seen[message.uidl] = count = seen.get(message.uidl, 0) + 1
            if count > 1:
                listing[at] = Listing(message.number, f"{message.uidl} {count}", message.size)
        if len(seen) < len(listing):
            log.warning("pop3 %s: %d messages share a UIDL with another", self._where, len(listing) - len(seen))
        return listing

    async def _listing(self) -> list[Listing]:
        """Number, id and size of each message (LIST, then UIDL). A server without UIDL (RFC 1939
        makes it optional) gets ids made from each message's size and header (TOP n 0), which
        stay the same from one session to the next."""
        await self._command("LIST")
        sizes: dict[int, int] = {}
        for line in (await self._read_multiline(64 * 1024 * 1024)).splitlines():
            number, _, size = line.decode("ascii", "replace").strip().partition(" ")
            if number.isdigit() and size.split()[0:1] and size.split()[0].isdigit():
                sizes[int(number)] = int(size.split()[0])
        reply = await self._command("UIDL", check=False)
        self.uidl_offered = reply.ok
        if not reply.ok:
            return [Listing(n, await self._header_id(n, size), size) for n, size in sorted(sizes.items())]
        uidls: dict[int, str] = {}
        for line in (await self._read_multiline(64 * 1024 * 1024)).splitlines():
            number, _, uidl = line.decode("ascii", "replace").strip().partition(" ")
            if number.isdigit() and uidl:
                uidls[int(number)] = uidl.strip()
        return [Listing(n, uidl, sizes.get(n, 0)) for n, uidl in sorted(uidls.items())]

    async def _header_id(self, number: int, size: int) -> str:
        """An id for message ``number`` on a server without UIDL: its size and header's digest."""
        reply = await self._command(f"TOP {number} 0", check=False)
        if not reply.ok:
            raise Pop3Refused(
                f"{self._where} offers neither UIDL nor TOP, so mailbag cannot tell which messages"
                " it has downloaded already"
            )
        header = await self._read_multiline(MAX_MESSAGE)
        self._topped.add(number)
        return f"top-{size}-{hashlib.sha256(header).hexdigest()[:40]}"

    async def top(self, number: int, lines: int = 0) -> bytes:
        """The header of message ``number`` and its first ``lines`` body lines (TOP)."""
        await self._command(f"TOP {number} {lines}")
        header = await self._read_multiline(MAX_MESSAGE)
        self._topped.add(number)
        return header

    async def retrieve(self, numbers: Sequence[int], limit: int = MAX_MESSAGE) -> AsyncIterator[tuple[int, bytes | None]]:
        """RETR each of ``numbers``, yielding ``(number, message)`` in order (None for a message
        the server refused to give); pipelined in windows where the server offers it. A link that
        fails while a message is read raises Pop3MessageFailed naming it."""
        window = WINDOW if self.pipelining else 1
        for start in range(0, len(numbers), window):
            batch = numbers[start : start + window]
            log_line(log, ">", f"pop3 {self._where}", f"RETR of {len(batch)} messages")
            await self._send([f"RETR {n}" for n in batch])
            for number in batch:
                yield number, await self._answer_to_retr(number, limit)

    async def _answer_to_retr(self, number: int, limit: int) -> bytes | None:
        """The message RETR ``number`` gave (None: the server refused it)."""
        try:
            reply = await self._guard(self._reply())
            if not reply.ok:
                return None
            message = await self._read_multiline(limit)
        except Pop3LinkLost as exc:
            raise Pop3MessageFailed(str(exc), number) from exc
        self._retrieved.add(number)
        return message

    async def delete(self, numbers: Iterable[int]) -> list[int]:
        """Mark messages deleted (DELE; the server removes them at :meth:`quit`); returns the
        numbers the server refused."""
        numbers = list(numbers)
        refused: list[int] = []
        window = WINDOW if self.pipelining else 1
        for start in range(0, len(numbers), window):
            batch = numbers[start : start + window]
            log_line(log, ">", f"pop3 {self._where}", f"DELE of {len(batch)} messages")
            await self._send([f"DELE {n}" for n in batch])
            for number in batch:
                if not (await self._guard(self._reply())).ok:
                    refused.append(number)
                else:
                    self._deleted.add(number)
        return refused

    async def noop(self) -> None:
        await self._command("NOOP")

    async def quit(self, stored: Collection[int] = ()) -> None:
        """QUIT: the server removes the messages marked deleted; raises when it says it could not.

        Call it once every message this session retrieved is stored (``stored`` names those of
        the listing stored before): a server that keeps no mail once read (EXPIRE 0) removes
        them then. One that this session only looked at (TOP, for the ids of a server without
        UIDL) and that is not stored (a message too big, say) would be lost so: then the session
        ends without QUIT, and the server removes nothing, what was marked deleted included.
        A QUIT the link drops before its answer is a lost link only when something was marked
        deleted (whether the server removed it is not known); else there was nothing to commit."""
        looked_only = self._topped - self._retrieved - self._deleted - set(stored)
        if self.expire_days == 0 and looked_only:
            log.warning("pop3 %s: no QUIT (the server would remove %d messages read by TOP and not"
                        " downloaded: EXPIRE 0)", self._where, len(looked_only))
            self.abort()
            return
        try:
            reply = await self._command("QUIT", check=False)
        except Pop3LinkLost as exc:  # the link closed, or stalled, where the answer was due
            if self._deleted:
                raise Pop3LinkLost(
                    f"{exc}; whether it removed the {len(self._deleted)} messages marked deleted is not known"
                    " (the next check deletes again what it still lists)"
                ) from exc
            log.info("pop3 %s: no answer to QUIT (%s); nothing was marked deleted", self._where, exc)
            return
        finally:
            self.abort()
        if not reply.ok:
            raise Pop3Temporary(f"{self._where} could not remove the deleted messages: {explained(reply)}")

    def abort(self) -> None:
        """Drop the link without QUIT: the server keeps every message."""
        writer, self._writer = self._writer, None
        if writer is not None:
            transport = writer.transport
            transport.abort()

    # --- the wire --------------------------------------------------------------------------------

    async def _command(self, line: str, *, check: bool = True, secret: bool = False) -> Reply:
        shown = line
        if secret:  # the verb (and an AUTH's mechanism) only; of a SASL response alone, nothing
            words = line.split(" ")
            kept = words[:2] if words[0].upper() == "AUTH" else words[:1]
            shown = f"{' '.join(kept)} {MASK}" if len(words) > 1 else f"(response) {MASK}"
        log_line(log, ">", f"pop3 {self._where}", shown)
        await self._send([line])
        reply = await self._guard(self._reply())
        if check and not reply.ok:
            if reply.code in _TEMPORARY_CODES:
                raise Pop3Temporary(f"{self._where}: {explained(reply)}")
            raise Pop3Refused(f"{self._where} refused {line.split(' ', 1)[0]}: {explained(reply)}")
        return reply

    async def _send(self, lines: list[str]) -> None:
        writer = self._writer
        if writer is None:
            raise Pop3LinkLost(f"the link to {self._where} is closed")
        if any("\r" in line or "\n" in line for line in lines):
            raise ValueError("a POP3 command may not hold a line break")
        writer.write("".join(f"{line}\r\n" for line in lines).encode("utf-8"))
        await self._guard(writer.drain())

    async def _reply(self) -> Reply:
        if self._reader is None:
            raise Pop3LinkLost(f"the link to {self._where} is closed")
        reply = Reply(await self._reader.line())
        log_line(log, "<", f"pop3 {self._where}", f"{reply.status} {reply.text}", self._hide)
        return reply

    async def _read_multiline(self, limit: int) -> bytes:
        if self._reader is None:
            raise Pop3LinkLost(f"the link to {self._where} is closed")
        return await self._guard(self._reader.multiline(limit))

    async def _guard(self, step: Awaitable[T]) -> T:
        """Await ``step``; a failure of the link becomes Pop3LinkLost and drops it."""
        try:
            return await step
        except Pop3Error:
            raise
        except TimeoutError:
            self.abort()
            raise Pop3LinkLost(f"{self._where} did not answer within {self.settings.timeout:g} s") from None
        except (Closed, LineTooLong, ValueError) as exc:
            self.abort()
            raise Pop3LinkLost(f"{self._where}: {exc}") from None
        except OSError as exc:
            self.abort()
            raise Pop3LinkLost(f"the link to {self._where} was lost: {exc.strerror or exc or type(exc).__name__}") from None
