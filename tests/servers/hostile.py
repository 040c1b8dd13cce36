"""A hostile server for IMAP, POP3 and SMTP: a man in the middle, or a server that means harm.

It speaks just enough of each protocol for a client to log in over STARTTLS (or implicit TLS)
and look around, and does one thing wrong, as a :class:`Hostility` says: no STARTTLS, a refusal
or a continuation instead of the go-ahead, responses slipped in before the handshake (with the
go-ahead, or in a packet of their own right after it), a PREAUTH
greeting, a referral instead of a login, garbage instead of a greeting, a bad certificate. It
records every line it reads, and whether TLS was on when it came (:class:`Wire`).

Before TLS it offers a weaker login than after it (IMAP: LOGIN instead of AUTHENTICATE PLAIN;
POP3: USER/PASS instead of AUTH PLAIN; SMTP: AUTH LOGIN instead of AUTH PLAIN), so a client that
kept the capabilities from before TLS shows it by the login it uses.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Literal

import trustme

from tests.servers.scripted import ScriptedServer

Kind = Literal["imap", "pop3", "smtp"]
CertKind = Literal["good", "self-signed", "wrong-host", "expired"]

#: The login each protocol must use once TLS is on (the one offered only after TLS).
SECURE_LOGIN = {"imap": b"AUTHENTICATE PLAIN", "pop3": b"AUTH PLAIN", "smtp": b"AUTH PLAIN"}
#: The only commands a client may send before TLS: the capabilities, STARTTLS, goodbye.
NEGOTIATION = {
    "imap": {"CAPABILITY", "STARTTLS", "LOGOUT"},
    "pop3": {"CAPA", "STLS", "QUIT"},
    "smtp": {"EHLO", "HELO", "STARTTLS", "QUIT"},
}


@dataclass(frozen=True)
class Hostility:
    """What the server does wrong; everything not set here it does right. Byte strings are
    sent as they are, ``{tag}`` replaced by the tag of the IMAP command they answer."""

    greeting: bytes | None = None  # instead of the protocol's greeting
    offer_starttls: bool = True  # STARTTLS (STLS) in the capabilities before TLS
    starttls_answer: bytes | None = None  # instead of the go-ahead to STARTTLS (then no TLS)
    after_starttls_answer: bytes = b""  # in the same write as the go-ahead, before the handshake
    after_starttls_packet: bytes = b""  # in a write of its own after the go-ahead, before the handshake
    with_capabilities: bytes = b""  # in the same write as the capabilities, before TLS
    login_answer: bytes | None = None  # instead of the login's success (after TLS); {line}: the login's line
    certificate: CertKind = "good"


@dataclass
class Wire:
    """Every line the server read: ``plain`` before TLS, ``secure`` after."""

    plain: list[bytes] = field(default_factory=list)
    secure: list[bytes] = field(default_factory=list)

    def verbs(self, lines: list[bytes]) -> set[str]:
        """The command words of ``lines`` (IMAP's after the tag)."""
        return {_verb(line) for line in lines if line.strip()}


def _verb(line: bytes) -> str:
    words = line.split()
    if not words:
        return ""
    if len(words) > 1 and not words[0].isalpha():  # an IMAP tag
        words = words[1:]
    if words[0].upper() == b"UID" and len(words) > 1:
        return "UID " + words[1].decode("ascii", "replace").upper()
    return words[0].decode("ascii", "replace").upper()


@dataclass(frozen=True)
class CertFiles:
    """A certificate for the server and the CA file a client trusts (see ``Certificate``)."""

    cert_file: Path
    key_file: Path
    ca_file: Path


def certificates(directory: Path, kind: CertKind) -> CertFiles:
    """A server certificate of ``kind`` for 127.0.0.1 and the CA file of a good one: ``good``
    is signed by that CA; ``wrong-host`` too, for another name; ``expired`` too, out of date;
    ``self-signed`` is signed by nobody the client trusts."""
    ca = trustme.CA()
    ca_file = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    cert_file, key_file = directory / f"{kind}.pem", directory / f"{kind}.key"
    if kind == "self-signed":
        own = trustme.CA()
        own.cert_pem.write_to_path(str(cert_file))
        own.private_key_pem.write_to_path(str(key_file))
        return CertFiles(cert_file, key_file, ca_file)
    now = datetime.now(timezone.utc)
    if kind == "expired":
        issued = ca.issue_cert("127.0.0.1", not_before=now - timedelta(days=30),
                               not_after=now - timedelta(days=1))
    else:
        issued = ca.issue_cert("mail.example.org" if kind == "wrong-host" else "127.0.0.1")
    issued.private_key_pem.write_to_path(str(key_file))
    with open(cert_file, "wb") as out:
        for blob in issued.cert_chain_pems:
            out.write(blob.bytes())
    return CertFiles(cert_file, key_file, ca_file)


class HostileServer(ScriptedServer):
    """Plays one protocol (``kind``) with one :class:`Hostility`; ``tls``: implicit TLS."""

    def __init__(self, kind: Kind, hostility: Hostility, certificate: CertFiles, *, tls: bool = False) -> None:
        super().__init__(certificate, tls=tls)
        self.certificate = certificate
        self.kind = kind
        self.hostility = hostility
        self.wire = Wire()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = _Session(self, reader, writer)
        await session.play()


class _Session:
    """One client's session: the protocol's dialogue, with the server's hostility."""

    def __init__(self, server: HostileServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.h = server.hostility
        self.kind = server.kind
        self.reader = reader
        self.writer = writer
        self.secure = server._tls

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def line(self) -> bytes:
        line = await self.reader.readline()
        if line:
            (self.server.wire.secure if self.secure else self.server.wire.plain).append(line)
        return line

    async def play(self) -> None:
        greeting = {"imap": b"* OK hostile IMAP ready\r\n", "pop3": b"+OK hostile POP3 ready\r\n",
                    "smtp": b"220 hostile.test ESMTP\r\n"}[self.kind]
        await self.send(self.h.greeting if self.h.greeting is not None else greeting)
        dialogue = {"imap": self.imap, "pop3": self.pop3, "smtp": self.smtp}[self.kind]
        while line := await self.line():
            if not await dialogue(line):
                break
        while await self.reader.read(65536):  # until the client hangs up
            pass

    async def start_tls(self) -> None:
        await self.server.start_tls(self.writer)
        self.secure = True

    async def go_ahead(self, answer: bytes, tag: bytes = b"") -> bool:
        """Answer STARTTLS: the hostility's answer (no TLS follows), else ``answer``, whatever
        is to follow it in the same write, and the handshake."""
        if self.h.starttls_answer is not None:
            await self.send(self.h.starttls_answer.replace(b"{tag}", tag))
            return True
        await self.send(answer + self.h.after_starttls_answer)
        if self.h.after_starttls_packet:
            await self.send(self.h.after_starttls_packet)
        await self.start_tls()
        return True

    # --- IMAP -------------------------------------------------------------------------------------

    async def imap(self, line: bytes) -> bool:
        tag, _, rest = line.rstrip(b"\r\n").partition(b" ")
        verb = _verb(line)
        done = tag + b" OK done\r\n"
        if verb == "CAPABILITY":
            caps = b"IMAP4rev1 AUTH=PLAIN SASL-IR ENABLE" if self.secure else (
                b"IMAP4rev1" + (b" STARTTLS" if self.h.offer_starttls else b""))
            extra = b"" if self.secure else self.h.with_capabilities
            await self.send(b"* CAPABILITY " + caps + b"\r\n" + extra + done)
        elif verb == "STARTTLS":
            return await self.go_ahead(tag + b" OK begin TLS\r\n", tag)
        elif verb in ("AUTHENTICATE", "LOGIN"):
            answer = self.h.login_answer if self.h.login_answer is not None else done
            await self.send(answer.replace(b"{tag}", tag).replace(b"{line}", line.strip()))
        elif verb == "LIST":
            await self.send(b'* LIST (\\HasNoChildren) "/" INBOX\r\n' + done)
        elif verb in ("SELECT", "EXAMINE"):
            await self.send(b"* 0 EXISTS\r\n* OK [UIDVALIDITY 1] ok\r\n* OK [UIDNEXT 1] ok\r\n"
                            + tag + b" OK [READ-WRITE] done\r\n")
        elif verb == "STATUS":
            name = rest.split(b" ")[1] if len(rest.split(b" ")) > 1 else b"INBOX"
            await self.send(b"* STATUS " + name + b" (MESSAGES 0 UNSEEN 0)\r\n" + done)
        elif verb == "LOGOUT":
            await self.send(b"* BYE bye\r\n" + done)
            return False
        else:
            await self.send(done)
        return True

    # --- POP3 -------------------------------------------------------------------------------------

    async def pop3(self, line: bytes) -> bool:
        verb = _verb(line)
        if verb == "CAPA":
            caps = [b"USER", b"UIDL", b"SASL PLAIN"] if self.secure else (
                [b"USER", b"UIDL"] + ([b"STLS"] if self.h.offer_starttls else []))
            extra = b"" if self.secure else self.h.with_capabilities
            await self.send(b"+OK\r\n" + b"".join(c + b"\r\n" for c in caps) + b".\r\n" + extra)
        elif verb == "STLS":
            return await self.go_ahead(b"+OK begin TLS\r\n")
        elif verb in ("AUTH", "USER", "PASS", "APOP"):
            last_step = verb != "USER"
            refused = self.h.login_answer if last_step else None
            await self.send(refused.replace(b"{line}", line.strip()) if refused is not None else b"+OK\r\n")
        elif verb in ("UIDL", "LIST"):
            await self.send(b"+OK\r\n.\r\n")
        elif verb == "QUIT":
            await self.send(b"+OK bye\r\n")
            return False
        else:
            await self.send(b"+OK\r\n")
        return True

    # --- SMTP -------------------------------------------------------------------------------------

    async def smtp(self, line: bytes) -> bool:
        verb = _verb(line)
        if verb in ("EHLO", "HELO"):
            offers = [b"hostile.test", b"AUTH PLAIN"] if self.secure else (
                [b"hostile.test", b"AUTH LOGIN"] + ([b"STARTTLS"] if self.h.offer_starttls else []))
            lines = [b"250-" + o for o in offers[:-1]] + [b"250 " + offers[-1]]
            extra = b"" if self.secure else self.h.with_capabilities
            await self.send(b"\r\n".join(lines) + b"\r\n" + extra)
        elif verb == "STARTTLS":
            return await self.go_ahead(b"220 go ahead\r\n")
        elif verb == "AUTH":
            answer = self.h.login_answer if self.h.login_answer is not None else b"235 2.7.0 ok\r\n"
            words = line.split()
            if len(words) > 1 and words[1].upper() == b"LOGIN" and self.h.login_answer is None:
                for _ in range(1 if len(words) > 2 else 2):  # what the first line did not carry
                    await self.send(b"334 UGFzc3dvcmQ6\r\n")
                    await self.line()
            await self.send(answer.replace(b"{line}", line.strip()))
        elif verb == "DATA":
            await self.send(b"354 go ahead\r\n")
            while await self.line() not in (b".\r\n", b""):
                pass
            await self.send(b"250 2.0.0 queued\r\n")
        elif verb == "QUIT":
            await self.send(b"221 bye\r\n")
            return False
        else:
            await self.send(b"250 2.0.0 ok\r\n")
        return True
