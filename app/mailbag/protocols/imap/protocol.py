"""The IMAP client protocol: linear, iterative response handling on aioimaplib (via :mod:`.adapter`).

aioimaplib keeps the connection, tags, command bookkeeping and states. What changes is how bytes
become responses: a :class:`ResponseFramer` cuts them out of one buffer in a loop (literals taken
by size), and each complete untagged response goes to the running :class:`ImapCommand`, which may
parse it and hand it on at once (a streaming FETCH) instead of keeping every line. Untagged
EXISTS / EXPUNGE / FETCH / VANISHED / STATUS that no command claims are kept as :class:`ServerPush`
items. Commands go out one at a time (or as one :class:`Pipeline`); literals the server must accept
first are sent on its ``+`` continuation requests. Once the server said OK to COMPRESS DEFLATE
(RFC 4978), everything both ways is raw DEFLATE (RFC 1951), each write flushed whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mailbag.domain.sanitize import clean_line
from mailbag.protocols import utf7
from mailbag.protocols.imap import adapter
from mailbag.protocols.imap.codes import alert_of
from mailbag.protocols.imap.errors import ImapConnectionError, ImapSessionEnded
from mailbag.protocols.imap.folders import parse_list, parse_status
from mailbag.protocols.imap.framing import FastLane, FramingError, ResponseFramer, Segments
from mailbag.protocols.imap.parser import as_int, pairs, parse_segments, parse_uid_set
from mailbag.protocols.imap.summary import flag_set, modseq_of
from mailbag.protocols.traffic import MASK, log_line, masked

log = logging.getLogger(__name__)
#: Dovecot's BYE when the selected folder was deleted or renamed by another session.
_SESSION_STATE_LOST = "session state is inconsistent"

#: Server pushes kept for a watcher; the oldest are dropped beyond this.
MAX_PUSHES = 10_000
#: Inflated bytes framed at a time: a compressed read may inflate a thousandfold.
INFLATE_CHUNK = 1 << 20
#: RFC 4978's DEFLATE is raw: no zlib header or trailer.
_RAW_DEFLATE = -15


def untagged_kind(line: bytes) -> bytes:
    """``* 3 FETCH (...)`` -> ``FETCH``; ``* LIST (...)`` -> ``LIST`` (upper case). GNU Mailutils'
    imap4d says ``* 3 EXPUNGED`` for RFC 3501's ``* 3 EXPUNGE``: taken as that."""
    parts = line.split(b" ", 3)
    if len(parts) < 2:
        return b""
    if parts[1].isdigit() and len(parts) > 2:
        kind = parts[2].upper()
        return b"EXPUNGE" if kind == b"EXPUNGED" else kind
    return parts[1].upper()


@dataclass(frozen=True, slots=True)
class ServerPush:
    """An untagged response the server sent on its own.

    ``kind`` is EXISTS, EXPUNGE, RECENT, FETCH, VANISHED, STATUS or LIST. ``folder`` is the folder
    it is about ("" when unknown): the selected folder, or the folder named by a STATUS or a LIST
    (NOTIFY: a folder made, deleted, renamed, subscribed or unsubscribed elsewhere).
    """

    kind: str
    number: int = 0  # the count for EXISTS, the sequence number for EXPUNGE / FETCH
    uids: tuple[int, ...] = ()  # the uid of a FETCH, the uids of a VANISHED
    flags: frozenset[str] | None = None
    modseq: int = 0
    folder: str = ""
    counts: tuple[tuple[str, int], ...] = ()  # STATUS items, e.g. (("MESSAGES", 3), ("UNSEEN", 1))

    @property
    def status(self) -> dict[str, int]:
        """The STATUS items as a dict (empty for other kinds)."""
        return dict(self.counts)


