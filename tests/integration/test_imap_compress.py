"""COMPRESS=DEFLATE (RFC 4978): against a Dovecot that offers it, the link is compressed and
everything works on it as on a plain one (a folder's headers, a big message, APPEND with its
literal, flags, IDLE), in several times fewer bytes; against one that does not, or with
``compress = false``, it is not asked for. A server whose compressed stream is broken, or that
refuses COMPRESS, is handled as any other fault (scripted: Dovecot does neither)."""

from __future__ import annotations

import asyncio
import dataclasses
import zlib

import pytest

from mailbag.protocols.imap import FromUid, ImapClient, ImapConnectionError, ImapSessionEnded, ImapSettings
from mailbag.protocols.imap.protocol import INFLATE_CHUNK
from tests.integration.proxy import Proxy
from tests.integration.test_imap_idle import Watcher
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.messages import make_message, subject_of
from tests.servers.scripted import ScriptedServer

pytestmark = pytest.mark.dovecot

COUNT = 200


def settings(dovecot: DovecotServer, user: MailUser, host: str, port: int, compress: bool = True) -> ImapSettings:
    return ImapSettings(host=host, port=port, security="tls", username=user.name, password=user.password,
                        ca_file=str(dovecot.ca_file), timeout=30, compress=compress)


async def read_folder(client: ImapClient, big_uid: int) -> tuple[list[str], bytes]:
    await client.select("INBOX")
    subjects = [s.subject async for batch in client.fetch_summaries(FromUid(1)) for s in batch]
    return subjects, await client.fetch_body(big_uid)


async def test_a_compressed_link_works_throughout_in_fewer_bytes(dovecot: DovecotServer, mail_user: MailUser) -> None:
    dovecot.deliver_many(mail_user.name, [make_message(i, size=4000) for i in range(1, COUNT + 1)])
    big = make_message(COUNT + 1, size=3 * INFLATE_CHUNK)  # inflated in several pieces
    dovecot.deliver_many(mail_user.name, [big])
    read: dict[bool, tuple[list[str], bytes]] = {}
    carried: dict[bool, int] = {}
    for compress in (False, True):
        async with Proxy(dovecot.compress_host, dovecot.compress_imaps_port) as proxy:
            client = ImapClient(settings(dovecot, mail_user, "127.0.0.1", proxy.port, compress), "work")
            await client.connect()
            assert client.compressed is compress
            read[compress] = await read_folder(client, COUNT + 1)
            await client.logout()
            carried[compress] = proxy.from_server
    assert read[True] == read[False]
    assert read[True][0] == [subject_of(i) for i in range(1, COUNT + 2)]
    assert read[True][1].replace(b"\r\n", b"\n") == big.replace(b"\r\n", b"\n")
    assert carried[True] * 3 < carried[False], carried  # test messages are less compressible than mail

    client = ImapClient(settings(dovecot, mail_user, dovecot.compress_host, dovecot.compress_imaps_port), "work")
    await client.connect()
    try:
        assert client.compressed
        uid = await client.append("INBOX", make_message(COUNT + 2, size=100_000), flags=["\\Seen"])
        await client.select("INBOX")
        await client.store_flags([1], add=["\\Flagged"])
        flagged = [s for batch in [b async for b in client.fetch_summaries(FromUid(1))] for s in batch
                   if "\\Flagged" in s.flags]
        assert [s.uid for s in flagged] == [1]
        assert uid == COUNT + 2
        watcher = Watcher(client)
        await watcher.started()
        try:
            await asyncio.to_thread(dovecot.deliver, mail_user.name, make_message(COUNT + 3))
            _at, push = await watcher.next(("EXISTS",))
            assert push.number == COUNT + 3
        finally:
            await watcher.stop()
    finally:
        await client.logout()


async def test_a_session_the_server_ends_is_told_as_on_a_plain_link(dovecot: DovecotServer, mail_user: MailUser) -> None:
    """Dovecot ends its compressed stream after the BYE of a session whose folder went away:
    that is the session ended, as on a plain link, not a broken stream."""
    dovecot.ensure_folder(mail_user.name, "Projects")
    client = ImapClient(settings(dovecot, mail_user, dovecot.compress_host, dovecot.compress_imaps_port), "work")
    await client.connect()
    assert client.compressed
    await client.select("Projects")
    dovecot.doveadm("mailbox", "delete", "-u", mail_user.name, "Projects")
    with pytest.raises(ImapSessionEnded, match="deleted or renamed by another program"):
        for _ in range(100):  # the server tells at the next command after it noticed
            await client.noop()
            await asyncio.sleep(0.05)


