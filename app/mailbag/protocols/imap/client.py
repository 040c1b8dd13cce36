"""ImapClient: one IMAP connection, on aioimaplib, with streaming FETCH and bounded commands."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar

from mailbag import __version__
from mailbag.domain.config import ServerConfig
from mailbag.domain.models import Folder, MessageSummary
from mailbag.domain.sanitize import clean_line
from mailbag.domain.search import Query
from mailbag.protocols import sasl
from mailbag.protocols import utf7
from mailbag.protocols.imap import adapter, idle
from mailbag.protocols.imap.criteria import imap_string, to_imap_search
from mailbag.protocols.imap.codes import (
    CopyResult,
    append_uid,
    copy_result,
    imap_datetime,
    refusal_code,
    worded,
)
from mailbag.protocols.imap.errors import ImapAuthError, ImapConnectionError, ImapError, ImapUnavailable
from mailbag.protocols.imap.folders import build_folders, parse_list, parse_status
from mailbag.protocols.imap.names import spelling_of
from mailbag.protocols.imap.parser import (
    Value,
    as_int,
    as_text,
    format_uid_set,
    pairs,
    parse_segments,
    parse_uid_set,
    UidSetTooLarge,
)
from mailbag.protocols.imap.protocol import (
    ImapCommand,
    Pipeline,
    ServerPush,
    StreamingProtocol,
)
from mailbag.protocols.imap.stream import FetchStream, StreamingFetch
from mailbag.protocols.imap.summary import (
    ADDRESS_FIELDS,
    ADDRESS_ITEM,
    address_fields_from_items,
    addresses_unread,
    flag_set,
    modseq_of,
    summary_from_items,
    with_addresses,
)
from mailbag.protocols.imap.summary_scan import scan_summaries, summary_from_segments
from mailbag.protocols.imap.wire import (
    Part,
    compose,
    criteria_parts,
    has_8bit,
    literal_mode,
)
from mailbag.protocols.tls import (
    PinMismatch, check_pin, client_context, silent_port_hint, tls_failed, untrusted_certificate,
)
from mailbag.protocols.traffic import credentials, masked

__all__ = ["CopyResult", "FromUid", "ImapClient", "ImapConnectionError", "ImapError", "ImapSettings", "SelectResult",
           "ServerPush"]

log = logging.getLogger(__name__)
#: (host, port) of each server that dropped the link when it was sent ID (see ``_identify``).
_ID_DROPPED: set[tuple[str, int]] = set()
#: (host, port) of each server whose compressed stream could not be read (see ``_compress``).
_COMPRESS_BROKEN: set[tuple[str, int]] = set()

#: The items of every summary fetch. Always the same list: Dovecot caches what was asked before.
SUMMARY_ITEMS = ("UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE "
                 "BODY.PEEK[HEADER.FIELDS (REFERENCES)]")
BATCH_SIZE = 500
#: NOTIFY's events (RFC 5465 5.3, 5.4) for folders made, deleted or renamed, and (un)subscribed.
_FOLDER_EVENTS = ("MailboxName", "SubscriptionChange")

T = TypeVar("T")

_CODE = re.compile(rb"^\* OK \[(UIDVALIDITY|UIDNEXT|HIGHESTMODSEQ) (\d+)\]", re.IGNORECASE)
_PERMANENTFLAGS = re.compile(rb"^\* OK \[PERMANENTFLAGS \(([^)]*)\)\]", re.IGNORECASE)
_EXISTS = re.compile(rb"^\* (\d+) EXISTS", re.IGNORECASE)
#: A login answered with one of these codes was not refused: the server cannot check it now.
_NOT_NOW = frozenset({"UNAVAILABLE", "INUSE"})
_FLAG = re.compile(r"^\\?[^\s()\"{}\\\]%*]+$")
_UID_SET = re.compile(r"^[0-9*:,]+$")
_CHARSET = re.compile(r"^[A-Za-z0-9_.:-]+$")
_LIST_WILDCARDS = re.compile(r"[*%]")

#: TCP keepalive on every connection: first probe after 60 s of quiet, then every 15 s, 4 probes.
KEEPALIVE = (60, 15, 4)


@dataclass(frozen=True)
class ImapSettings:
    """How to reach and log in to an IMAP server. ``timeout`` bounds the connection, the
    greeting, the TLS handshake and each command, in seconds."""

    host: str
    port: int
    security: Literal["tls", "starttls", "none"]
    username: str
    password: str = field(repr=False)  # never in a repr, a log line or a traceback
    ca_file: str | None = None
    timeout: float = 30.0
    tls_fingerprint: str | None = None  # "sha256:...": the server's certificate must be this one
    #: ``password`` is an OAuth2 access token: log in with OAUTHBEARER or XOAUTH2.
    oauth2: bool = False
    auth_mechanism: str | None = None  # the OAuth2 mechanism the config insists on
    #: Compress the link (COMPRESS=DEFLATE, RFC 4978) where the server offers it.
    compress: bool = True

    @classmethod
    def of(cls, server: ServerConfig, password: str) -> ImapSettings:
        """The settings of a config's ``[imap]`` table with its password."""
        return cls(
            host=server.host, port=server.port, security=server.security, username=server.username,
            password=password, ca_file=str(server.ca_file) if server.ca_file else None,
            timeout=server.timeout, tls_fingerprint=server.tls_fingerprint, oauth2=server.uses_oauth2,
            auth_mechanism=server.auth_mechanism, compress=server.compress,
        )


@dataclass(frozen=True)
class FromUid:
    """Every message from this UID on: the new ones, since a known UIDNEXT."""

    uid: int


#: Which messages a fetch is about: these UIDs, or every one from a UID on.
Uids = Sequence[int] | FromUid


def sequence_set(uids: Uids | None) -> str:
    """The IMAP sequence set of ``uids`` (None: every message)."""
    if uids is None:
        return "1:*"
    if isinstance(uids, FromUid):
        return f"{max(1, int(uids.uid))}:*"
    text = format_uid_set(int(u) for u in uids)
    if not text:
        raise ValueError("a fetch needs at least one UID")
    return text


