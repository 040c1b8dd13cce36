"""A scripted SMTP server for what a real one will not do: drop the link after the message's final
dot, never answer it, never greet, leave STARTTLS out of its EHLO, or refuse it.

It speaks just enough ESMTP for a client and records every command line it reads (see
:mod:`tests.servers.scripted`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Literal

from tests.servers.dovecot import DovecotServer
from tests.servers.scripted import ScriptedServer, SeenCommands

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
class Seen(SeenCommands):
    """What the server read: command lines (the message's lines left out) and the messages."""

    messages: list[bytes] = field(default_factory=list)


class ScriptedSmtp(ScriptedServer):
    """The scripted SMTP server (see :class:`ScriptedServer`)."""

    def __init__(self, dovecot: DovecotServer, script: Script, *, tls: bool = False) -> None:
        super().__init__(dovecot, tls=tls)
        self.script = script
        self.seen = Seen()

    @property
    def held(self) -> int:
        """How many connections are being held without an answer (never greeted, or hanging
        after the final dot)."""
        return len(self._hung)

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
                await self.start_tls(writer)
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
