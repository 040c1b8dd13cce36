"""One suite for IMAP, POP3 and SMTP against a hostile server (``tests/servers/hostile.py``): the
classes of STARTTLS and certificate flaws found in mail clients ("Why TLS is better without
STARTTLS", USENIX Security 2021). For every case: nothing but the negotiation crosses the wire
in plain text (no credential, no mailbox command), an attack ends the session with a reason the
user can read, and what the server said before TLS is never used after it.
"""

from __future__ import annotations

import base64
import hashlib
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mailbag.domain.config import AccountConfig, Config, Security, ServerConfig
from mailbag.domain.events import ConnectionChanged, ErrorReported, OutboxChanged
from mailbag.domain.models import OutgoingState
from mailbag.domain.requests import AppendMessage
from mailbag.protocols.imap import ImapClient, ImapConnectionError, ImapSettings
from mailbag.protocols.login import ServerLogin
from mailbag.protocols.pop3.client import Pop3Client
from mailbag.protocols.smtp.client import submit
from mailbag.services.backend import Backend
from mailbag.services.imap_account import ImapAccount
from mailbag.services.outbox import OutboxService
from mailbag.services.pop3_account import Pop3Account
from mailbag.services.sync_child import ChildJob, fetch_in_child
from mailbag.store.store import Store
from tests.integration.accounts import Recorder
from tests.servers.hostile import (
    NEGOTIATION,
    SECURE_LOGIN,
    CertFiles,
    CertKind,
    HostileServer,
    Hostility,
    Kind,
    certificates,
)

USER = "me@example.org"
PASSWORD = "s3cret-Pa55"
#: What a login can carry: the password, AUTH PLAIN's string, LOGIN's two base64 answers.
SECRETS = [
    PASSWORD.encode(),
    base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()),
    base64.b64encode(USER.encode()),
    base64.b64encode(PASSWORD.encode()),
]
KINDS: tuple[Kind, ...] = ("imap", "pop3", "smtp")


@dataclass(frozen=True)
class Case:
    """One attack: what the server does, and by protocol the reason the user is given (a
    pattern), or None where the session goes on safely over TLS."""

    name: str
    hostility: Hostility
    expect: dict[Kind, str | None]
    implicit_tls: bool = False
    pin: str | None = None  # "good": the server's own fingerprint; anything else as it is


def every(reason: str | None) -> dict[Kind, str | None]:
    return {kind: reason for kind in KINDS}


CERTIFICATE = {
    "self-signed": r"certificate not trusted.*self.signed",
    "wrong-host": r"certificate not trusted.*(mismatch|not valid for)",
    "expired": r"certificate not trusted.*expired",
}

#: What a man in the middle slips in after the go-ahead to STARTTLS: answers to what the client
#: will send over TLS (for SMTP an EHLO answer offering only AUTH LOGIN, which would show in the
#: login if it were believed).
INJECTED: dict[Kind, bytes] = {
    "imap": b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n",
    "pop3": b"+OK logged in\r\n",
    "smtp": b"250-hostile.test\r\n250 AUTH LOGIN\r\n",
}
INJECTION: dict[Kind, str] = {
    "imap": "between STARTTLS and the TLS handshake",
    "pop3": "sent more after its STLS answer",
    "smtp": "sent data after agreeing to STARTTLS; possible injection, connection closed",
}
#: The same bytes read by the TLS handshake instead.
INTO_HANDSHAKE = "|(?i:wrong.version.number)"