@dataclass(frozen=True)
class SelectResult:
    """What SELECT / EXAMINE reported; ``highestmodseq`` is 0 without CONDSTORE."""

    uidvalidity: int
    uidnext: int
    exists: int
    highestmodseq: int
    vanished: tuple[int, ...] = ()
    changed: tuple[tuple[int, frozenset[str], int], ...] = ()
    #: The flags a client can set for good (PERMANENTFLAGS); None when the server did not say.
    permanentflags: frozenset[str] | None = None


def quote(text: str) -> str:
    """An IMAP quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _checked(folder: str) -> str:
    """``folder``; ValueError for a name no command can carry (empty, or with a line break or
    another control character)."""
    if not folder or any(ord(c) < 32 or ord(c) == 127 for c in folder):
        raise ValueError(f"not a folder name: {folder!r}")
    return folder


def _server_text(response: adapter.Response) -> str:
    last = response.lines[-1] if response.lines else b""
    text = last.decode("utf-8", "replace") if isinstance(last, (bytes, bytearray)) else str(last)
    return clean_line(text)[:300] or response.result


class ImapClient:
    """One IMAP connection. Commands run one at a time; each is bounded by ``settings.timeout``
    (a stalled server or a dropped link raises :class:`ImapConnectionError`, never hangs).

    A streaming fetch holds the connection while it is iterated: finish (or break out of) the
    ``async for`` before sending another command on the same client. Untagged EXISTS / EXPUNGE /
    FETCH / VANISHED the server sends on its own are queued in :attr:`pushes` for a watcher.
    """

    def __init__(self, settings: ImapSettings, account: str,
                 on_alert: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.account = account
        self.on_alert = on_alert  # gets each [ALERT] the server sends, cleaned for the screen
        self.capabilities: frozenset[str] = frozenset()
        self.enabled: frozenset[str] = frozenset()
        self.folder_events = False  # NOTIFY pushes a LIST for folders changed elsewhere
        self._link: StreamingProtocol | None = None
        self._lock = asyncio.Lock()
        #: The wire names of this server's folders that are not their names encoded (see ``names``).
        self.spelling = spelling_of(settings.host, settings.port, settings.username)

    # --- plumbing --------------------------------------------------------------------------------

    @property
    def _protocol(self) -> StreamingProtocol:
        protocol = self._link
        if protocol is None:
            raise ImapConnectionError("not connected")
        if protocol.error is not None:
            raise protocol.link_error()
        return protocol

    @property
    def pushes(self) -> asyncio.Queue[ServerPush]:
        """Server pushes received outside the commands that asked for them."""
        return self._protocol.pushes

    def _command(self, name: str, *args: str, wants: tuple[bytes, ...] = (), prefix: str | None = None,
                 continuation: bytes | None = None) -> ImapCommand:
        protocol = self._protocol
        return ImapCommand(name, protocol.new_tag(), *args, wants=wants, prefix=prefix, loop=protocol.loop,
                           timeout=self.settings.timeout, continuation=continuation)

    def _mailbox(self, folder: str) -> str:
        """A folder as a command argument: its wire name (see ``names``), quoted. A wire name
        beyond ASCII is one this server listed so (raw UTF-8): it is given back as written."""
        return quote(self.spelling.wire(folder))

    async def _execute(self, command: ImapCommand) -> adapter.Response:
        """Run a command to its end; NO/BAD raise ImapError, a dead link ImapConnectionError."""
        protocol = self._protocol
        try:
            response = await protocol.execute(command)
        except adapter.CommandTimeout:
            protocol.abort(f"no answer from the server within {self.settings.timeout:g} s")
            raise ImapConnectionError(protocol.error) from None
        except adapter.Abort as exc:
            raise ImapError(clean_line(str(exc))) from None
        if response.result == "KO" and protocol.error:
            raise protocol.link_error()
        if response.result != "OK":
            said = _server_text(response)
            raise ImapError(f"{command.name} failed: {worded(said)}", refusal_code(said))
        return response

    async def _run(self, name: str, *args: str, wants: tuple[bytes, ...] = (), prefix: str | None = None,
                   continuation: bytes | None = None) -> list[list[Value]]:
        async with self._lock:
            command = self._command(name, *args, wants=wants, prefix=prefix, continuation=continuation)
            await self._execute(command)
            return [parse_segments(s) for s in command.untagged]

    # --- connection ------------------------------------------------------------------------------

    async def connect(self) -> None:
        """Connect, secure the link, log in and enable CONDSTORE/QRESYNC when offered."""
        s = self.settings
        context = await client_context(s.ca_file) if s.security != "none" else None
        loop = asyncio.get_running_loop()
        protocol = self._link = StreamingProtocol(loop)
        protocol.on_alert = self.on_alert
        protocol.hide = credentials(s.username, s.password, s.host, s.port, s.oauth2)
        tls = context if s.security == "tls" else None
        try:
            await self._within(loop.create_connection(lambda: protocol, s.host, s.port, ssl=tls,
                                                      ssl_handshake_timeout=s.timeout if tls else None),
                               f"cannot connect to {s.host}:{s.port}: no answer")
            if tls is not None:
                self._check_pin()
            greeting = await self._within(
                asyncio.shield(protocol.greeting), f"no greeting from {s.host}:{s.port}", silent_port_hint(s.security)
            )
            if s.security == "starttls" and greeting.startswith(b"* PREAUTH"):
                raise ImapConnectionError("the server logged in before TLS (PREAUTH); refusing to "
                                          "continue in plaintext")
            await self._capability()
            if s.security == "starttls":
                await self._starttls(context)
                self._check_pin()
                # RFC 3501 6.2.1: what the server said before TLS may have been forged; ask again.
                await self._capability()
            if protocol.state == adapter.NONAUTH:
                await self._authenticate()
            await self._capability()
            await self._compress()
            await self._identify()
            await self._enable()
            self._keepalive()
        except ImapError:
            await self._drop()
            raise
        except (ssl.SSLCertVerificationError, PinMismatch) as exc:
            await self._drop()
            refusal = untrusted_certificate(f"{s.host}:{s.port}", exc)
            raise ImapConnectionError(str(refusal)) from refusal
        except ssl.SSLError as exc:
            await self._drop()
            raise ImapConnectionError(tls_failed(f"{s.host}:{s.port}", exc)) from None
        except (TimeoutError, OSError) as exc:
            await self._drop()
            raise ImapConnectionError(f"cannot connect to {s.host}:{s.port}: {exc or 'timed out'}") from None

    async def _within(self, step: Awaitable[T], failure: str, hint: str = "") -> T:
        """``step`` within the timeout, else :class:`ImapConnectionError` "<failure> within N
        s<hint>"."""
        try:
            return await asyncio.wait_for(step, self.settings.timeout)
        except TimeoutError:
            raise ImapConnectionError(f"{failure} within {self.settings.timeout:g} s{hint}") from None

    def _check_pin(self) -> None:
        """The certificate is the pinned one, if one is (before anything is sent over TLS)."""
        transport = self._protocol.transport
        check_pin(transport.get_extra_info("ssl_object") if transport is not None else None,
                  self.settings.tls_fingerprint)

    def _keepalive(self) -> None:
        """Turn on TCP keepalive, so a link that died while quiet is noticed by the kernel."""
        transport = self._protocol.transport
        sock = transport.get_extra_info("socket") if transport is not None else None
        if sock is None:
            return
        idle_s, interval, count = KEEPALIVE
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            if hasattr(socket, "TCP_KEEPIDLE"):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle_s)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, interval)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, count)
        except OSError:
            pass

    async def _drop(self) -> None:
        protocol = self._link
        if protocol is None:
            return
        if protocol.transport is not None:
            protocol.transport.abort()
        if protocol.error is None:
            protocol.error = "connection closed"

    @property
    def compressed(self) -> bool:
        """Whether the link is compressed (see :meth:`_compress`)."""
        return self._link is not None and self._link.compressed

    async def _compress(self) -> None:
        """COMPRESS DEFLATE (RFC 4978) where the server offers it, unless the config says
        ``compress = false``: a folder's headers and the messages read move in several times
        fewer bytes, which tells on a slow link. Refused (``NO``), the link stays as it was. A
        server whose compressed stream cannot be read (one that says OK and goes on in plain
        text, say) loses that link, and is not asked again while mailbag runs."""
        where = (self.settings.host, self.settings.port)
        if not self.settings.compress or "COMPRESS=DEFLATE" not in self.capabilities:
            return
        if where in _COMPRESS_BROKEN:
            log.info("imap %s: not compressed: the server's compressed data could not be read before", self.account)
            return
        self._protocol.on_inflate_error = lambda: _COMPRESS_BROKEN.add(where)  # from its OK on
        try:
            await self._run("COMPRESS", "DEFLATE")
        except ImapError as exc:
            log.info("imap %s: the server refused COMPRESS: %s", self.account, exc)

    async def _capability(self) -> None:
        answers = await self._run("CAPABILITY", wants=(b"CAPABILITY",))
        caps = {as_text(word).upper() for parsed in answers for word in parsed[2:] if isinstance(word, bytes)}
        self.capabilities = frozenset(caps)

    async def _identify(self) -> None:
        """ID (RFC 2971) where the server offers it: mailbag's name and version, nothing of the
        system it runs on. Some servers refuse SELECT to a client that has not said what it is
        (NetEase's 163.com, 126.com and yeah.net: "Unsafe Login"). What the server says of itself
        is not used; a refusal is logged and the session goes on. A server that drops the link
        instead is not sent ID again while mailbag runs (the next connection goes without)."""
        where = (self.settings.host, self.settings.port)
        if "ID" not in self.capabilities or where in _ID_DROPPED:
            return
        try:
            await self._run("ID", f'("name" "mailbag" "version" "{__version__}")', wants=(b"ID",))
        except ImapConnectionError:
            _ID_DROPPED.add(where)
            raise
        except ImapError as exc:
            log.info("%s:%s refused ID: %s", self.settings.host, self.settings.port, exc)

    async def _starttls(self, context: ssl.SSLContext | None) -> None:
        if "STARTTLS" not in self.capabilities or context is None:
            raise ImapConnectionError("the server does not offer STARTTLS; refusing to continue in plaintext")
        try:
            await self._run("STARTTLS")
        except ImapConnectionError:
            raise
        except ImapError as exc:
            raise ImapConnectionError(f"STARTTLS refused: {exc}") from None
        await self._protocol.start_tls(context, self.settings.host, self.settings.timeout)
        self.capabilities = frozenset()

    async def _login(self, username: str, password: str) -> None:
        """LOGIN; a user name or password that a quoted string cannot hold (one not plain ASCII:
        a quoted string holds 7-bit text only, RFC 3501 4.3) goes as a literal, in UTF-8."""
        parts: list[Part] = ["LOGIN "]
        for at, value in enumerate((username, password)):
            parts += [" "] if at else []
            parts.append(quote(value) if value.isascii() and not any(c in value for c in "\r\n\0") else value.encode())
        await self._send_lines("LOGIN", parts)

    async def _authenticate(self) -> None:
        s = self.settings
        try:
            if s.oauth2:
                await self._authenticate_oauth2()
            elif "AUTH=PLAIN" in self.capabilities:
                token = base64.b64encode(f"\0{s.username}\0{s.password}".encode()).decode("ascii")
                if "SASL-IR" in self.capabilities:
                    await self._run("AUTHENTICATE", "PLAIN", token)
                else:
                    await self._run("AUTHENTICATE", "PLAIN", continuation=token.encode("ascii"))
            elif "LOGINDISABLED" in self.capabilities:
                raise ImapError("the server does not allow logging in on this link")
            else:
                await self._login(s.username, s.password)
        except (ImapConnectionError, ImapAuthError):
            raise
        except ImapError as exc:
            said = masked(str(exc), self._protocol.hide)
            if exc.code in _NOT_NOW:
                raise ImapUnavailable(f"the server cannot check the login now: {said}") from None
            for command in ("AUTHENTICATE", "LOGIN"):  # which one was refused says nothing more
                said = said.removeprefix(f"{command} failed: ")
            raise ImapAuthError(f"login failed: {said}") from None
        self._protocol.state = adapter.AUTH

    async def _authenticate_oauth2(self) -> None:
        """AUTHENTICATE with the access token (SASL-IR when offered); a refusal's JSON challenge
        is answered as the mechanism asks, so the server ends with NO."""
        s = self.settings
        offered = [c[5:] for c in self.capabilities if c.startswith("AUTH=")]
        try:
            mechanism = sasl.choose_mechanism(offered, s.auth_mechanism)
        except sasl.NoOAuthMechanism as exc:
            raise ImapAuthError(f"login failed: {exc}") from exc  # no token went out
        response = sasl.initial_response(mechanism, s.username, s.password, s.host, s.port)
        ending = sasl.failure_reply(mechanism).encode("ascii")
        async with self._lock:
            if "SASL-IR" in self.capabilities:
                command = self._command("AUTHENTICATE", mechanism, response)
            else:
                command = self._command("AUTHENTICATE", mechanism, continuation=response.encode("ascii"))
            command.tail.append(ending)  # answers the error challenge, if one comes
            await self._execute(command)

    async def _enable(self) -> None:
        wanted = "QRESYNC" if "QRESYNC" in self.capabilities else "CONDSTORE"
        if wanted not in self.capabilities or "ENABLE" not in self.capabilities:
            return
        answers = await self._run("ENABLE", wanted, wants=(b"ENABLED",))
        self.enabled = frozenset(as_text(w).upper() for parsed in answers for w in parsed[2:]
                                 if isinstance(w, bytes))

    async def logout(self) -> None:
        """Say goodbye and close the link (errors on the way out are ignored)."""
        if self._link is None:
            return
        try:
            await self._run("LOGOUT", wants=(b"BYE",))
        except ImapError:
            pass
        await self._drop()
        self._link = None

    async def noop(self) -> None:
        """NOOP: lets the server report changes (they land in :attr:`pushes`)."""
        await self._run("NOOP")

    # --- folders ---------------------------------------------------------------------------------

    async def list_folders(self) -> list[Folder]:
        """Every folder with its role, total and unread counts."""
        caps = self.capabilities
        extended = "LIST-EXTENDED" in caps or "SPECIAL-USE" in caps
        returns = []
        if "LIST-EXTENDED" in caps:
            returns.append("SUBSCRIBED")
        if extended and "SPECIAL-USE" in caps:
            returns.append("SPECIAL-USE")
        if "LIST-STATUS" in caps:
            returns.append("STATUS (MESSAGES UNSEEN)")
        args = ['""', '"*"'] + ([f"RETURN ({' '.join(returns)})"] if returns else [])
        answers = await self._run("LIST", *args, wants=(b"LIST", b"STATUS"))
        listed, counts = [], {}
        for parsed in answers:
            kind = as_text(parsed[1]).upper() if len(parsed) > 1 else ""
            if kind == "LIST" and (entry := parse_list(parsed)) is not None:
                listed.append(entry)
            elif kind == "STATUS" and (status := parse_status(parsed)) is not None:
                counts[status[0]] = status[1]
        self.spelling.learn([wire for _attributes, _delimiter, wire in listed])
        if "LIST-STATUS" not in caps:
            for attributes, _delimiter, wire in listed:
                if not {"\\noselect", "\\nonexistent"} & {a.lower() for a in attributes}:
                    counts[wire] = await self._status_wire(wire, "MESSAGES UNSEEN")
        return build_folders(self.account, listed, counts, gmail="X-GM-EXT-1" in caps)

    async def namespace(self) -> tuple[str, str | None]:
        """The personal namespace's (prefix, delimiter): ``("INBOX.", ".")`` on a server that
        keeps folders under INBOX; ``("", None)`` when the server has no NAMESPACE."""
        if "NAMESPACE" not in self.capabilities:
            return "", None
        for parsed in await self._run("NAMESPACE", wants=(b"NAMESPACE",)):
            personal = parsed[2] if len(parsed) > 2 else None
            if isinstance(personal, list) and personal and isinstance(personal[0], list) and personal[0]:
                first = personal[0]
                delimiter = as_text(first[1]) if len(first) > 1 and first[1] is not None else None
                return utf7.decode(as_text(first[0])), delimiter or None
        return "", None

    async def create(self, folder: str) -> None:
        """CREATE ``folder`` (its full name, decoded)."""
        await self._run("CREATE", self._mailbox(_checked(folder)))

    async def rename(self, folder: str, new_name: str) -> None:
        """RENAME ``folder`` (and the folders below it) to ``new_name``."""
        await self._run("RENAME", self._mailbox(_checked(folder)), self._mailbox(_checked(new_name)))
        self.spelling.forget(folder)

    async def delete(self, folder: str) -> None:
        """DELETE ``folder`` with its messages."""
        await self._run("DELETE", self._mailbox(_checked(folder)))
        self.spelling.forget(folder)

    async def subscribe(self, folder: str, subscribe: bool = True) -> None:
        """SUBSCRIBE to ``folder``, or UNSUBSCRIBE from it."""
        await self._run("SUBSCRIBE" if subscribe else "UNSUBSCRIBE", self._mailbox(_checked(folder)))

    async def status(self, folder: str) -> dict[str, int]:
        """STATUS of one folder: MESSAGES, UNSEEN, UIDNEXT, UIDVALIDITY (and HIGHESTMODSEQ)."""
        items = "MESSAGES UNSEEN UIDNEXT UIDVALIDITY"
        if "CONDSTORE" in self.capabilities or "QRESYNC" in self.capabilities:
            items += " HIGHESTMODSEQ"
        return await self._status_wire(self.spelling.wire(folder), items)

    async def _status_wire(self, wire: str, items: str) -> dict[str, int]:
        answers = await self._run("STATUS", quote(wire), f"({items})", wants=(b"STATUS",))
        for parsed in answers:
            status = parse_status(parsed)
            if status is not None:
                return status[1]
        return {}

    async def select(self, folder: str, *, readonly: bool = False,
                     qresync: tuple[int, int] | None = None) -> SelectResult:
        """SELECT (or EXAMINE) a folder; with ``qresync=(uidvalidity, modseq)`` and QRESYNC enabled
        the server also reports what vanished and changed since."""
        args = [self._mailbox(folder)]
        if qresync is not None and "QRESYNC" in self.enabled:
            args.append(f"(QRESYNC ({int(qresync[0])} {int(qresync[1])}))")
        elif "CONDSTORE" in self.capabilities and "CONDSTORE" not in self.enabled and "QRESYNC" not in self.enabled:
            args.append("(CONDSTORE)")
        async with self._lock:
            command = self._command("EXAMINE" if readonly else "SELECT", *args,
                                    wants=(b"OK", b"EXISTS", b"VANISHED", b"FETCH", b"FLAGS", b"RECENT"))
            try:
                await self._execute(command)
            except ImapConnectionError:
                raise
            except ImapError:
                self._protocol.state = adapter.AUTH
                self._protocol.selected = ""
                raise
            self._protocol.state = adapter.SELECTED
            self._protocol.selected = folder
        return _select_result(command.untagged)

    async def _search_uids(self, criteria: str) -> list[int]:
        """UID SEARCH with ASCII criteria (ESEARCH when offered): matching uids, ascending."""
        return await self.search(criteria, charset=None)

    async def all_uids(self) -> list[int]:
        """The UIDs of every message of the selected folder, ascending."""
        return await self._search_uids("ALL")

    async def last_uid(self) -> int:
        """The UID of the selected folder's newest message (0 when it is empty)."""
        uids = await self._search_uids("*")
        return uids[-1] if uids else 0

    async def uids_of_sequence(self, first: int) -> list[int]:
        """UIDs of the messages from sequence number ``first`` to the last one, ascending.

        Sequence numbers follow UID order (RFC 3501), so with ``first = EXISTS - n + 1`` these are
        the newest ``n`` messages, found without listing every UID of the folder. ``first`` past the
        last message gives the last one (``n:*`` is ``*:n``).
        """
        return await self._search_uids(f"{max(1, int(first))}:*")

    async def uids_with_message_id(self, message_id: str) -> list[int]:
        """The UIDs of the selected folder's messages whose Message-ID header holds
        ``message_id`` (``UID SEARCH HEADER Message-ID``)."""
        return await self.search(f"HEADER Message-ID {imap_string(message_id)}")

    async def search_query(self, query: Query) -> list[int]:
        """The UIDs of the selected folder's messages matching a search query, ascending
        (``folder:`` terms are the caller's: it selects those folders)."""
        return await self.search(to_imap_search(query))

    async def search(self, criteria: str, *, charset: str | None = "UTF-8") -> list[int]:
        """UID SEARCH in the selected folder: matching uids, ascending.

        ``criteria`` is IMAP search syntax (``OR SUBJECT "Größe" BODY 日本語``). Strings that are
        not plain ASCII go out as literals (non-synchronizing with LITERAL+) with ``CHARSET``, never
        as 8-bit quoted strings. ESEARCH is used when offered.
        """
        if charset is not None and not _CHARSET.match(charset):
            raise ValueError(f"not a charset name: {charset!r}")
        parts: list[Part] = ["UID SEARCH "]
        if "ESEARCH" in self.capabilities:
            parts.append("RETURN (ALL) ")
        if charset is not None and has_8bit(criteria):
            parts.append(f"CHARSET {charset} ")
        parts.extend(criteria_parts(criteria, charset or "utf-8"))
        answers, _text = await self._send("SEARCH", parts, wants=(b"ESEARCH", b"SEARCH"))
        uids: list[int] = []
        for parsed in answers:
            kind = as_text(parsed[1]).upper() if len(parsed) > 1 else ""
            if kind == "SEARCH":
                uids.extend(as_int(w) for w in parsed[2:] if as_int(w, -1) >= 0)
                continue
            items = parsed[2:]
            if items and isinstance(items[0], list):
                items = items[1:]  # (TAG "...")
            for i, word in enumerate(items[:-1]):
                if isinstance(word, bytes) and word.upper() == b"ALL":
                    try:
                        uids.extend(parse_uid_set(items[i + 1]))
                    except UidSetTooLarge as exc:
                        raise ImapError(f"SEARCH failed: {exc}") from None
        return sorted(set(uids))

    async def status_many(self, folders: Sequence[str]) -> dict[str, dict[str, int]]:
        """STATUS of many folders in one round trip (LIST-STATUS when offered, else pipelined
        STATUS commands): folder -> MESSAGES, UNSEEN, UIDNEXT, UIDVALIDITY (HIGHESTMODSEQ).
        Folders the server does not know are left out."""
        wires = {self.spelling.wire(f): f for f in folders}
        if not wires:
            return {}
        items = "MESSAGES UNSEEN UIDNEXT UIDVALIDITY"
        if "CONDSTORE" in self.capabilities or "QRESYNC" in self.capabilities:
            items += " HIGHESTMODSEQ"
        caps = self.capabilities
        if {"LIST-STATUS", "LIST-EXTENDED"} <= caps and not any(_LIST_WILDCARDS.search(w) for w in wires):
            patterns = " ".join(quote(w) for w in wires)
            answers = await self._run("LIST", '""', f"({patterns})", f"RETURN (STATUS ({items}))",
                                      wants=(b"LIST", b"STATUS"))
        else:
            async with self._lock:
                protocol = self._protocol
                lines = [f"STATUS {quote(w)} ({items})".encode() for w in wires]
                command = Pipeline("STATUS", [protocol.new_tag() for _ in lines], lines, wants=(b"STATUS",),
                                   loop=protocol.loop, timeout=self.settings.timeout)
                await self._execute(command)
            answers = [parse_segments(s) for s in command.untagged]
        result: dict[str, dict[str, int]] = {}
        for parsed in answers:
            status = parse_status(parsed) if len(parsed) > 1 and as_text(parsed[1]).upper() == "STATUS" else None
            if status is not None and status[0] in wires:
                result[wires[status[0]]] = status[1]
        return result

    # --- messages --------------------------------------------------------------------------------

    def _modifiers(self, changedsince: int | None) -> list[str]:
        if changedsince is None:
            return []
        vanished = " VANISHED" if "QRESYNC" in self.enabled else ""
        return [f"(CHANGEDSINCE {int(changedsince)}{vanished})"]

    def _stream(self, uid_set: str, items: str, changedsince: int | None, convert: Any,
                batch_size: int, required: bytes, scan: Any = None,
                scan_bytes: Any = None) -> FetchStream[Any]:
        if not _UID_SET.match(uid_set):
            raise ValueError(f"not a uid set: {uid_set!r}")
        if self._condstore() and "MODSEQ" not in items:
            items += " MODSEQ"
        args = [uid_set, f"({items})", *self._modifiers(changedsince)]

        async def start() -> tuple[StreamingFetch, asyncio.Future[Any]]:
            protocol = self._protocol
            command = StreamingFetch(protocol.new_tag(), *args, protocol=protocol,
                                     timeout=self.settings.timeout, convert=convert, batch_size=batch_size,
                                     required=required, scan=scan, scan_bytes=scan_bytes)
            return command, asyncio.ensure_future(self._execute(command))

        return FetchStream(start, self._lock)

    def _condstore(self) -> bool:
        return bool({"CONDSTORE", "QRESYNC"} & self.enabled)

    def fetch_summaries(self, uids: Uids, *, batch_size: int = BATCH_SIZE) -> AsyncIterator[list[MessageSummary]]:
        """Stream MessageSummary batches of ``uids`` while the answer arrives. A message whose
        addresses the server could not read (its ENVELOPE holds placeholders) comes last, with
        them read from its header fields here."""
        stream = self._stream(sequence_set(uids), SUMMARY_ITEMS, None, summary_from_items, batch_size,
                              b"ENVELOPE", summary_from_segments, scan_summaries)
        return self._addresses_read(stream, batch_size)

    async def _addresses_read(self, stream: FetchStream[MessageSummary],
                              batch_size: int) -> AsyncIterator[list[MessageSummary]]:
        unread: dict[int, MessageSummary] = {}
        async with aclosing(aiter(stream)) as batches:  # a caller that stops ends the FETCH now
            async for batch in batches:
                kept: list[MessageSummary] = []
                for summary in batch:
                    if addresses_unread(summary):
                        unread[summary.uid] = summary
                    else:
                        kept.append(summary)
                if kept:
                    yield kept
        if not unread:
            return
        log.info("imap %s: the server could not read the addresses of %d messages; read from their fields",
                 self.account, len(unread))
        fields = self._stream(format_uid_set(unread), f"UID {ADDRESS_FIELDS}", None, address_fields_from_items,
                              batch_size, ADDRESS_ITEM)
        try:
            async with aclosing(aiter(fields)) as answers:
                async for answer in answers:
                    for uid, found in answer:
                        if uid in unread:
                            unread[uid] = with_addresses(unread[uid], found)
        except ImapConnectionError:
            raise
        except ImapError as exc:  # refused: the summaries as the server gave them, not none
            log.info("imap %s: the addresses could not be fetched: %s", self.account, exc)
        yield list(unread.values())

    def fetch_flags(self, uids: Uids | None = None, *, changedsince: int | None = None,
                    batch_size: int = 5000) -> FetchStream[tuple[int, frozenset[str], int]]:
        """Stream (uid, flags, modseq) batches of ``uids`` (None: every message); after iteration
        ``.vanished`` holds VANISHED uids (with ``changedsince`` and QRESYNC enabled)."""
        return self._stream(sequence_set(uids), "UID FLAGS", changedsince, _flags_from_items, batch_size, b"FLAGS")

    def fetch_fingerprints(self, uids: Uids, *, batch_size: int = 500) -> FetchStream[tuple[int, str]]:
        """Stream (uid, fingerprint) batches of ``uids``: INTERNALDATE, RFC822.SIZE and a hash of
        the header, which COPY and MOVE keep, so a copy is known without a Message-ID."""
        return self._stream(sequence_set(uids), "UID INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER]", None,
                            _fingerprint_from_items, batch_size, b"INTERNALDATE")

    async def fetch_body(self, uid: int) -> bytes:
        """The raw RFC 5322 bytes of one message (does not set \\Seen)."""
        async with self._lock:
            command = _BodyFetch(self._protocol, int(uid), self.settings.timeout)
            await self._execute(command)
        if command.body is None:
            raise ImapError(f"message {uid} not found")
        return command.body

    async def store_flags(self, uids: Sequence[int], add: Iterable[str] = (), remove: Iterable[str] = ()) -> None:
        """Add and remove flags on messages (silently: changes are not echoed back)."""
        uid_set = format_uid_set(int(u) for u in uids)
        if not uid_set:
            return
        for sign, flags in (("+", list(add)), ("-", list(remove))):
            if not flags:
                continue
            for flag in flags:
                if not _FLAG.match(flag):
                    raise ValueError(f"not an IMAP flag: {flag!r}")
            await self._run("STORE", uid_set, f"{sign}FLAGS.SILENT", f"({' '.join(flags)})", prefix="UID")


    # --- triage ----------------------------------------------------------------------------------

    async def copy(self, uids: Sequence[int], target: str) -> CopyResult:
        """UID COPY into ``target``; the uid mapping comes from COPYUID (UIDPLUS), else is empty."""
        uid_set = format_uid_set(int(u) for u in uids)
        if not uid_set:
            return CopyResult()
        _answers, lines = await self._send_lines("COPY", [f"UID COPY {uid_set} {self._mailbox(target)}"],
                                                 wants=(b"OK",))
        return copy_result(lines)

    async def move(self, uids: Sequence[int], target: str) -> CopyResult:
        """Move messages of the selected folder into ``target``.

        UID MOVE where offered; else UID COPY, \\Deleted and UID EXPUNGE of exactly those uids
        (UIDPLUS); else UID COPY, \\Deleted and a plain EXPUNGE, only while no other message of
        the folder is marked \\Deleted (see :meth:`_expunge_set`).
        """
        uid_set = format_uid_set(int(u) for u in uids)
        if not uid_set:
            return CopyResult()
        if "MOVE" in self.capabilities:
            _answers, lines = await self._send_lines(
                "MOVE", [f"UID MOVE {uid_set} {self._mailbox(target)}"],
                wants=(b"OK", b"EXPUNGE", b"VANISHED"))
            return copy_result(lines)
        await self._refuse_if_others_deleted(uids, "move messages")  # before anything changes
        result = await self.copy(uids, target)
        await self._expunge_set(uids, uid_set, "move messages")
        return result

    async def expunge_uids(self, uids: Sequence[int]) -> None:
        """Remove exactly these messages of the selected folder for good: \\Deleted, then
        UID EXPUNGE (UIDPLUS), else a plain EXPUNGE while no other message is marked \\Deleted
        (otherwise :class:`ImapError` and nothing is changed)."""
        uid_set = format_uid_set(int(u) for u in uids)
        if not uid_set:
            return
        await self._refuse_if_others_deleted(uids, "expunge single messages")
        await self._expunge_set(uids, uid_set, "expunge single messages")

    async def _refuse_if_others_deleted(self, uids: Sequence[int], what: str) -> None:
        """Without UIDPLUS only a plain EXPUNGE is left, which removes every message marked
        \\Deleted: refuse while other messages of the folder carry that flag (set by another
        program, which may still mean to take it back)."""
        if "UIDPLUS" in self.capabilities:
            return
        await self.noop()  # a server may answer SEARCH from its view of the folder: update it
        others = set(await self._search_uids("DELETED")).difference(int(u) for u in uids)
        if others:
            raise ImapError(f"cannot {what}: the server offers no UIDPLUS, and {len(others)} other "
                            "message(s) in this folder are marked deleted, which a plain EXPUNGE "
                            "would remove too")

    async def _expunge_set(self, uids: Sequence[int], uid_set: str, what: str) -> None:
        await self._send_lines("STORE", [f"UID STORE {uid_set} +FLAGS.SILENT (\\Deleted)"], wants=(b"FETCH",))
        if "UIDPLUS" in self.capabilities:
            await self._send_lines("EXPUNGE", [f"UID EXPUNGE {uid_set}"], wants=(b"EXPUNGE", b"VANISHED"))
            return
        try:
            # Marked meanwhile? Then ours are unmarked again (after a COPY, the copy stays).
            await self._refuse_if_others_deleted(uids, what)
        except ImapError:
            await self._send_lines("STORE", [f"UID STORE {uid_set} -FLAGS.SILENT (\\Deleted)"],
                                   wants=(b"FETCH",))
            raise
        await self._send_lines("EXPUNGE", ["EXPUNGE"], wants=(b"EXPUNGE",))

    async def append(self, folder: str, raw: bytes, flags: Iterable[str] = (),
                     date: datetime | None = None) -> int | None:
        """APPEND a message to ``folder``; the new uid from APPENDUID (UIDPLUS), else None."""
        flags = list(flags)
        for flag in flags:
            if not _FLAG.match(flag) or flag.lower() == "\\recent":
                raise ValueError(f"not an IMAP flag: {flag!r}")
        parts: list[Part] = [f"APPEND {self._mailbox(folder)} "]
        if flags:
            parts.append(f"({' '.join(flags)}) ")
        if date is not None:
            parts.append(imap_datetime(date) + " ")
        parts.append(bytes(raw))
        _answers, lines = await self._send_lines("APPEND", parts)
        return append_uid(lines[-1])

    # --- live sync -------------------------------------------------------------------------------

    async def idle(self, folder: str, *, max_seconds: float = idle.MAX_IDLE_SECONDS,
                   poll_seconds: float = idle.POLL_SECONDS,
                   liveness_seconds: float = idle.LIVENESS_SECONDS) -> AsyncIterator[ServerPush]:
        """Watch ``folder`` (EXAMINEd) on this connection and yield what the server pushes:
        EXISTS, EXPUNGE, FETCH (flags), VANISHED, and STATUS of other folders while NOTIFY is set.

        IDLE is re-issued every ``max_seconds``; without IDLE a NOOP runs every ``poll_seconds``.
        After ``liveness_seconds`` of silence the link is checked with DONE + NOOP. A dead link
        raises :class:`ImapConnectionError` (see :mod:`mailbag.protocols.imap.idle`). Use a dedicated
        connection: no other command can run while this iterates.
        """
        if self._protocol.selected != folder or self._protocol.state != adapter.SELECTED:
            await self.select(folder, readonly=True)
        link = idle.Link(lock=self._lock, protocol=lambda: self._protocol, execute=self._execute,
                         noop=self.noop, timeout=self.settings.timeout, can_idle="IDLE" in self.capabilities)
        async for push in idle.watch(link, max_seconds=max_seconds, liveness_seconds=liveness_seconds,
                                     poll_seconds=poll_seconds):
            yield push

    @property
    def idling(self) -> bool:
        """True while an IDLE is running and the server has accepted it."""
        command = self._link.running_command() if self._link is not None else None
        return isinstance(command, idle.IdleCommand) and command.accepted.is_set()

    async def notify(self, *, selected_folder: str | None, watch_all: bool = True) -> bool:
        """NOTIFY SET (RFC 5465): new, expunged and changed messages of ``selected_folder``
        (selected here when it is not yet) as EXISTS / EXPUNGE / FETCH pushes, and with
        ``watch_all`` a STATUS push for every other personal folder that changes and a LIST push
        for a folder made, deleted, renamed, subscribed or unsubscribed (:attr:`folder_events`;
        a server that refuses those events, with NO [BADEVENT] as RFC 5465 says or with a BAD,
        watches messages only). False when the server offers no NOTIFY or refuses even that (then
        poll other folders with :meth:`status_many`)."""
        self.folder_events = False
        if "NOTIFY" not in self.capabilities:
            return False
        if selected_folder is not None and (self._protocol.selected != selected_folder
                                            or self._protocol.state != adapter.SELECTED):
            await self.select(selected_folder, readonly=True)
        if not watch_all:
            await self._notify_set(selected_folder, None)
            return True
        try:
            await self._notify_set(selected_folder, _FOLDER_EVENTS)
            self.folder_events = True
            return True
        except ImapConnectionError:
            raise
        except ImapError as exc:
            log.info("account %s: NOTIFY without folder events: %s", self.account, exc)
        try:
            await self._notify_set(selected_folder, ())
        except ImapConnectionError:
            raise
        except ImapError as exc:
            log.info("account %s: no NOTIFY: %s", self.account, exc)
            return False
        return True

    async def _notify_set(self, selected_folder: str | None, personal: Sequence[str] | None) -> None:
        """NOTIFY SET with message events for ``selected_folder``, and for every personal folder
        with ``personal`` (None: not watched) as further events; NOTIFY NONE for neither."""
        events = "MessageNew MessageExpunge FlagChange"
        specs = []
        if selected_folder is not None:
            specs.append(f"(SELECTED ({events}))")
        if personal is not None:
            specs.append(f"(PERSONAL ({' '.join([events, *personal])}))")
        await self._send_lines("NOTIFY", [f"NOTIFY SET {' '.join(specs)}" if specs else "NOTIFY NONE"])

    # --- commands with literals ------------------------------------------------------------------

    async def _send(self, name: str, parts: Sequence[Part],
                    wants: tuple[bytes, ...] = ()) -> tuple[list[list[Value]], bytes]:
        """Run the command made of ``parts`` (text, and bytes sent as literals); returns the
        parsed untagged responses it claimed and the text of its tagged answer."""
        answers, lines = await self._send_lines(name, parts, wants=wants)
        return answers, lines[-1]

    async def _send_lines(self, name: str, parts: Sequence[Part],
                          wants: tuple[bytes, ...] = ()) -> tuple[list[list[Value]], list[bytes]]:
        """Like :meth:`_send`; the lines are the claimed untagged lines, then the tagged text."""
        non_synchronizing = literal_mode(self.capabilities, parts)
        payload, tail = compose(parts, non_synchronizing=non_synchronizing)
        async with self._lock:
            protocol = self._protocol
            command = ImapCommand(name, protocol.new_tag(), wants=wants, loop=protocol.loop,
                                  timeout=self.settings.timeout, payload=payload, tail=tail)
            response = await self._execute(command)
        tagged = response.lines[-1] if response.lines else b""
        if not isinstance(tagged, (bytes, bytearray)):
            tagged = str(tagged).encode("utf-8", "replace")
        lines = [segments[0] for segments in command.untagged] + [bytes(tagged)]
        return [parse_segments(s) for s in command.untagged], lines


