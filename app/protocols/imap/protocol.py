"""aioimaplib's client protocol with linear, iterative response handling.

aioimaplib keeps the connection, tags, command bookkeeping and states. What changes is how bytes
become responses: a :class:`ResponseFramer` cuts them out of one buffer in a loop (literals taken
by size), and each complete untagged response goes to the running :class:`ImapCommand`, which may
parse it and hand it on at once (a streaming FETCH) instead of keeping every line. Untagged
EXISTS / EXPUNGE / FETCH / VANISHED that no command claims are kept as :class:`ServerPush` items.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

from aioimaplib import aioimaplib as lib

from app.domain.sanitize import clean_line
from app.protocols.imap.errors import ImapConnectionError
from app.protocols.imap.framing import FramingError, ResponseFramer, Segments
from app.protocols.imap.parser import as_int, pairs, parse_segments, parse_uid_set
from app.protocols.imap.summary import flag_set, modseq_of

log = logging.getLogger(__name__)

#: Server pushes kept for a watcher; the oldest are dropped beyond this.
MAX_PUSHES = 10_000


def untagged_kind(line: bytes) -> bytes:
    """``* 3 FETCH (...)`` -> ``FETCH``; ``* LIST (...)`` -> ``LIST`` (upper case)."""
    parts = line.split(b" ", 3)
    if len(parts) < 2:
        return b""
    if parts[1].isdigit() and len(parts) > 2:
        return parts[2].upper()
    return parts[1].upper()


@dataclass(frozen=True, slots=True)
class ServerPush:
    """An untagged response the server sent on its own (kind EXISTS, EXPUNGE, FETCH, VANISHED)."""

    kind: str
    number: int = 0  # the count for EXISTS, the sequence number for EXPUNGE / FETCH
    uids: tuple[int, ...] = ()  # the uid of a FETCH, the uids of a VANISHED
    flags: frozenset[str] | None = None
    modseq: int = 0


def push_from(segments: Segments) -> ServerPush | None:
    """The :class:`ServerPush` for an unclaimed untagged response, or None when it is not one."""
    line = segments[0]
    kind = untagged_kind(line)
    words = line.split(b" ")
    if kind in (b"EXISTS", b"EXPUNGE", b"RECENT"):
        return ServerPush(kind.decode(), number=as_int(words[1]))
    if kind == b"VANISHED":
        earlier = len(words) > 2 and words[2].upper() == b"(EARLIER)"
        if earlier:
            return None  # only sent in answer to our own commands
        return ServerPush("VANISHED", uids=tuple(parse_uid_set(words[-1])))
    if kind == b"FETCH":
        parsed = parse_segments(segments)
        items = pairs(parsed[3]) if len(parsed) > 3 else {}
        uid = as_int(items.get(b"UID"), 0)
        flags = flag_set(items[b"FLAGS"]) if b"FLAGS" in items else None
        return ServerPush("FETCH", number=as_int(words[1]), uids=(uid,) if uid else (),
                          flags=flags, modseq=modseq_of(items.get(b"MODSEQ")))
    return None


class ImapCommand(lib.Command):
    """A command that keeps the untagged responses of the kinds it ``wants`` (as segments).

    Subclasses override :meth:`take` to consume responses as they arrive.
    """

    def __init__(self, name: str, tag: str, *args: str, wants: tuple[bytes, ...] = (),
                 prefix: str | None = None, loop: asyncio.AbstractEventLoop,
                 timeout: float, continuation: bytes | None = None) -> None:
        super().__init__(name, tag, *args, prefix=prefix, untagged_resp_name=name, loop=loop,
                         timeout=timeout)
        self.wants = wants
        self.continuation = continuation
        self.untagged: list[Segments] = []

    def take(self, kind: bytes, segments: Segments) -> bool:
        """Claim an untagged response; False leaves it to the connection's push queue."""
        if kind in self.wants:
            self.untagged.append(segments)
            return True
        return False

    def close(self, line: bytes, result: str) -> None:
        self._resp_result = result
        self._resp_lines = [line]
        self._timer.cancel()
        self._event.set()
        self.finished()

    def finished(self) -> None:
        """Called once when the command ends, however it ends."""

    def fail(self, error: Exception) -> None:
        """End the command with ``error`` (link lost, protocol error)."""
        if self._event.is_set():
            return
        self._exception = error
        self._resp_result = "KO"
        self._timer.cancel()
        self._event.set()
        self.finished()