CASES = [
    Case("different capabilities after TLS", Hostility(), every(None)),
    Case("STARTTLS missing", Hostility(offer_starttls=False),
         {"imap": "does not offer STARTTLS", "pop3": "does not offer STLS", "smtp": "does not offer STARTTLS"}),
    Case("STARTTLS refused", Hostility(starttls_answer=b"{tag} NO not today\r\n"),
         {"imap": "STARTTLS refused.*not today"}),
    Case("STARTTLS refused as bad", Hostility(starttls_answer=b"{tag} BAD what\r\n"),
         {"imap": "STARTTLS refused.*what"}),
    Case("STLS refused", Hostility(starttls_answer=b"-ERR not today\r\n"),
         {"pop3": r"refused STLS \(-ERR not today\)"}),
    Case("STARTTLS refused 4xx", Hostility(starttls_answer=b"454 4.7.0 not today\r\n"),
         {"smtp": r"refused STARTTLS \(454 4.7.0 not today\)"}),
    Case("STARTTLS refused 5xx", Hostility(starttls_answer=b"554 5.7.0 never\r\n"),
         {"smtp": r"refused STARTTLS \(554 5.7.0 never\)"}),
    Case("STARTTLS answered with a continuation", Hostility(starttls_answer=b"+ go on\r\n"),
         {"imap": "answered STARTTLS with a continuation request", "pop3": r"refused STLS \(\+ go on\)"}),
    Case("STARTTLS answered with a 334 continuation", Hostility(starttls_answer=b"334 go on\r\n"),
         {"smtp": r"refused STARTTLS \(334 go on\)"}),
    Case("responses in the same packet as the go-ahead",
         Hostility(after_starttls_answer=INJECTED["imap"]), {"imap": INJECTION["imap"]}),
    Case("responses in the same packet as STLS's go-ahead",
         Hostility(after_starttls_answer=INJECTED["pop3"]), {"pop3": INJECTION["pop3"]}),
    Case("responses in the same packet as the 220",
         Hostility(after_starttls_answer=INJECTED["smtp"]), {"smtp": INJECTION["smtp"]}),
    # A packet of its own reaches the client before it starts the handshake (it says so) or
    # during it (the handshake fails on bytes that are no TLS): the session ends either way.
    *(Case("responses in a packet of their own right after the go-ahead",
           Hostility(after_starttls_packet=INJECTED[kind]), {kind: INJECTION[kind] + INTO_HANDSHAKE})
      for kind in KINDS),
    Case("untagged EXISTS, FETCH, LIST and STATUS before TLS",
         Hostility(with_capabilities=b"* 7 EXISTS\r\n* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n"
                                     b'* LIST () "/" Forged\r\n* STATUS INBOX (MESSAGES 9)\r\n'),
         {"imap": None}),
    Case("a forged answer to STLS before it was sent", Hostility(with_capabilities=b"+OK begin TLS\r\n"),
         {"pop3": "sent what was not asked for before STLS"}),
    Case("a forged answer to STARTTLS before it was sent", Hostility(with_capabilities=b"220 go ahead\r\n"),
         {"smtp": "sent data it was not asked for before STARTTLS; possible injection, connection closed"}),
    Case("PREAUTH greeting", Hostility(greeting=b"* PREAUTH welcome back\r\n"), {"imap": "PREAUTH"}),
    Case("LOGIN referral", Hostility(login_answer=b"{tag} NO [REFERRAL imap://me@evil.example/] go there\r\n"),
         {"imap": r"login failed: .*go there"}),
    Case("an [ALERT] with escape sequences on a refused login",
         Hostility(login_answer=b"{tag} NO [ALERT] account locked, see \x1b[31mhttps://help.example\r\n"),
         {"imap": "account locked, see .*https://help.example"}),
    *(Case(f"login answered [{code}]", Hostility(login_answer=f"-ERR [{code}] {text}\r\n".encode()),
           {"pop3": re.escape(f"{meaning} ([{code}] {text})")})
      for code, meaning, text in (
          ("IN-USE", "the mailbox is in use by another session", "locked by another session"),
          ("LOGIN-DELAY", "the server allows no new login this soon after the last one", "wait 5 minutes"),
          ("SYS/TEMP", "the server has a temporary problem", "disk busy"),
          ("SYS/PERM", "the server has a problem that will not go away by itself", "account disabled"),
          ("AUTH", "the user name or password was not accepted", "bad credentials"),
      )),
    Case("a refused login that quotes the credentials back",
         Hostility(login_answer=b"{tag} NO [AUTHENTICATIONFAILED] not {line}\r\n"),
         {"imap": r"login failed: .*not .*\*\*\*\*"}),
    Case("an [ALERT] that quotes the credentials back",
         Hostility(login_answer=b"{tag} NO [ALERT] not {line}\r\n"), {"imap": r"login failed: .*not .*\*\*\*\*"}),
    Case("a refused POP3 login that quotes the credentials back", Hostility(login_answer=b"-ERR not {line}\r\n"),
         {"pop3": r"login refused: .*not .*\*\*\*\*"}),
    Case("a refused SMTP login that quotes the credentials back",
         Hostility(login_answer=b"535 5.7.8 not {line}\r\n"),
         {"smtp": r"login refused: 535 5.7.8 not .*\*\*\*\*"}),
    Case("garbage greeting", Hostility(greeting=b"HTTP/1.1 400 Bad Request\r\n"),
         {"imap": "not an IMAP server's greeting: HTTP/1.1 400", "pop3": "not a POP3 reply: HTTP/1.1 400",
          "smtp": "not an SMTP server's greeting: HTTP/1.1 400"}),
    *(Case(f"{cert} certificate{' (implicit TLS)' if implicit else ''}",
           Hostility(certificate=cert), every(CERTIFICATE[cert]), implicit_tls=implicit)
      for cert in ("self-signed", "wrong-host", "expired") for implicit in (False, True)),
    *(Case(f"pinned certificate{' (implicit TLS)' if implicit else ''}", Hostility(), every(None),
           implicit_tls=implicit, pin="good") for implicit in (False, True)),
    *(Case(f"another certificate than the pinned one{' (implicit TLS)' if implicit else ''}", Hostility(),
           every("certificate not trusted.*fingerprint sha256:[0-9a-f]{64} is not the pinned sha256:0{64}"),
           implicit_tls=implicit, pin="sha256:" + "00" * 32) for implicit in (False, True)),
]