def push_from(segments: Segments, folder: str = "") -> ServerPush | None:
    """The :class:`ServerPush` for an unclaimed untagged response, or None when it is not one.

    ``folder`` is the folder selected on the connection (where EXISTS etc. happen)."""
    line = segments[0]
    kind = untagged_kind(line)
    words = line.split(b" ")
    if kind in (b"EXISTS", b"EXPUNGE", b"RECENT"):
        return ServerPush(kind.decode(), number=as_int(words[1]), folder=folder)
    if kind == b"VANISHED":
        earlier = len(words) > 2 and words[2].upper() == b"(EARLIER)"
        if earlier:
            return None  # only sent in answer to our own commands
        return ServerPush("VANISHED", uids=tuple(parse_uid_set(words[-1])), folder=folder)
    if kind == b"FETCH":
        parsed = parse_segments(segments)
        items = pairs(parsed[3]) if len(parsed) > 3 else {}
        uid = as_int(items.get(b"UID"), 0)
        flags = flag_set(items[b"FLAGS"]) if b"FLAGS" in items else None
        return ServerPush("FETCH", number=as_int(words[1]), uids=(uid,) if uid else (),
                          flags=flags, modseq=modseq_of(items.get(b"MODSEQ")), folder=folder)
    if kind == b"STATUS":
        status = parse_status(parse_segments(segments))
        if status is None:
            return None
        name, counts = status
        # The server's name, as commands need it; shown only through Folder.display_name.
        return ServerPush("STATUS", folder=utf7.decode(name), counts=tuple(sorted(counts.items())))
    if kind == b"LIST":
        entry = parse_list(parse_segments(segments))
        return ServerPush("LIST", folder=utf7.decode(entry[2])) if entry is not None else None
    return None


class ImapCommand(adapter.CommandBase):
    """A command that keeps the untagged responses of the kinds it ``wants`` (as segments).

    Subclasses override :meth:`take` to consume responses as they arrive. ``payload`` replaces the
    text after the tag (bytes, may hold literals); ``tail`` holds what to send on each ``+``
    continuation request, in order (the rest of a command after a synchronizing literal).
    """

    def __init__(self, name: str, tag: str, *args: str, wants: tuple[bytes, ...] = (),
                 prefix: str | None = None, loop: asyncio.AbstractEventLoop,
                 timeout: float | None, continuation: bytes | None = None, payload: bytes | None = None,
                 tail: Sequence[bytes] = ()) -> None:
        super().__init__(name, tag, *args, prefix=prefix, loop=loop, timeout=timeout)
        self.wants = wants
        self.fast_lane: FastLane | None = None  # reads its answers straight from the bytes, if set
        self.payload = payload
        self.tail = list(tail) + ([continuation] if continuation is not None else [])
        self.untagged: list[Segments] = []

    @property
    def continuation(self) -> bytes | None:
        """What the next ``+`` from the server is answered with (None: nothing more to send)."""
        return self.tail[0] if self.tail else None

    def wire(self) -> bytes:
        """The bytes that start the command (up to its first synchronizing literal)."""
        if self.payload is not None:
            return f"{self.tag} ".encode("ascii") + self.payload + b"\r\n"
        return str(self).encode("utf-8") + b"\r\n"

    def next_chunk(self) -> bytes | None:
        """Take what answers a ``+`` continuation request, or None."""
        return self.tail.pop(0) if self.tail else None

    def continued(self, line: bytes) -> bool:
        """A ``+`` arrived with nothing left to send; True when this command expected it (IDLE)."""
        return False

    def take(self, kind: bytes, segments: Segments) -> bool:
        """Claim an untagged response; False leaves it to the connection's push queue."""
        if kind in self.wants:
            self.untagged.append(segments)
            return True
        return False

    def close(self, line: bytes, result: str) -> None:
        self.settle(line, result)
        self.finished()

    def finished(self) -> None:
        """Called once when the command ends, however it ends."""

    def fail(self, error: Exception) -> None:
        """End the command with ``error`` (link lost, protocol error)."""
        if self.ended:
            return
        self.settle(b"", "KO", error)
        self.finished()