class StreamingProtocol(lib.IMAP4ClientProtocol):
    """IMAP4ClientProtocol whose response handling is one linear loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop,
                 conn_lost_cb: Optional[Callable[[Optional[Exception]], None]] = None) -> None:
        super().__init__(loop, conn_lost_cb)
        self._framer = ResponseFramer(self._dispatch)
        self.greeting: asyncio.Future[bytes] = loop.create_future()
        self.pushes: asyncio.Queue[ServerPush] = asyncio.Queue()
        self.error: str | None = None  # why the link is unusable, once it is
        self.bye = ""
        self.plaintext_closed = False  # set when STARTTLS succeeded: no more plaintext allowed

    # --- bytes in ------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        current = self.running_command()
        if current is not None:
            current._reset_timer()
        try:
            self._framer.feed(data)
        except Exception as exc:  # noqa: BLE001 - any failure here makes the link unusable
            self.abort(f"protocol error: {exc}")

    def _dispatch(self, segments: Segments) -> None:
        if self.plaintext_closed:
            raise FramingError("data received between STARTTLS and the TLS handshake")
        line = segments[0]
        if self.state == lib.CONNECTED:
            self._greeted(line)
        elif line.startswith(b"* "):
            self._untagged(segments)
        elif line.startswith(b"+"):
            self._continuation(line)
        elif lib.tagged_status_response_re.match(line):
            self._response_done(line)
        else:
            log.info("unexpected line from server ignored")

    def _greeted(self, line: bytes) -> None:
        if line.startswith(b"* OK"):
            self.state = lib.NONAUTH
        elif line.startswith(b"* PREAUTH"):
            self.state = lib.AUTH
        else:
            self.abort("server refused the connection: " + clean_line(line.decode("utf-8", "replace")))
            return
        if not self.greeting.done():
            self.greeting.set_result(line)

    def _untagged(self, segments: Segments) -> None:
        kind = untagged_kind(segments[0])
        if kind == b"BYE":
            self.bye = clean_line(segments[0][6:].decode("utf-8", "replace"))
        command = self.running_command()
        if isinstance(command, ImapCommand) and command.take(kind, segments):
            return
        push = push_from(segments)
        if push is not None:
            if self.pushes.qsize() >= MAX_PUSHES:
                self.pushes.get_nowait()
            self.pushes.put_nowait(push)

    def _continuation(self, line: bytes) -> None:
        command = self.pending_sync_command
        if isinstance(command, ImapCommand) and command.continuation is not None:
            self.transport.write(command.continuation + b"\r\n")
            command.continuation = None
        elif command is not None and command.name == "APPEND":
            super()._continuation(line)
        else:
            # Nothing to send: answer with an empty line so the server cancels (RFC 3501 6.2.2 '*').
            if command is not None and command.name == "AUTHENTICATE":
                self.transport.write(b"*\r\n")

    # --- state -----------------------------------------------------------------------------------

    def running_command(self) -> lib.Command | None:
        """The command in flight (commands are sent one at a time)."""
        if self.pending_sync_command is not None:
            return self.pending_sync_command
        for command in self.pending_async_commands.values():
            return command
        return None

    def abort(self, reason: str) -> None:
        """Give up on the link: fail every command in flight and drop the connection."""
        if self.error is None:
            self.error = reason
        self._fail_all(ImapConnectionError(self.error))
        if self.transport is not None:
            self.transport.abort()

    def _fail_all(self, error: Exception) -> None:
        commands = list(self.pending_async_commands.values())
        if self.pending_sync_command is not None:
            commands.append(self.pending_sync_command)
        self.pending_async_commands.clear()
        self.pending_sync_command = None
        for command in commands:
            if isinstance(command, ImapCommand):
                command.fail(error)
            else:
                command._exception = error
                command._timer.cancel()
                command._event.set()
        if not self.greeting.done():
            self.greeting.set_exception(error)
            self.greeting.exception()  # retrieved: nobody may be waiting any more

    def connection_lost(self, exc: Optional[Exception]) -> None:
        if self.error is None:
            detail = self.bye or (str(exc) if exc else "")
            self.error = "connection closed by the server" + (f": {detail}" if detail else "")
        self._fail_all(ImapConnectionError(self.error))
        self.state = lib.LOGOUT
        super().connection_lost(exc)

    def pause(self) -> None:
        """Stop reading from the socket (a consumer is behind)."""
        if self.transport is not None and self.error is None:
            self.transport.pause_reading()

    def resume(self) -> None:
        """Read from the socket again."""
        if self.transport is not None and self.error is None and self.transport.is_reading() is False:
            self.transport.resume_reading()

    def _response_done(self, line: bytes) -> None:
        command = self.running_command()
        super()._response_done(line)
        if command is not None and command.name == "STARTTLS" and command.response.result == "OK":
            self.plaintext_closed = True

    async def start_tls(self, context: ssl.SSLContext, hostname: str, timeout: float) -> None:
        """Upgrade the link after a successful STARTTLS; plaintext left over is an attack."""
        if self._framer.pending or self.error is not None:
            raise ImapConnectionError(self.error or "server sent data after STARTTLS")
        self.plaintext_closed = False  # start_tls stops plaintext reads before it yields
        transport = await self.loop.start_tls(self.transport, self, context, server_hostname=hostname,
                                              ssl_handshake_timeout=timeout)
        if transport is None:
            raise ImapConnectionError("TLS handshake failed")
        self.transport = transport
