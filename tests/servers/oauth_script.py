"""Scripted IMAP, POP3 and SMTP servers that log in with OAUTHBEARER or XOAUTH2 only.

Each offers the mechanisms its :class:`OAuthScript` names and takes the tokens in ``tokens``
(one list, so a test can have the first one refused: ``refuse_first``). A refused token gets the
RFC 7628 error challenge (base64 JSON), and the client's answer to it is recorded before the
final refusal. After the login they answer just enough for a client to carry on (an empty Inbox,
an accepted message). Everything read is recorded (see :mod:`tests.servers.scripted`).
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass, field

from tests.servers.dovecot import DovecotServer
from tests.servers.scripted import ScriptedServer, SeenCommands

ERROR_CHALLENGE = base64.b64encode(
    json.dumps({"status": "invalid_token", "scope": "mail"}).encode()
).decode()


@dataclass
class OAuthScript:
    """What the server offers and which tokens it takes."""

    mechanisms: tuple[str, ...] = ("OAUTHBEARER", "XOAUTH2")
    tokens: tuple[str, ...] = ("good-token",)
    user: str = "me@example.org"
    sasl_ir: bool = True  # IMAP: the initial response on the AUTHENTICATE line
    refuse_first: bool = False  # refuse the first login whatever its token


@dataclass
class Login:
    """One login attempt: the mechanism, the user and the token decoded from the client's
    response, and what the client answered to the error challenge (None: no challenge sent)."""

    mechanism: str
    user: str
    token: str
    challenge_answer: str | None = None


@dataclass
class Seen(SeenCommands):
    logins: list[Login] = field(default_factory=list)
    messages: int = 0


def decode(mechanism: str, response: str) -> tuple[str, str]:
    """(user, token) of a client's base64 OAUTHBEARER / XOAUTH2 response."""
    raw = base64.b64decode(response).decode()
    fields = raw.split("\x01")
    token = next((f.removeprefix("auth=Bearer ") for f in fields if f.startswith("auth=Bearer ")), "")
    if mechanism == "OAUTHBEARER":
        header = fields[0]  # n,a=USER,
        user = header.split(",")[1].removeprefix("a=").replace("=2C", ",").replace("=3D", "=")
    else:
        user = fields[0].removeprefix("user=")
    return user, token


class _OAuthServer(ScriptedServer):
    def __init__(self, dovecot: DovecotServer, script: OAuthScript, *, tls: bool = False) -> None:
        super().__init__(dovecot, tls=tls)
        self.script = script
        self.seen = Seen()

    def _accepts(self, login: Login) -> bool:
        first = len(self.seen.logins) == 1
        if self.script.refuse_first and first:
            return False
        return login.user == self.script.user and login.token in self.script.tokens

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, args: str, prompt: str
    ) -> bool:
        """One SASL exchange after ``AUTH``/``AUTHENTICATE``: the response from ``args`` (else
        asked for with ``prompt``), and for a refused token the error challenge and the
        client's answer to it. True when the token is taken."""
        mechanism, _, response = args.partition(" ")
        if not response:
            writer.write(f"{prompt} \r\n".encode())
            await writer.drain()
            response = (await reader.readline()).decode().rstrip("\r\n")
        login = Login(mechanism.upper(), *decode(mechanism.upper(), response))
        self.seen.logins.append(login)
        if self._accepts(login):
            return True
        writer.write(f"{prompt} {ERROR_CHALLENGE}\r\n".encode())
        await writer.drain()
        login.challenge_answer = (await reader.readline()).decode().rstrip("\r\n")
        return False


class OAuthImap(_OAuthServer):
    """IMAP: CAPABILITY, AUTHENTICATE (with or without SASL-IR), then LIST / SELECT / LOGOUT."""

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        script = self.script
        authed = False

        def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")

        say("* OK scripted IMAP ready")
        while raw := await reader.readline():
            line = raw.decode().rstrip("\r\n")
            self.seen.commands.append(line)
            tag, _, rest = line.partition(" ")
            verb, _, args = rest.partition(" ")
            verb = verb.upper()
            if verb == "CAPABILITY":
                caps = ["IMAP4rev1"]
                if not authed:
                    caps += [f"AUTH={m}" for m in script.mechanisms] + (["SASL-IR"] if script.sasl_ir else [])
                say("* CAPABILITY " + " ".join(caps))
                say(f"{tag} OK done")
            elif verb == "AUTHENTICATE":
                authed = await self._exchange(reader, writer, args, "+")
                say(f"{tag} OK authenticated" if authed else f"{tag} NO [AUTHENTICATIONFAILED] Authentication failed")
            elif verb == "LIST" and authed:
                say('* LIST (\\HasNoChildren) "/" "INBOX"')
                say(f"{tag} OK done")
            elif verb == "STATUS" and authed:
                say('* STATUS "INBOX" (MESSAGES 0 UNSEEN 0)')
                say(f"{tag} OK done")
            elif verb in ("SELECT", "EXAMINE") and authed:
                say("* 0 EXISTS")
                say("* OK [UIDVALIDITY 1] ok")
                say("* OK [UIDNEXT 1] ok")
                say(f"{tag} OK [READ-WRITE] done")
            elif verb == "LOGOUT":
                say("* BYE bye")
                say(f"{tag} OK done")
                await writer.drain()
                return
            elif verb in ("NOOP", "UID", "SEARCH") and authed:
                say(f"{tag} OK done")
            else:
                say(f"{tag} BAD not now")
            await writer.drain()


class OAuthPop3(_OAuthServer):
    """POP3: CAPA with SASL, AUTH (initial response on the line or after ``+``), an empty drop."""

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")

        say("+OK scripted POP3 ready")
        while raw := await reader.readline():
            line = raw.decode().rstrip("\r\n")
            self.seen.commands.append(line)
            verb, _, args = line.partition(" ")
            verb = verb.upper()
            if verb == "CAPA":
                for capability in ("+OK", "USER", "UIDL", "SASL " + " ".join(self.script.mechanisms), "."):
                    say(capability)
            elif verb == "AUTH":
                taken = await self._exchange(reader, writer, args, "+")
                say("+OK logged in" if taken else "-ERR [AUTH] Authentication failed")
            elif verb in ("UIDL", "LIST"):
                say("+OK")
                say(".")
            elif verb == "QUIT":
                say("+OK bye")
                await writer.drain()
                return
            elif verb == "NOOP":
                say("+OK")
            else:
                say("-ERR unknown command")
            await writer.drain()


class OAuthSmtp(_OAuthServer):
    """SMTP: EHLO offering AUTH with the mechanisms, AUTH, and a message accepted."""

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def reply(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        authed = False
        await reply("220 scripted.test ESMTP")
        while raw := await reader.readline():
            line = raw.decode().rstrip("\r\n")
            self.seen.commands.append(line)
            verb, _, args = line.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                writer.write(b"250-scripted.test\r\n250-8BITMIME\r\n")
                await reply("250 AUTH " + " ".join(self.script.mechanisms))
            elif verb == "AUTH":
                authed = await self._exchange(reader, writer, args, "334")
                await reply("235 2.7.0 authenticated" if authed else "535 5.7.8 Authentication failed")
            elif verb in ("MAIL", "RCPT") and not authed:
                await reply("530 5.7.0 Authentication required")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                await reply("250 2.0.0 OK")
            elif verb == "DATA":
                await reply("354 go ahead")
                await reader.readuntil(b"\r\n.\r\n")
                self.seen.messages += 1
                await reply("250 2.0.0 queued as 1")
            elif verb == "QUIT":
                await reply("221 bye")
                return
            else:
                await reply("502 5.5.2 not implemented")
