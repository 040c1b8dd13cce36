"""A scripted SMTP server for what a real one will not do: drop the link after the message's final
dot, never answer it, never greet, leave STARTTLS out of its EHLO, or refuse it.

It runs on a thread of its own (so a test can also point a ``mailbag`` subprocess at it), speaks
just enough ESMTP for a client, and records every command line it reads. ``tls`` makes it an
implicit-TLS server with the Dovecot fixture's certificate.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tests.servers.dovecot import DovecotServer

#: What the server does after the message's final dot.
AfterDot = Literal["accept", "drop", "hang"]
#: What it does about STARTTLS.
StartTls = Literal["offer", "absent", "refuse"]


@dataclass
class Script:
    """How the server misbehaves; ``after_dot`` applies to the first ``misbehave`` messages."""

    after_dot: AfterDot = "accept"
    misbehave: int = 1
    starttls: StartTls = "offer"
    greet: bool = True


@dataclass
class Seen:
    """What the server read: command lines (the message's lines left out) and the messages."""

    commands: list[str] = field(default_factory=list)
    messages: list[bytes] = field(default_factory=list)

    def count(self, verb: str) -> int:
        return sum(1 for c in self.commands if c.upper().startswith(verb))


class ScriptedSmtp:
    """One listener on a free loopback port, served on a thread of its own."""

    host = "127.0.0.1"

    def __init__(self, dovecot: DovecotServer, script: Script, *, tls: bool = False) -> None:
        self.script = script
        self.seen = Seen()
        self.ca_file: Path = dovecot.ca_file
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(str(dovecot.cert_file), str(dovecot.key_file))
        self._tls = tls
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._hung: list[asyncio.StreamWriter] = []
        self.port = 0

    @property
    def held(self) -> int:
        """How many connections are being held without an answer (never greeted, or hanging
        after the final dot)."""
        return len(self._hung)

    def start(self) -> ScriptedSmtp:
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

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(
            self._serve, self.host, 0, ssl=self._context if self._tls else None
        )
        return int(self._server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._session(reader, writer)
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            pass
        finally:
            if writer not in self._hung:
                writer.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        script = self.script
        if not script.greet:
            self._hung.append(writer)
            await reader.read()  # until the client goes
            return
        tls = self._tls

        async def reply(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        await reply("220 scripted.test ESMTP")
        while True:
            raw = await reader.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.seen.commands.append(line)
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                offers = ["scripted.test", "8BITMIME", "AUTH PLAIN LOGIN"]
                if not tls and script.starttls != "absent":
                    offers.append("STARTTLS")
                for extension in offers[:-1]:
                    writer.write(f"250-{extension}\r\n".encode())
                await reply(f"250 {offers[-1]}")
            elif verb == "STARTTLS":
                if script.starttls == "refuse":
                    await reply("454 4.7.0 TLS not available now")
                    continue
                await reply("220 go ahead")
                await writer.start_tls(self._context)
                tls = True
            elif verb == "AUTH":
                await reply("235 2.7.0 authenticated")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                await reply("250 2.0.0 OK")
            elif verb == "DATA":
                await reply("354 go ahead")
                message = await reader.readuntil(b"\r\n.\r\n")
                self.seen.messages.append(message)
                if len(self.seen.messages) <= script.misbehave and script.after_dot != "accept":
                    if script.after_dot == "hang":
                        self._hung.append(writer)
                        await reader.read()
                    return  # "drop": the link goes without an answer
                await reply("250 2.0.0 queued as 1")
            elif verb == "QUIT":
                await reply("221 bye")
                return
            else:
                await reply("502 5.5.2 not implemented")