def shown(command: ImapCommand) -> str:
    """The command as the debug log shows it: a login without its credentials."""
    if command.name == "LOGIN":
        return f"{command.tag} LOGIN {MASK}"
    if command.name == "AUTHENTICATE":
        mechanism = command.args[0] if command.args else ""
        return f"{command.tag} AUTHENTICATE {mechanism} {MASK}"
    return command.wire().split(b"\r\n", 1)[0].decode("utf-8", "replace")


class StreamingProtocol(adapter.ProtocolBase):
    """IMAP4ClientProtocol whose response handling is one linear loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop,
                 conn_lost_cb: Callable[[Exception | None], None] | None = None) -> None:
        super().__init__(loop, conn_lost_cb)
        self._framer = ResponseFramer(self._dispatch)
        self.greeting: asyncio.Future[bytes] = loop.create_future()
        self.pushes: asyncio.Queue[ServerPush] = asyncio.Queue()
        self.error: str | None = None  # why the link is unusable, once it is
        self.bye = ""
        self.plaintext_closed = False  # set when STARTTLS succeeded: no more plaintext allowed
        self.selected = ""  # the folder selected on this connection (pushes are about it)
        self.last_received = time.monotonic()  # when the server last sent anything
        self.on_alert: Callable[[str], None] | None = None  # gets each [ALERT] text, cleaned
        self.hide: tuple[str, ...] = ()  # the login's credentials, masked where the server quotes them
        self._inflater: zlib._Decompress | None = None  # after COMPRESS: what the server sends
        self._deflater: zlib._Compress | None = None  # ... and what is sent to it
        self.on_inflate_error: Callable[[], None] | None = None  # told when it cannot be inflated

    @property
    def compressed(self) -> bool:
        """Whether the link is compressed (COMPRESS DEFLATE, RFC 4978)."""
        return self._deflater is not None

    # --- bytes in ------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        self.last_received = time.monotonic()
        current = self.running_command()
        if current is not None:
            current.restart_timer()
        fast_lane = current.fast_lane if current is not None else None
        self._framer.fast_lane = fast_lane if self.state == adapter.SELECTED and not self.plaintext_closed else None
        try:
            if self._inflater is not None:
                self._inflate(data)
            elif rest := self._framer.feed(data):
                self._inflate(rest)  # what came after the OK to COMPRESS
        except zlib.error as exc:
            if self.on_inflate_error is not None:
                self.on_inflate_error()
            self.abort(f"protocol error: the server's compressed data cannot be read ({exc})")
        except Exception as exc:  # noqa: BLE001 - any failure here makes the link unusable
            self.abort(f"protocol error: {exc}")

    def _inflate(self, data: bytes) -> None:
        """Inflate ``data`` and frame it, :data:`INFLATE_CHUNK` bytes at a time."""
        inflater = self._inflater
        assert inflater is not None
        # A stream ended is a server closing the link (Dovecot ends it after its BYE): what
        # follows is no IMAP, and is left unread.
        while self.error is None and not inflater.eof:
            text = inflater.decompress(data, INFLATE_CHUNK)
            data = inflater.unconsumed_tail
            if text:
                self._framer.feed(text)
            if not data and len(text) < INFLATE_CHUNK:  # else more may wait inside the inflater
                break

    def _dispatch(self, segments: Segments) -> None:
        if self.plaintext_closed:
            raise FramingError("data received between STARTTLS and the TLS handshake")
        line = segments[0]
        if log.isEnabledFor(logging.DEBUG) and untagged_kind(line) != b"FETCH":  # not a sync's bulk
            log_line(log, "<", "imap", line, self.hide)
        if self.on_alert is not None and (alert := alert_of(line)) is not None:
            self.on_alert(clean_line(masked(alert, self.hide))[:300])
        if self.state == adapter.CONNECTED:
            self._greeted(line)
        elif line.startswith(b"* "):
            self._untagged(segments)
        elif line.startswith(b"+"):
            self._continue(line)
        elif adapter.is_tagged_status(line):
            self._tagged(line)
        else:
            log.info("unexpected line from server ignored")

    def _greeted(self, line: bytes) -> None:
        if line.startswith(b"* OK"):
            self.state = adapter.NONAUTH
        elif line.startswith(b"* PREAUTH"):
            self.state = adapter.AUTH
        else:
            text = clean_line(line.decode("utf-8", "replace"))[:200]
            refused = line.startswith(b"* BYE")
            self.abort(("server refused the connection: " if refused else "not an IMAP server's greeting: ") + text)
            return
        if not self.greeting.done():
            self.greeting.set_result(line)

    def _untagged(self, segments: Segments) -> None:
        kind = untagged_kind(segments[0])
        if kind == b"BYE":
            self.bye = clean_line(segments[0][6:].decode("utf-8", "replace"))
        command = self.running_command()
        if command is not None and command.take(kind, segments):
            return
        push = push_from(segments, self.selected)
        if push is not None:
            if self.pushes.qsize() >= MAX_PUSHES:
                self.pushes.get_nowait()
            self.pushes.put_nowait(push)

    def _continue(self, line: bytes) -> None:
        command = self.running_command()
        if command is None:
            log.info("continuation request with no command in flight ignored")
            return
        chunk = command.next_chunk()
        if chunk is not None:
            log_line(log, ">", "imap", f"({len(chunk)} bytes after the continuation)")
            self.write(chunk + b"\r\n")
            return
        if command.continued(line):
            return
        if command.name == "AUTHENTICATE":
            # Nothing to send: answer with "*" so the server cancels (RFC 3501 6.2.2).
            self.write(b"*\r\n")
            return
        # The server waits for something this command never sends (a "+" to STARTTLS, say):
        # waiting would only end at the timeout.
        raise FramingError(f"the server answered {command.name} with a continuation request")

    # --- state -----------------------------------------------------------------------------------

    def running_command(self) -> ImapCommand | None:
        """The command in flight (commands are sent one at a time)."""
        command = self.pending_sync_command
        return command if isinstance(command, ImapCommand) else None

    def abort(self, reason: str) -> None:
        """Give up on the link: fail every command in flight and drop the connection."""
        if self.error is None:
            self.error = reason
        self._fail_all(ImapConnectionError(self.error))
        if self.transport is not None:
            self.transport.abort()

    def _fail_all(self, error: Exception) -> None:
        command = self.running_command()
        self.pending_sync_command = None
        if command is not None:
            command.fail(error)
        if not self.greeting.done():
            self.greeting.set_exception(error)
            self.greeting.exception()  # retrieved: nobody may be waiting any more

    def link_error(self) -> ImapConnectionError:
        """The error for a command on this link once it has failed (:attr:`error`)."""
        if _SESSION_STATE_LOST in self.bye.lower():
            return ImapSessionEnded("the server ended the session: the folder open there was deleted or "
                                    f"renamed by another program ({self.bye})")
        return ImapConnectionError(self.error or "not connected")

    def connection_lost(self, exc: Exception | None) -> None:
        if self.error is None:
            detail = self.bye or (str(exc) if exc else "")
            self.error = "connection closed by the server" + (f": {detail}" if detail else "")
        self._fail_all(self.link_error())
        self.state = adapter.LOGOUT
        super().connection_lost(exc)

    def write(self, data: bytes) -> None:
        """Send ``data``; :class:`ImapConnectionError` when the link is gone."""
        if self.transport is None or self.error is not None:
            raise ImapConnectionError(self.error or "not connected")
        if self._deflater is not None:  # flushed whole: the server reads the command now
            data = self._deflater.compress(data) + self._deflater.flush(zlib.Z_SYNC_FLUSH)
        self.transport.write(data)

    def pause(self) -> None:
        """Stop reading from the socket (a consumer is behind)."""
        if self.transport is not None and self.error is None:
            self.transport.pause_reading()

    def resume(self) -> None:
        """Read from the socket again."""
        if self.transport is not None and self.error is None and self.transport.is_reading() is False:
            self.transport.resume_reading()

    async def execute(self, command: ImapCommand) -> adapter.Response:
        """Send ``command`` (its :meth:`ImapCommand.wire`) once no other is in flight and wait
        for its end. Every command is run alone; aioimaplib's table of legal states still applies
        to the commands it knows (else ``adapter.Abort``)."""
        if not adapter.legal_in(command.name, self.state):
            raise adapter.Abort(f"command {command.name} illegal in state {self.state}")
        while (running := self.running_command()) is not None:
            try:
                await running.wait()
            except adapter.CommandTimeout:
                if self.running_command() is running:  # its caller gave up on it before
                    self.abort(f"no answer from the server to {running.name}")
            except Exception:  # noqa: BLE001 - its caller sees the failure
                pass
            if self.running_command() is running:
                # It has ended but its caller, cancelled, never took it off the link: waiting
                # on it again would return at once, and this loop would never yield.
                self.pending_sync_command = None
        if self.error is not None:
            raise ImapConnectionError(self.error)
        self.pending_sync_command = command
        log_line(log, ">", "imap", shown(command))
        self.write(command.wire())
        try:
            await command.wait()
        except adapter.CommandTimeout:
            if self.pending_sync_command is command:
                self.pending_sync_command = None
            raise
        return command.response

    def _tagged(self, line: bytes) -> None:
        command = self.running_command()
        if isinstance(command, Pipeline):
            tag = line.partition(b" ")[0].decode("ascii", "replace")
            if not command.answered(tag, line):
                raise adapter.Abort("unexpected tagged response")
            if command.done:
                self.pending_sync_command = None
                command.close(line, "OK")
            return
        self.answer_running(line)
        if command is not None and command.name == "STARTTLS" and command.response.result == "OK":
            self.plaintext_closed = True
        if command is not None and command.name == "COMPRESS" and command.response.result == "OK":
            # Both ways compressed from the next byte on; the rest of this read is, already.
            self._inflater = zlib.decompressobj(_RAW_DEFLATE)
            self._deflater = zlib.compressobj(wbits=_RAW_DEFLATE)
            self._framer.cut_after_this_response()

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
        # Nothing the server said before TLS is trusted after it (RFC 3501 6.2.1).
        while not self.pushes.empty():
            self.pushes.get_nowait()


class Pipeline(ImapCommand):
    """Several commands written at once (e.g. STATUS of many folders): one round trip.

    Each line gets its own tag; the command ends when every tag was answered. ``results`` maps each
    line's index to the server's result word (OK / NO / BAD).
    """

    def __init__(self, name: str, tags: Sequence[str], lines: Sequence[bytes], *, wants: tuple[bytes, ...],
                 loop: asyncio.AbstractEventLoop, timeout: float | None) -> None:
        super().__init__(name, tags[0], wants=wants, loop=loop, timeout=timeout)
        self.tags = list(tags)
        self.lines = list(lines)
        self.results: dict[int, str] = {}

    def wire(self) -> bytes:
        return b"".join(t.encode("ascii") + b" " + line + b"\r\n" for t, line in zip(self.tags, self.lines))

    def answered(self, tag: str, line: bytes) -> bool:
        """Record the tagged answer ``line``; False when ``tag`` is not one of ours."""
        if tag not in self.tags:
            return False
        words = line.split(b" ", 2)
        self.results[self.tags.index(tag)] = words[1].decode("ascii", "replace").upper() if len(words) > 1 else ""
        return True

    @property
    def done(self) -> bool:
        return len(self.results) == len(self.tags)
