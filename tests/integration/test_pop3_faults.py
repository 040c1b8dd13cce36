"""What Dovecot will not do, played by a scripted POP3 server: STLS left out or refused (no user
name or password goes out), APOP, a line without end, a message longer than the limit, a reply
that is no POP3, a link dropped in the middle of a message, and PIPELINING used when offered."""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from mailbag.domain.config import AccountConfig, ServerConfig
from mailbag.domain.events import ErrorReported, Notice
from mailbag.protocols.pop3.client import Pop3Client, Pop3Settings
from mailbag.protocols.pop3.errors import Pop3LinkLost, Pop3LoginRefused
from mailbag.services.pop3_account import Pop3Account
from mailbag.store.store import Store
from tests.integration.accounts import Recorder
from tests.servers.dovecot import DovecotServer
from tests.servers.pop3_script import Script, ScriptedPop3

pytestmark = pytest.mark.dovecot


def message(n: int) -> bytes:
    return f"Subject: message {n}\r\n\r\nbody {n}\r\n.dotted\r\n".encode()


@pytest.fixture
def scripted(dovecot: DovecotServer, request: pytest.FixtureRequest) -> Iterator[ScriptedPop3]:
    script, tls = request.param
    if not script.messages:
        script.messages = [message(n) for n in range(1, 6)]
    server = ScriptedPop3(dovecot, script, tls=tls).start()
    yield server
    server.stop()


def settings(server: ScriptedPop3, security: str, password: str = "pw") -> Pop3Settings:
    return Pop3Settings(
        host="localhost", port=server.port, security=security, username="me",
        password=password, ca_file=server.ca_file, timeout=10.0,
    )


@pytest.mark.parametrize(
    "scripted", [(Script(stls="absent"), False), (Script(stls="refuse"), False)],
    ids=["stripped", "refused"], indirect=True,
)
async def test_stls_missing_or_refused_sends_no_user_name_or_password(scripted: ScriptedPop3) -> None:
    with pytest.raises(Pop3LinkLost, match="STLS.*nothing was sent in plain text"):
        await Pop3Client.open(settings(scripted, "starttls"))
    verbs = [c.split(" ", 1)[0].upper() for c in scripted.seen.commands]
    assert not {"USER", "PASS", "AUTH", "APOP"} & set(verbs)


@pytest.mark.parametrize("scripted", [(Script(apop=True), False)], indirect=True)
async def test_apop_on_a_plain_link_never_sends_the_password(scripted: ScriptedPop3) -> None:
    client = await Pop3Client.open(settings(scripted, "none"))
    await client.quit()
    assert scripted.seen.count("APOP") == 1
    assert not any("pw" in c for c in scripted.seen.commands)


@pytest.mark.parametrize("scripted", [(Script(apop=True, apop_secrets=False), False)], indirect=True)
async def test_apop_refused_logs_in_with_the_password(scripted: ScriptedPop3) -> None:
    client = await Pop3Client.open(settings(scripted, "none"))
    assert [listing.number for listing in await client.list_messages()] == [1, 2, 3, 4, 5]
    await client.quit()
    assert [c.split(" ", 1)[0].upper() for c in scripted.seen.commands][:3] == ["CAPA", "APOP", "AUTH"]


@pytest.mark.parametrize(
    "scripted", [(Script(apop=True, apop_secrets=False, close_after_refusal=True), False)], indirect=True
)
async def test_a_server_that_closes_the_link_when_it_refuses_apop_is_logged_in_to_with_the_password(
    scripted: ScriptedPop3,
) -> None:
    # As Solid POP3 does: the password went out on a link it had closed, and every check failed.
    client = await Pop3Client.open(settings(scripted, "none"))
    assert [listing.number for listing in await client.list_messages()] == [1, 2, 3, 4, 5]
    await client.quit()
    verbs = [c.split(" ", 1)[0].upper() for c in scripted.seen.commands]
    assert verbs[:4] == ["CAPA", "APOP", "CAPA", "AUTH"]
    # Refused once, APOP is not tried again (each refusal is a failed login in the server's log).
    client = await Pop3Client.open(settings(scripted, "none"))
    await client.quit()
    assert [c.split(" ", 1)[0].upper() for c in scripted.seen.commands].count("APOP") == 1
    with pytest.raises(Pop3LoginRefused, match="wrong password"):
        await Pop3Client.open(settings(scripted, "none", password="wrong"))


