"""A scripted POP3 server for what Dovecot will not do: leave STLS out or refuse it, greet with an
APOP timestamp, send a line without end, a message longer than it said, a reply that is no POP3,
or drop the link in the middle of a RETR.

It records every command line it reads (see :mod:`tests.servers.scripted`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from dataclasses import dataclass, field
from typing import Literal

from tests.servers.dovecot import DovecotServer
from tests.servers.scripted import ScriptedServer, SeenCommands

#: What the server does about STLS.
Stls = Literal["offer", "absent", "refuse"]
#: How it answers RETR of the message numbered ``Script.bad_message``.
Retr = Literal["ok", "drop", "endless_line", "oversize", "garbage"]

APOP_STAMP = "<1896.697170952@scripted.test>"


@dataclass
class Script:
    """How the server behaves."""

    messages: list[bytes] = field(default_factory=list)
    password: str = "pw"
    stls: Stls = "offer"
    apop: bool = False
    apop_secrets: bool = True  # False: APOP is refused whatever the digest (GNU Mailutils without an APOP database)
    pipelining: bool = True
    uidl: bool = True  # UIDL offered and answered (RFC 1939 makes it optional)
    top: bool = True  # TOP offered and answered
    retr: Retr = "ok"
    bad_message: int = 1
    sizes: dict[int, int] = field(default_factory=dict)  # message number -> the size LIST claims
    uidls: dict[int, str] = field(default_factory=dict)  # message number -> its UIDL, if not uid-N
    capa: bool = True  # CAPA answered (RFC 1939 servers such as popa3d refuse it)
    bare_lf: bool = False  # every line ended by LF alone, against RFC 1939
    login_delay: int | None = None  # LOGIN-DELAY (RFC 2449) offered in CAPA, with these seconds
    #: EXPIRE (RFC 2449) offered in CAPA with this policy. With "0" a QUIT removes from
    #: ``messages`` each one the session read (RETR or TOP, as GNU Mailutils' pop3d does) or
    #: marked deleted.
    expire: str | None = None
    refused_logins: frozenset[int] = frozenset()  # these login attempts (1, 2, ...) get ``refusal``
    refusal: str = "-ERR [IN-USE] the mailbox is locked by another session"
    #: False: a QUIT ends the session without an answer, the link closed where its +OK was due.
    quit_answered: bool = True
    #: False: AUTH takes no initial response (as before RFC 5034): ``AUTH PLAIN <response>`` is
    #: answered ``+`` and the response read from the next line, as after ``AUTH PLAIN``.
    sasl_ir: bool = True
    #: True: the link is closed after a refused login (as Solid POP3 closes it, a second later).
    close_after_refusal: bool = False


@dataclass
class Seen(SeenCommands):
    """What the server read: every command line, and how many came in each read."""

    batches: list[int] = field(default_factory=list)


class ScriptedPop3(ScriptedServer):
    """The scripted POP3 server (see :class:`ScriptedServer`)."""

    def __init__(self, dovecot: DovecotServer, script: Script, *, tls: bool = False) -> None:
        super().__init__(dovecot, tls=tls)
        self.script = script
        self.seen = Seen()
        self.logins = 0  # accepted logins
        self.attempts = 0  # logins tried with the right credentials
        self.removed: list[bytes] = []  # messages a QUIT removed (see ``Script.expire``)

    def _logged_in(self, ok: bool) -> str:
        """The answer to a login whose credentials are ``ok``."""
        if not ok:
            return "-ERR [AUTH] wrong password"
        self.attempts += 1
        if self.attempts in self.script.refused_logins:
            return self.script.refusal
        self.logins += 1
        return "+OK logged in"

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        script = self.script
        tls = self._tls
        user = ""
        deleted: set[int] = set()
        read: set[int] = set()  # RETR or TOP
        pending: list[bytes] = []

        newline = b"\n" if script.bare_lf else b"\r\n"

        def say(line: str | bytes) -> None:
            writer.write((line.encode() if isinstance(line, str) else line) + newline)

        say("+OK scripted POP3 ready" + (f" {APOP_STAMP}" if script.apop else ""))
        while True:
            if not pending:
                await writer.drain()
                chunk = await reader.read(65536)
                if not chunk:
                    return
                lines = chunk.split(b"\r\n")
                pending = [line for line in lines if line]
                self.seen.batches.append(len(pending))
                continue
            line = pending.pop(0).decode("utf-8", "replace")
            self.seen.commands.append(line)
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb == "CAPA" and not script.capa:
                say("-ERR unknown command")
            elif verb == "CAPA":
                say("+OK")
                for capability in ("USER", "UIDL" if script.uidl else "", "TOP" if script.top else "", "SASL PLAIN"):
                    if capability:
                        say(capability)
                if script.pipelining:
                    say("PIPELINING")
                if script.login_delay is not None:
                    say(f"LOGIN-DELAY {script.login_delay}")
                if script.expire is not None:
                    say(f"EXPIRE {script.expire}")
                if not tls and script.stls != "absent":
                    say("STLS")
                say(".")
            elif verb == "STLS":
                if script.stls == "refuse":
                    say("-ERR TLS not available now")
                    continue
                say("+OK begin TLS")
                await writer.drain()
                await self.start_tls(writer)
                tls = True
            elif verb == "USER":
                user = arg
                say("+OK")
            elif verb == "PASS":
                say(self._logged_in(arg == script.password and bool(user)))
            elif verb == "APOP":
                name, _, digest = arg.partition(" ")
                good = hashlib.md5((APOP_STAMP + script.password).encode()).hexdigest()
                answer = self._logged_in(digest == good and script.apop_secrets)
                say(answer)
                if answer.startswith("-ERR") and script.close_after_refusal:
                    await writer.drain()
                    return
            elif verb == "AUTH" and arg.upper().startswith("PLAIN") and (not script.sasl_ir or arg.upper() == "PLAIN"):
                say("+ ")
                await writer.drain()
                if not pending:
                    pending = [line for line in (await reader.readline()).split(b"\r\n") if line]
                response = pending.pop(0).decode("utf-8", "replace") if pending else "*"
                self.seen.commands.append(response)
                if response == "*":
                    say("-ERR [AUTH] cancelled")
                    continue
                given = base64.b64decode(response).split(b"\0")[-1].decode("utf-8", "replace")
                say(self._logged_in(given == script.password))
            elif verb == "AUTH":
                mechanism, _, token = arg.partition(" ")
                if mechanism.upper() == "PLAIN" and token:
                    given = base64.b64decode(token).split(b"\0")[-1].decode("utf-8", "replace")
                    say(self._logged_in(given == script.password))
                else:
                    say(self._logged_in(True))
            elif verb == "UIDL" and script.uidl:
                say("+OK")
                for n in range(1, len(script.messages) + 1):
                    if n not in deleted:
                        say(f"{n} {script.uidls.get(n, f'uid-{n}')}")
                say(".")
            elif verb == "LIST":
                say("+OK")
                for n, message in enumerate(script.messages, start=1):
                    if n not in deleted:
                        say(f"{n} {script.sizes.get(n, len(message))}")
                say(".")
            elif verb == "TOP" and script.top:
                which, _, count = arg.partition(" ")
                if not which.isdigit() or not 1 <= int(which) <= len(script.messages) or int(which) in deleted:
                    say("-ERR no such message")
                    continue
                say("+OK")
                read.add(int(which))
                head, _, body = script.messages[int(which) - 1].partition(b"\r\n\r\n")
                lines = head.split(b"\r\n") + [b""] + body.split(b"\r\n")[: int(count or 0)]
                writer.write(b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines) + b".\r\n")
            elif verb == "RETR":
                n = int(arg)
                if not 1 <= n <= len(script.messages) or n in deleted:
                    say("-ERR no such message")
                    continue
                if n == script.bad_message and script.retr != "ok":
                    await self._misbehave(reader, writer, script.retr, script.messages[n - 1])
                    return
                say("+OK")
                read.add(n)
                lines = script.messages[n - 1].replace(b"\r\n", b"\n").removesuffix(b"\n").split(b"\n")
                if lines != [b""]:  # a message of 0 bytes is the "." line alone
                    writer.write(b"".join((b"." + l if l.startswith(b".") else l) + newline for l in lines))
                say(".")
            elif verb == "DELE":
                deleted.add(int(arg))
                say("+OK")
            elif verb in ("NOOP", "RSET"):
                say("+OK")
            elif verb == "QUIT":
                if script.expire == "0":
                    gone = read | deleted
                    self.removed += [m for n, m in enumerate(script.messages, start=1) if n in gone]
                    script.messages = [m for n, m in enumerate(script.messages, start=1) if n not in gone]
                if script.quit_answered:
                    say("+OK bye")
                    await writer.drain()
                return
            else:
                say("-ERR unknown command")

    async def _misbehave(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, how: Retr, message: bytes
    ) -> None:
        if how == "drop":  # half the message, then the link closes
            writer.write(b"+OK\r\n" + message[: len(message) // 2])
            await writer.drain()
            return
        if how == "endless_line":
            writer.write(b"+OK " + b"x" * 200_000)
        elif how == "oversize":
            writer.write(b"+OK\r\n")
            for _ in range(2000):
                writer.write(b"y" * 998 + b"\r\n")
                await writer.drain()
            writer.write(b".\r\n")
        elif how == "garbage":
            writer.write(b"* 1 FETCH (hello)\r\n")
        await writer.drain()
        while await reader.read(65536):  # until the client hangs up
            pass