async def test_compress_is_asked_only_of_a_server_that_offers_it_and_not_when_the_config_says_no(
    dovecot: DovecotServer, mail_user: MailUser
) -> None:
    sent: list[bytes] = []

    def heard(line: bytes) -> bytes:
        sent.append(line)
        return line

    async with Proxy(dovecot.host, dovecot.imap_port, None, heard) as proxy:  # no COMPRESS offered
        plain = dataclasses.replace(settings(dovecot, mail_user, "127.0.0.1", proxy.port), security="none")
        client = ImapClient(plain, "work")
        await client.connect()
        await client.select("INBOX")
        await client.logout()
    assert not client.compressed and b"LOGOUT" in b"".join(sent).upper()
    assert b"COMPRESS" not in b"".join(sent).upper()
    client = ImapClient(settings(dovecot, mail_user, dovecot.compress_host, dovecot.compress_imaps_port,
                                 compress=False), "work")
    await client.connect()
    try:
        assert not client.compressed
        await client.select("INBOX")
    finally:
        await client.logout()


# --- servers Dovecot will not play ------------------------------------------------------------


class CompressingServer(ScriptedServer):
    """Logs in, offers COMPRESS=DEFLATE and answers it as ``answer`` says: ``ok`` (then a
    compressed [ALERT] in the same write as the OK, and compressed answers), ``no`` (a refusal;
    the session goes on in plain text) or ``garbage`` (OK, then bytes that are no DEFLATE)."""

    def __init__(self, certificate: object, answer: str) -> None:
        super().__init__(certificate)  # type: ignore[arg-type]
        self.answer = answer
        self.commands: list[bytes] = []

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK scripted ready\r\n")
        inflater: zlib._Decompress | None = None
        deflater: zlib._Compress | None = None
        pending = b""

        def send(data: bytes) -> None:
            if deflater is not None:
                data = deflater.compress(data) + deflater.flush(zlib.Z_SYNC_FLUSH)
            writer.write(data)

        while True:
            while b"\r\n" not in pending:
                chunk = await reader.read(4096)
                if not chunk:
                    return
                pending += inflater.decompress(chunk) if inflater is not None else chunk
            line, pending = pending.split(b"\r\n", 1)
            self.commands.append(line)
            tag, _, rest = line.partition(b" ")
            verb = rest.split(b" ")[0].upper()
            if verb == b"CAPABILITY":
                send(b"* CAPABILITY IMAP4rev1 COMPRESS=DEFLATE\r\n" + tag + b" OK done\r\n")
            elif verb == b"COMPRESS" and self.answer == "no":
                send(tag + b" NO [COMPRESSIONACTIVE] not now\r\n")
            elif verb == b"COMPRESS":
                writer.write(tag + b" OK deflate active\r\n" + (b"\x00garbage, not deflate" * 10
                             if self.answer == "garbage" else b""))
                if self.answer == "garbage":
                    await writer.drain()
                    while await reader.read(4096):  # until the client gives up on the link
                        pass
                    return
                inflater, deflater = zlib.decompressobj(-15), zlib.compressobj(wbits=-15)
                send(b"* OK [ALERT] compressed hello\r\n")
            elif verb == b"LOGOUT":
                send(b"* BYE bye\r\n" + tag + b" OK logged out\r\n")
                await writer.drain()
                return
            elif verb == b"LIST":
                send(b'* LIST (\\HasNoChildren) "/" INBOX\r\n' + tag + b" OK done\r\n")
            else:
                send(tag + b" OK done\r\n")
            await writer.drain()


def scripted_settings(server: ScriptedServer) -> ImapSettings:
    return ImapSettings(host=server.host, port=server.port, security="none", username="u", password="p",
                        timeout=10)


@pytest.mark.parametrize("answer", ["ok", "no"])
async def test_a_compressed_alert_in_the_same_read_as_the_ok_and_a_refusal_are_both_read(
    dovecot: DovecotServer, answer: str
) -> None:
    server = CompressingServer(dovecot, answer).start()
    alerts: list[str] = []
    try:
        client = ImapClient(scripted_settings(server), "work", on_alert=alerts.append)
        await client.connect()
        assert client.compressed is (answer == "ok")
        assert [f.name for f in await client.list_folders()] == ["INBOX"]
        await client.logout()
    finally:
        server.stop()
    assert alerts == (["compressed hello"] if answer == "ok" else [])
    verbs = [c.split(b" ")[1].upper() for c in server.commands]
    assert b"LIST" in verbs and verbs[-1] == b"LOGOUT"  # read by the server through the inflater, or plain


async def test_a_broken_compressed_stream_is_a_link_error_and_the_next_link_goes_plain(dovecot: DovecotServer) -> None:
    server = CompressingServer(dovecot, "garbage").start()
    try:
        client = ImapClient(scripted_settings(server), "work")
        with pytest.raises(ImapConnectionError, match="compressed data cannot be read"):
            await client.connect()
            await client.list_folders()
        asked = sum(1 for c in server.commands if b"COMPRESS" in c)
        client = ImapClient(scripted_settings(server), "work")  # as the reconnect after it
        await client.connect()
        assert not client.compressed
        assert [f.name for f in await client.list_folders()] == ["INBOX"]
        await client.logout()
        assert sum(1 for c in server.commands if b"COMPRESS" in c) == asked == 1
    finally:
        server.stop()