@pytest.mark.parametrize("scripted", [(Script(sasl_ir=False), True)], indirect=True)
async def test_a_server_that_takes_no_initial_response_gets_it_after_its_go_ahead(scripted: ScriptedPop3) -> None:
    client = await Pop3Client.open(settings(scripted, "tls"))  # "+" to AUTH PLAIN <response>: sent again
    assert [listing.number for listing in await client.list_messages()] == [1, 2, 3, 4, 5]
    await client.quit()
    auth = scripted.seen.commands.index(next(c for c in scripted.seen.commands if c.startswith("AUTH PLAIN ")))
    assert scripted.seen.commands[auth + 1] == scripted.seen.commands[auth].removeprefix("AUTH PLAIN ")
    with pytest.raises(Pop3LoginRefused, match="wrong password"):
        await Pop3Client.open(settings(scripted, "tls", password="wrong"))


@pytest.mark.parametrize("scripted", [(Script(apop=True, apop_secrets=False), False)], indirect=True)
async def test_apop_refused_and_a_wrong_password_is_one_refusal(scripted: ScriptedPop3) -> None:
    with pytest.raises(Pop3LoginRefused, match="login refused"):
        await Pop3Client.open(settings(scripted, "none", password="wrong"))
    verbs = [c.split(" ", 1)[0].upper() for c in scripted.seen.commands]
    assert (verbs.count("APOP"), verbs.count("AUTH")) == (1, 1)


@pytest.mark.parametrize("scripted", [(Script(), True)], indirect=True)
async def test_retr_is_pipelined_when_offered(scripted: ScriptedPop3) -> None:
    client = await Pop3Client.open(settings(scripted, "tls"))
    got = [raw async for _, raw in client.retrieve([1, 2, 3, 4, 5])]
    await client.quit()
    assert got == [f"Subject: message {n}\n\nbody {n}\n.dotted\n".encode() for n in range(1, 6)]
    assert 5 in scripted.seen.batches  # the five RETR came in one write


@pytest.mark.parametrize("scripted", [(Script(pipelining=False), True)], indirect=True)
async def test_without_pipelining_one_command_at_a_time(scripted: ScriptedPop3) -> None:
    client = await Pop3Client.open(settings(scripted, "tls"))
    got = [raw async for _, raw in client.retrieve([1, 2, 3])]
    await client.quit()
    assert len(got) == 3 and max(scripted.seen.batches) == 1


@pytest.mark.parametrize(
    "scripted",
    [(Script(retr="drop", bad_message=2), True), (Script(retr="endless_line"), True),
     (Script(retr="garbage"), True), (Script(retr="oversize"), True)],
    ids=["dropped", "endless-line", "garbage", "oversize"], indirect=True,
)
async def test_a_hostile_or_broken_answer_is_a_lost_link(scripted: ScriptedPop3) -> None:
    client = await Pop3Client.open(settings(scripted, "tls"))
    got: list[bytes | None] = []
    with pytest.raises(Pop3LinkLost) as caught:
        async for _, raw in client.retrieve([1, 2, 3], limit=100_000):
            got.append(raw)
    expected = {"drop": "closed", "endless_line": "longer than", "garbage": "not a POP3 reply",
                "oversize": "longer than 100000"}
    assert expected[scripted.script.retr] in str(caught.value)
    if scripted.script.retr == "drop":
        assert got == [message(1).replace(b"\r\n", b"\n")]


async def checked(scripted: ScriptedPop3, tmp_path: Path, times: int) -> tuple[Recorder, int]:
    """A POP3 account on ``scripted`` (implicit TLS) that checks for mail ``times`` times; what
    it told, and how many messages its Inbox caches."""
    server = ServerConfig(host="localhost", port=scripted.port, security="tls", username="me",
                          password_command="printf 'pw\\n'", ca_file=scripted.ca_file)
    config = AccountConfig(name="old", email="me@example.test", maildir=tmp_path / "Mail", pop3=server)
    recorder = Recorder()
    with Store.open(tmp_path / "cache.sqlite3") as store:
        account = Pop3Account(config, tmp_path / "Mail", store, recorder)
        for _ in range(times):
            await account.sync_once()
        return recorder, store.counts("old", "INBOX")[0]


BIG = b"From: Dan Example <dan@example.test>\r\nSubject: Holiday videos\r\n\r\n(a lot of video)\r\n"


@pytest.mark.parametrize("scripted", [
    (Script(sizes={2: 100 * 2**20}, messages=[message(1), BIG, message(3), message(4), message(5)]), True),
], indirect=True)
async def test_a_message_over_the_limit_is_left_on_the_server_and_told_once_by_name(
    scripted: ScriptedPop3, tmp_path: Path
) -> None:
    recorder, cached = await checked(scripted, tmp_path, times=2)
    assert cached == 4
    assert [e.message for e in recorder.of(Notice)] == [
        '1 message over 64 MB left on the server: "Holiday videos" from Dan Example'
    ]
    assert not recorder.of(ErrorReported)
    assert "RETR 2" not in scripted.seen.commands and scripted.seen.count("RETR") == 4
    assert scripted.seen.commands.count("TOP 2 0") == 1  # its header, once


