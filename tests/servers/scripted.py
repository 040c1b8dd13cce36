"""What the scripted servers (SMTP, POP3, the hostile one) share: a listener on a free loopback
port served on a thread of its own (so a ``mailbag`` subprocess can use it too), optionally with
implicit TLS and a certificate (the Dovecot fixture's, or any other), and a record of the command
lines read."""

from __future__ import annotations

import asyncio
import ssl
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, Self


class Certificate(Protocol):
    """A server certificate, its key, and the CA file a client trusts it with (the Dovecot
    fixture is one)."""

    @property
    def cert_file(self) -> Path: ...

    @property
    def key_file(self) -> Path: ...

    @property
    def ca_file(self) -> Path: ...


@dataclass
class SeenCommands:
    """The command lines a scripted server read."""

    commands: list[str] = field(default_factory=list)

    def count(self, verb: str) -> int:
        return sum(1 for c in self.commands if c.upper().startswith(verb))


class ScriptedServer(ABC):
    """One listener; subclasses play a session in :meth:`_session`."""

    host = "127.0.0.1"

    def __init__(self, certificate: Certificate, *, tls: bool = False) -> None:
        self.ca_file: Path = certificate.ca_file
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(str(certificate.cert_file), str(certificate.key_file))
        self._tls = tls
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._hung: list[asyncio.StreamWriter] = []  # links held open without an answer
        self._sessions: dict[asyncio.Task[None], asyncio.StreamWriter] = {}  # those under way
        self.port = 0

    def start(self) -> Self:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self.port = future.result(10)
        return self

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for writer in self._hung:
                writer.close()
            for writer in self._sessions.values():  # a session still waiting for its client
                writer.transport.abort()
            await asyncio.gather(*self._sessions, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(
            self._serve, self.host, 0, ssl=self._context if self._tls else None
        )
        return int(self._server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._sessions[task] = writer
        try:
            await self._session(reader, writer)
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            pass
        finally:
            self._sessions.pop(task, None)  # type: ignore[arg-type]
            if writer not in self._hung:
                writer.close()

    async def start_tls(self, writer: asyncio.StreamWriter) -> None:
        """Take a session's link to TLS (after the client's STARTTLS or STLS); a link that ends
        during the handshake (the client hangs up, or :meth:`stop` aborts it) is a
        ConnectionResetError. Python 3.11's ``StreamWriter.start_tls`` then fails with an
        AttributeError and leaves the writer without a transport, on which its ``__del__``
        would fail later, in whatever test is running: the writer gets its plain one back."""
        plain = writer.transport
        try:
            await writer.start_tls(self._context)
        except AttributeError:
            writer._transport = plain  # type: ignore[attr-defined]
            raise ConnectionResetError("the link ended during the TLS handshake") from None

    @abstractmethod
    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Play one client's session."""