PARAMS = [pytest.param((kind, case), id=f"{kind}: {case.name}") for case in CASES for kind in KINDS
          if kind in case.expect]


@pytest.fixture
def hostile(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[HostileServer, Case]]:
    kind, case = request.param
    certs = certificates(tmp_path, case.hostility.certificate)
    server = HostileServer(kind, case.hostility, certs, tls=case.implicit_tls).start()
    yield server, case
    server.stop()


def login(server: HostileServer, certs: CertFiles, case: Case) -> ServerLogin:
    """The account's server table, as mailbag builds it from the config."""
    pin = case.pin
    if pin == "good":
        pem = certs.cert_file.read_text()
        first = pem[: pem.index(END) + len(END)]
        pin = "sha256:" + hashlib.sha256(ssl.PEM_cert_to_DER_cert(first)).hexdigest()
    return ServerLogin(host="127.0.0.1", port=server.port, security="tls" if case.implicit_tls else "starttls",
                       username=USER, password=PASSWORD, ca_file=certs.ca_file, timeout=30.0,
                       tls_fingerprint=pin)


END = "-----END CERTIFICATE-----"


@dataclass
class Seen:
    """What the client made of the session: the folders listed, and pushes kept (IMAP)."""

    folders: list[str] = field(default_factory=list)
    pushes: int = 0


async def session(kind: Kind, settings: ServerLogin) -> Seen:
    """Log in and look around as mailbag does."""
    seen = Seen()
    if kind == "imap":
        security: Security = "none" if settings.security == "none" else (
            "tls" if settings.security == "tls" else "starttls")
        imap = ImapClient(ImapSettings(host=settings.host, port=settings.port, security=security,
                                       username=settings.username, password=settings.password,
                                       ca_file=str(settings.ca_file), timeout=settings.timeout,
                                       tls_fingerprint=settings.tls_fingerprint), "acct")
        await imap.connect()
        seen.folders = [folder.name for folder in await imap.list_folders()]
        seen.pushes = imap.pushes.qsize()
        await imap.logout()
    elif kind == "pop3":
        pop3 = await Pop3Client.open(settings)
        await pop3.list_messages()
        await pop3.quit()
    else:
        await submit(settings, "me@example.org", ["you@example.org"], b"Subject: hi\r\n\r\nhello\r\n")
    return seen


