"""STARTTLS: nothing the server said before TLS is used after it (RFC 3501 6.2.1)."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest
import trustme

from mailbag.protocols.imap import ImapClient, ImapConnectionError, ImapSettings
from tests.integration.test_imap_faults import answer_all, command, serve

AFTER_TLS_CAPS = b"IMAP4rev1 AUTH=PLAIN SASL-IR"


@pytest.fixture
def tls_server(tmp_path: Path) -> tuple[ssl.SSLContext, str]:
    """A server context for 127.0.0.1 and the file of the throw-away CA that signed it."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return context, str(ca_file)


async def open_starttls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, caps: bytes,
                        extra: bytes = b"") -> None:
    """Greeting, CAPABILITY answered with ``caps`` (and the untagged lines ``extra``), STARTTLS OK."""
    writer.write(b"* OK fake ready\r\n")
    tag, _ = await command(reader)
    writer.write(b"* CAPABILITY " + caps + b"\r\n" + extra + tag + b" OK done\r\n")
    tag, _ = await command(reader)
    writer.write(tag + b" OK begin TLS\r\n")
    await writer.drain()


def starttls_settings(port: int, ca_file: str, host: str = "127.0.0.1") -> ImapSettings:
    return ImapSettings(host=host, port=port, security="starttls", username="u", password="p",
                        ca_file=ca_file, timeout=5.0)


async def test_logindisabled_before_tls_is_not_used_after_it_on_dovecot(dovecot, mail_user) -> None:
    # Dovecot's default disable_plaintext_auth = yes, for a client it does not count as local.
    settings = ImapSettings(host=dovecot.untrusted_host, port=dovecot.untrusted_imap_port,
                            security="starttls", username=mail_user.name, password=mail_user.password,
                            ca_file=str(dovecot.ca_file), timeout=30)
    client = ImapClient(settings, "work")
    await client.connect()
    try:
        assert "LOGINDISABLED" not in client.capabilities and "STARTTLS" not in client.capabilities
        assert "INBOX" in [folder.name for folder in await client.list_folders()]
    finally:
        await client.logout()


async def test_capabilities_and_pushes_from_before_tls_are_discarded(tls_server) -> None:
    server_context, ca_file = tls_server
    seen: list[bytes] = []

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await open_starttls(reader, writer, b"IMAP4rev1 STARTTLS LOGINDISABLED",
                            extra=b"* STATUS X (MESSAGES 1)\r\n* 7 EXISTS\r\n")
        await writer.start_tls(server_context)
        await answer_all(reader, writer, seen, AFTER_TLS_CAPS)

    server, port = await serve(script)
    async with server:
        client = ImapClient(starttls_settings(port, ca_file), "acct")
        await client.connect()
        assert [line.split()[1] for line in seen] == [b"CAPABILITY", b"AUTHENTICATE", b"CAPABILITY"]
        assert client.capabilities == {"IMAP4REV1", "AUTH=PLAIN", "SASL-IR"}
        assert client.pushes.empty()  # no STATUS of "X", no EXISTS from the plaintext link
        await client.logout()


async def test_bytes_between_starttls_ok_and_the_handshake_end_the_connection(tls_server) -> None:
    server_context, ca_file = tls_server
    seen: list[bytes] = []

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await open_starttls(reader, writer, b"IMAP4rev1 STARTTLS AUTH=PLAIN")
        writer.write(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n")  # a separate, later segment
        await writer.drain()
        seen.append(await reader.read())

    server, port = await serve(script)
    async with server:
        with pytest.raises(ImapConnectionError):
            await ImapClient(starttls_settings(port, ca_file), "acct").connect()
    assert b"AUTHENTICATE" not in b"".join(seen)


async def test_preauth_greeting_when_tls_is_required_is_refused_before_sending(tls_server) -> None:
    _server_context, ca_file = tls_server
    received: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* PREAUTH welcome back\r\n")
        await writer.drain()
        try:
            received.set_result(await reader.read())
        except ConnectionError:
            received.set_result(b"")

    server, port = await serve(script)
    async with server:
        with pytest.raises(ImapConnectionError, match="PREAUTH"):
            await ImapClient(starttls_settings(port, ca_file), "acct").connect()
        assert await received == b""  # the link was closed without a word