class _BodyFetch(ImapCommand):
    """UID FETCH uid (BODY.PEEK[]): keeps the body of that uid only."""

    def __init__(self, protocol: StreamingProtocol, uid: int, timeout: float) -> None:
        super().__init__("FETCH", protocol.new_tag(), str(uid), "(UID BODY.PEEK[])", prefix="UID",
                         loop=protocol.loop, timeout=timeout)
        self.uid = uid
        self.body: bytes | None = None

    def take(self, kind: bytes, segments: list[bytes]) -> bool:
        if kind != b"FETCH":
            return False
        parsed = parse_segments(segments)
        items = pairs(parsed[3]) if len(parsed) > 3 else {}
        if as_int(items.get(b"UID"), -1) != self.uid:
            return False
        body = items.get(b"BODY[]")
        if isinstance(body, bytes):
            self.body = body
        return True


def _fingerprint_from_items(items: dict[bytes, Value]) -> tuple[int, str] | None:
    uid = as_int(items.get(b"UID"), -1)
    header = items.get(b"BODY[HEADER]")
    if uid < 0 or not isinstance(header, bytes):
        return None
    internaldate = items.get(b"INTERNALDATE")
    when = as_text(internaldate) if isinstance(internaldate, bytes) else ""
    digest = hashlib.sha256(header).hexdigest()[:32]
    return uid, f"{when}|{as_int(items.get(b'RFC822.SIZE'), 0)}|{digest}"