@pytest.mark.parametrize("hostile", PARAMS, indirect=True)
async def test_hostile_server(hostile: tuple[HostileServer, Case]) -> None:
    server, case = hostile
    kind, wire = server.kind, server.wire
    settings = login(server, server.certificate, case)
    expect = case.expect[kind]
    if expect is None:
        seen = await session(kind, settings)
        assert SECURE_LOGIN[kind] in b"".join(wire.secure)  # the login offered over TLS
        if kind == "imap":
            assert seen.folders == ["INBOX"] and seen.pushes == 0
    else:
        with pytest.raises(Exception) as failure:
            await session(kind, settings)
        reason = str(failure.value)
        assert re.search(expect, reason), reason
        assert reason.isprintable()  # no escape sequence reaches the screen
        assert not [secret for secret in SECRETS if secret.decode() in reason]
        # Over TLS too, nothing went out but the negotiation and a login the server refused.
        assert wire.verbs(wire.secure) <= NEGOTIATION[kind] | {"AUTHENTICATE", "AUTH"}
        if case.hostility.after_starttls_answer or case.hostility.after_starttls_packet:
            assert wire.secure == []  # no TLS session to act on what was slipped in
    plain = b"".join(wire.plain)
    assert not [secret for secret in SECRETS if secret in plain]
    assert wire.verbs(wire.plain) <= NEGOTIATION[kind]


def server_table(server: HostileServer, case: Case, monkeypatch: pytest.MonkeyPatch) -> ServerConfig:
    """The account's table for ``server`` as the config file gives it, the password in the
    environment."""
    settings = login(server, server.certificate, case)
    monkeypatch.setenv("HOSTILE_PASSWORD", PASSWORD)
    return ServerConfig(host=settings.host, port=settings.port, security=settings.security,  # type: ignore[arg-type]
                        username=USER, password_env="HOSTILE_PASSWORD", ca_file=settings.ca_file,
                        tls_fingerprint=settings.tls_fingerprint)


SERVICE_PARAMS = [p for p in PARAMS if p.values[0][0] in ("imap", "pop3")]  # type: ignore[index]