@pytest.mark.parametrize("scripted", [
    (Script(sizes={1: 100 * 2**20, 2: 100 * 2**20}, top=False, expire="0"), True),
    (Script(sizes={1: 100 * 2**20, 2: 100 * 2**20}, top=False), True),
], ids=["EXPIRE 0", "without TOP"], indirect=True)
async def test_messages_over_the_limit_are_told_unnamed_where_their_header_cannot_be_read_safely(
    scripted: ScriptedPop3, tmp_path: Path
) -> None:
    # A server that removes what a session read (EXPIRE 0) would take a TOP for a download.
    recorder, _cached = await checked(scripted, tmp_path, times=1)
    assert [e.message for e in recorder.of(Notice) if "64 MB" in e.message] == ["2 messages over 64 MB left on the server"]
    tops = [c for c in scripted.seen.commands if c.startswith("TOP")]
    assert tops == ([] if scripted.script.expire == "0" else ["TOP 1 0"])  # refused once: no more asked


def tls_server(
    cert_file: Path, key_file: Path, oldest: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
    newest: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED,
) -> tuple[socket.socket, threading.Thread]:
    """A server for one connection that speaks TLS from ``oldest`` to ``newest`` with this
    certificate, weak as it may be: as an old ISP's may (its OpenSSL answers a client whose
    versions it does not speak with a protocol_version alert)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.set_ciphers("ALL:@SECLEVEL=0")  # OpenSSL 3 allows TLS 1.1 and weak keys only so
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0 and 1.1
        context.minimum_version, context.maximum_version = oldest, newest
    context.load_cert_chain(str(cert_file), str(key_file))
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        link, _ = listener.accept()
        with link:
            try:
                with context.wrap_socket(link, server_side=True) as tls:
                    tls.sendall(b"+OK POP3 ready\r\n")
            except (ssl.SSLError, OSError):
                pass  # the handshake fails: what the client makes of it is the test

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


async def test_a_server_that_speaks_only_an_old_tls_is_told_so(dovecot: DovecotServer) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0 and 1.1, named
        oldest, newest = ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1
    listener, thread = tls_server(dovecot.cert_file, dovecot.key_file, oldest, newest)
    with listener:
        port = listener.getsockname()[1]
        old = Pop3Settings(host="localhost", port=port, security="tls", username="me", password="pw",
                           ca_file=dovecot.ca_file, timeout=10.0)
        with pytest.raises(Pop3LinkLost) as failed:
            await Pop3Client.open(old)
        thread.join(10)
    assert str(failed.value) == (
        f"TLS with localhost:{port} failed: the server speaks only TLS older than 1.2, which mailbag does not"
        " use (not safe any more; TLSV1_ALERT_PROTOCOL_VERSION); its provider has to update it"
    )


def weak_certificate(dovecot: DovecotServer, tmp_path: Path, *, key_bits: int) -> tuple[Path, Path]:
    """A certificate for localhost from the fixture's CA (so that ca_file trusts its issuer),
    with a key of ``key_bits`` bits; (certificate, key) files."""
    ca_key = serialization.load_pem_private_key(dovecot.ca.private_key_pem.bytes(), None)
    ca_cert = x509.load_pem_x509_certificate(dovecot.ca.cert_pem.bytes())
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_bits)
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    cert_file, key_file = tmp_path / "weak.pem", tmp_path / "weak.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


async def test_a_certificate_with_a_short_key_is_refused_with_no_advice_to_set_ca_file(
    dovecot: DovecotServer, tmp_path: Path
) -> None:
    cert_file, key_file = weak_certificate(dovecot, tmp_path, key_bits=1024)
    listener, thread = tls_server(cert_file, key_file)
    with listener:
        port = listener.getsockname()[1]
        with pytest.raises(Pop3LinkLost) as failed:
            await Pop3Client.open(Pop3Settings(host="localhost", port=port, security="tls", username="me",
                                               password="pw", ca_file=dovecot.ca_file, timeout=10.0))
        thread.join(10)
    told = str(failed.value)
    assert f"certificate not trusted for localhost:{port} (" in told
    assert told.endswith("the server's certificate is too weak to trust (a short key or an old signature):"
                         " its administrator must replace it")
    assert "ca_file" not in told