def _flags_from_items(items: dict[bytes, Value]) -> tuple[int, frozenset[str], int] | None:
    uid = as_int(items.get(b"UID"), -1)
    if uid < 0:
        return None
    return uid, flag_set(items.get(b"FLAGS")), modseq_of(items.get(b"MODSEQ"))


def _select_result(untagged: list[list[bytes]]) -> SelectResult:
    codes: dict[bytes, int] = {}
    exists = 0
    vanished: list[int] = []
    changed: list[tuple[int, frozenset[str], int]] = []
    permanent: frozenset[str] | None = None
    for segments in untagged:
        line = segments[0]
        if (match := _CODE.match(line)) is not None:
            codes[match.group(1).upper()] = int(match.group(2))
        elif (match := _PERMANENTFLAGS.match(line)) is not None:
            permanent = frozenset(match.group(1).decode("ascii", "replace").split())
        elif (match := _EXISTS.match(line)) is not None:
            exists = int(match.group(1))
        elif line[2:10].upper() == b"VANISHED":
            vanished.extend(parse_uid_set(line.split(b" ")[-1]))
        elif b" FETCH " in line[:24].upper():
            parsed = parse_segments(segments)
            entry = _flags_from_items(pairs(parsed[3]) if len(parsed) > 3 else {})
            if entry is not None:
                changed.append(entry)
    return SelectResult(uidvalidity=codes.get(b"UIDVALIDITY", 0), uidnext=codes.get(b"UIDNEXT", 0),
                        exists=exists, highestmodseq=codes.get(b"HIGHESTMODSEQ", 0),
                        vanished=tuple(sorted(set(vanished))), changed=tuple(changed),
                        permanentflags=permanent)