@pytest.mark.parametrize("hostile", SERVICE_PARAMS, indirect=True)
async def test_the_account_stores_nothing_from_a_hostile_server_and_says_why(
    hostile: tuple[HostileServer, Case], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same cases through the account's worker, as mailbag runs it: the cache and the local
    store hold nothing the server said in plain text, and the reason reaches the user."""
    server, case = hostile
    table = server_table(server, case, monkeypatch)
    maildir = tmp_path / "Mail"
    store, recorder = Store.open(tmp_path / "cache.sqlite3"), Recorder()
    worker: Backend
    if server.kind == "imap":
        worker = ImapAccount(AccountConfig(name="acct", email=USER, imap=table), store, recorder)
    else:
        worker = Pop3Account(AccountConfig(name="acct", email=USER, pop3=table, maildir=maildir), maildir,
                             store, recorder)
    told: list[str] = []
    try:
        await worker.sync_once()
    except Exception as exc:  # noqa: BLE001 - what the user is told is what matters
        told.append(worker.describe(exc))
    told += [e.message for e in recorder.of(ErrorReported)] + [e.detail for e in recorder.of(ConnectionChanged)]
    try:
        expect = case.expect[server.kind]
        if expect is not None:
            assert any(re.search(expect, text) for text in told), told
        assert all(text.isprintable() for text in told), told
        assert not [s for s in SECRETS if any(s.decode() in text for text in told)], told
        folders = [folder.name for folder in store.folders("acct")]
        assert set(folders) <= {"INBOX"}  # nothing LISTed before TLS
        assert all(store.uids("acct", folder) == [] for folder in folders)  # nor FETCHed
        assert store.local.pop3_downloads("acct") == {}
        assert not [p for p in maildir.rglob("*") if p.is_file() and p.parent.name in ("new", "cur")]
    finally:
        store.close()
    plain = b"".join(server.wire.plain)
    assert not [secret for secret in SECRETS if secret in plain]


SMTP_PARAMS = [p for p in PARAMS if p.values[0][0] == "smtp"]  # type: ignore[index]


@pytest.mark.parametrize("hostile", SMTP_PARAMS, indirect=True)
async def test_the_outbox_hands_nothing_to_a_hostile_server_and_keeps_the_message(
    hostile: tuple[HostileServer, Case], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same cases through the outbox, as mailbag and ``mailbag send`` send: the message
    stays queued with the reason the screen shows, and no envelope or message went out."""
    server, case = hostile
    table = server_table(server, case, monkeypatch)
    config = Config(path=None, accounts={"acct": AccountConfig(name="acct", email=USER, smtp=table)})
    store, recorder = Store.open(tmp_path / "cache.sqlite3"), Recorder()
    copies: list[AppendMessage] = []

    async def store_copy(request: AppendMessage) -> None:
        copies.append(request)

    outbox = OutboxService(config, store.local, recorder, store_copy)
    try:
        item = outbox.queue("acct", b"From: " + USER.encode() + b"\r\nTo: you@example.org\r\n"
                            b"Subject: hi\r\n\r\nhello\r\n")
        state = await outbox.attempt(item)
        expect = case.expect[server.kind]
        if expect is None:
            assert state == ""  # sent, over TLS, and gone from the outbox
            assert {"MAIL", "RCPT", "DATA"} <= server.wire.verbs(server.wire.secure)
        else:
            assert state in ("queued", "held")  # held: a refused login, not tried again on a timer
            (shown,) = recorder.of(OutboxChanged)[-1].messages
            assert shown.state is OutgoingState(state) and re.search(expect, shown.reason), shown
            assert shown.reason.isprintable() and not [s for s in SECRETS if s.decode() in shown.reason]
            assert not {"MAIL", "RCPT", "DATA"} & server.wire.verbs(server.wire.plain + server.wire.secure)
            assert [i.state for i in store.local.outbox()] == [state] and copies == []
    finally:
        store.close()
    plain = b"".join(server.wire.plain)
    assert not [secret for secret in SECRETS if secret in plain]
    assert server.wire.verbs(server.wire.plain) <= NEGOTIATION["smtp"]


async def chunk_written(count: int) -> None:
    """What the sync process reports as it goes: nothing to do here."""


@pytest.mark.parametrize("hostile", [pytest.param(("imap", Case("pin", Hostility(), {}, implicit_tls=True)),
                                                  id="imap")], indirect=True)
@pytest.mark.parametrize("pinned", ["its own", "another"])
async def test_the_sync_process_checks_the_certificate_pin_too(
    hostile: tuple[HostileServer, Case], tmp_path: Path, pinned: str
) -> None:
    server, case = hostile
    pin = login(server, server.certificate, Case("pin", Hostility(), {}, pin="good")).tls_fingerprint
    settings = ImapSettings(host="127.0.0.1", port=server.port, security="tls", username=USER,
                            password=PASSWORD, ca_file=str(server.ca_file), timeout=30.0,
                            tls_fingerprint=pin if pinned == "its own" else "sha256:" + "00" * 32)
    cache = tmp_path / "cache.sqlite3"
    Store.open(cache).close()
    job = ChildJob("acct", "INBOX", 1, [1], str(cache), 100, 100)
    if pinned == "its own":
        await fetch_in_child(job, settings, chunk_written)
        assert SECURE_LOGIN["imap"] in b"".join(server.wire.secure)
    else:
        with pytest.raises(ImapConnectionError, match="fingerprint sha256:[0-9a-f]{64} is not the pinned"):
            await fetch_in_child(job, settings, chunk_written)
        assert server.wire.secure == []


@pytest.mark.parametrize("hostile", [
    pytest.param(("imap", Case(cert, Hostility(certificate=cert), {}, implicit_tls=True)), id=cert)
    for cert in ("self-signed", "wrong-host", "expired")], indirect=True)
async def test_the_sync_process_verifies_the_certificate(hostile: tuple[HostileServer, Case], tmp_path: Path) -> None:
    server, case = hostile
    settings = ImapSettings(host="127.0.0.1", port=server.port, security="tls", username=USER,
                            password=PASSWORD, ca_file=str(server.ca_file), timeout=30.0)
    cache = tmp_path / "cache.sqlite3"
    Store.open(cache).close()
    with pytest.raises(ImapConnectionError) as failure:
        await fetch_in_child(ChildJob("acct", "INBOX", 1, [1], str(cache), 100, 100), settings, chunk_written)
    assert re.search(CERTIFICATE[case.hostility.certificate], str(failure.value)), str(failure.value)
    assert server.wire.secure == []
