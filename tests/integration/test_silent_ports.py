"""A port that accepts the link and says nothing, as one for implicit TLS does to a client that
waits for a greeting in plain text (``security = "starttls"`` on 993, 995 or 465): each protocol
gives up after the timeout and says what the silence may mean. A scripted server: it accepts and
stays silent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from mailbag.protocols.imap import ImapClient, ImapSettings
from mailbag.protocols.login import ServerLogin
from mailbag.protocols.pop3.client import Pop3Client, Pop3Settings
from mailbag.protocols.smtp.client import check_login

HINT = 'a port for implicit TLS (993, 995, 465) says nothing until TLS starts: then security = "tls"'


@asynccontextmanager
async def silent_port() -> AsyncIterator[int]:
    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client goes
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


async def connect(protocol: str, port: int, security: str) -> None:
    fields = dict(host="127.0.0.1", port=port, security=security, username="u", password="p", timeout=0.5)
    if protocol == "imap":
        await ImapClient(ImapSettings(**fields), "acct").connect()  # type: ignore[arg-type]
    elif protocol == "pop3":
        await Pop3Client.open(Pop3Settings(**fields))  # type: ignore[arg-type]
    else:
        await check_login(ServerLogin(**fields))  # type: ignore[arg-type]


@pytest.mark.parametrize("protocol", ["imap", "pop3", "smtp"])
@pytest.mark.parametrize("security", ["starttls", "none"])
async def test_a_silent_port_is_told_as_perhaps_one_for_implicit_tls(protocol: str, security: str) -> None:
    async with silent_port() as port:
        with pytest.raises(Exception) as failed:
            await asyncio.wait_for(connect(protocol, port, security), 30)  # a hang guard
    assert str(failed.value).startswith(f"no greeting from 127.0.0.1:{port} within 0.5 s; {HINT}")
