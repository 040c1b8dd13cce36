"""The IMAP client against small scripted servers: what a real server will not do on demand."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from mailbag.domain.config import Security, parse_config
from mailbag.protocols.imap import ImapClient, ImapConnectionError, ImapError, ImapSettings
from mailbag.services.imap_account import ImapAccount
from mailbag.store.store import Store

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
CAPS = b"IMAP4rev1 AUTH=PLAIN SASL-IR"


async def serve(script: Script) -> tuple[asyncio.base_events.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await script(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


@contextlib.asynccontextmanager
async def logged_in(script: Script) -> AsyncIterator[ImapClient]:
    """A client connected and logged in to a server playing ``script``; logged out after."""
    server, port = await serve(script)
    async with server:
        client = ImapClient(settings(port), "acct")
        await client.connect()
        try:
            yield client
        finally:
            await client.logout()


async def command(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    line = await reader.readline()
    tag, _, rest = line.rstrip(b"\r\n").partition(b" ")
    return tag, rest


async def login_dialogue(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, caps: bytes = CAPS) -> None:
    """Greeting, CAPABILITY, AUTHENTICATE, CAPABILITY."""
    writer.write(b"* OK fake ready\r\n")
    for _ in range(3):
        tag, rest = await command(reader)
        if rest.upper().startswith(b"CAPABILITY"):
            writer.write(b"* CAPABILITY " + caps + b"\r\n" + tag + b" OK done\r\n")
        else:
            writer.write(tag + b" OK logged in\r\n")


async def answer_all(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: list[bytes],
                     caps: bytes = CAPS) -> None:
    """Answer every command OK (CAPABILITY with ``caps``) until the client leaves; keep each line."""
    while line := await reader.readline():
        seen.append(line)
        tag, _, rest = line.partition(b" ")
        if rest.upper().startswith(b"CAPABILITY"):
            writer.write(b"* CAPABILITY " + caps + b"\r\n" + tag + b" OK done\r\n")
        else:
            writer.write(tag + b" OK whatever\r\n")


def settings(port: int, security: Security = "none", timeout: float = 2.0) -> ImapSettings:
    return ImapSettings(host="127.0.0.1", port=port, security=security, username="u", password="p",
                        timeout=timeout)


async def test_starttls_required_but_not_offered_is_refused() -> None:
    seen: list[bytes] = []

    async def script(reader, writer):
        writer.write(b"* OK fake ready\r\n")
        await answer_all(reader, writer, seen)

    server, port = await serve(script)
    async with server:
        client = ImapClient(settings(port, "starttls"), "acct")
        with pytest.raises(ImapConnectionError, match="STARTTLS"):
            await client.connect()
    assert not any(b"AUTHENTICATE" in line or b"LOGIN" in line for line in seen)


async def test_starttls_refused_by_server_is_an_error() -> None:
    async def script(reader, writer):
        writer.write(b"* OK fake ready\r\n")
        tag, _ = await command(reader)
        writer.write(b"* CAPABILITY IMAP4rev1 STARTTLS\r\n" + tag + b" OK done\r\n")
        tag, _ = await command(reader)
        writer.write(tag + b" NO not today\r\n")
        await reader.read()

    server, port = await serve(script)
    async with server:
        with pytest.raises(ImapConnectionError, match="not today"):
            await ImapClient(settings(port, "starttls"), "acct").connect()


async def test_stalled_server_times_out() -> None:
    async def script(reader, writer):
        await login_dialogue(reader, writer)
        await command(reader)  # SELECT: never answered
        await asyncio.sleep(10)

    server, port = await serve(script)
    async with server:
        client = ImapClient(settings(port, timeout=0.5), "acct")
        await client.connect()
        with pytest.raises(ImapConnectionError, match="no answer"):  # the client's timeout, not a close
            await client.select("INBOX")
        with pytest.raises(ImapConnectionError):
            await client.noop()


async def test_silent_server_at_greeting_times_out() -> None:
    async def script(reader, writer):
        await reader.read()  # accepts, never greets

    server, port = await serve(script)
    async with server:
        with pytest.raises(ImapConnectionError, match=rf"^no greeting from 127\.0\.0\.1:{port} within 0\.5 s; a port for implicit TLS .* security = \"tls\"$"):
            await ImapClient(settings(port, timeout=0.5), "acct").connect()


async def test_account_timeout_comes_from_the_config(tmp_path) -> None:
    async def script(reader, writer):
        await reader.read()

    server, port = await serve(script)
    text = (f'[accounts.work]\nemail = "me@example.org"\n[accounts.work.imap]\nhost = "127.0.0.1"\n'
            f'port = {port}\nsecurity = "none"\npassword_env = "MAILBAG_TEST_PASSWORD"\ntimeout = 1\n')
    config = parse_config(text, tmp_path / "config.toml")
    store = Store.open(tmp_path / "cache.db")
    account = ImapAccount(config.accounts["work"], store, lambda event: None)
    try:
        async with server:
            with pytest.raises(ImapConnectionError, match=rf"^no greeting from 127\.0\.0\.1:{port} within 1 s; a port for implicit TLS"):
                with pytest.MonkeyPatch.context() as patch:
                    patch.setenv("MAILBAG_TEST_PASSWORD", "p")
                    await account.connect()
    finally:
        store.close()


async def _selected(reader, writer) -> None:
    await login_dialogue(reader, writer)
    tag, _ = await command(reader)
    writer.write(b"* 3000 EXISTS\r\n* OK [UIDVALIDITY 9] ok\r\n* OK [UIDNEXT 3001] ok\r\n" + tag + b" OK [READ-WRITE] selected\r\n")


async def test_link_dropped_mid_fetch_raises() -> None:
    async def script(reader, writer):
        await _selected(reader, writer)
        await command(reader)
        for uid in range(1, 1201):
            writer.write(b"* %d FETCH (UID %d FLAGS (\\Seen))\r\n" % (uid, uid))
        writer.write(b"* 1201 FETCH (UID 1201 FLAGS (\\Se")
        await writer.drain()
        writer.transport.abort()

    server, port = await serve(script)
    async with server:
        client = ImapClient(settings(port), "acct")
        await client.connect()
        await client.select("INBOX")
        received = []
        with pytest.raises(ImapConnectionError):
            async for batch in client.fetch_flags(batch_size=500):
                received.extend(batch)
        # Every complete response before the break is delivered, then the error.
        assert [uid for uid, _flags, _modseq in received] == list(range(1, 1201))


async def test_stream_in_one_response_of_many_lines_and_pushes() -> None:
    async def script(reader, writer):
        await _selected(reader, writer)
        tag, _ = await command(reader)
        chunks = [b"* %d FETCH (UID %d FLAGS (\\Seen $x) MODSEQ (%d))\r\n" % (i, i * 2, i) for i in range(1, 3001)]
        # news about other messages in the middle of a UID FETCH (RFC 3501 7.4.1 allows EXPUNGE)
        chunks.insert(1500, b"* 3001 EXISTS\r\n* 7 FETCH (FLAGS (\\Deleted))\r\n* 9 EXPUNGE\r\n")
        writer.write(b"".join(chunks) + tag + b" OK fetched\r\n")
        tag, _ = await command(reader)
        writer.write(tag + b" NO [CANNOT] nope \x1b[2J\r\n")
        await reader.read()

    server, port = await serve(script)
    async with server:
        client = ImapClient(settings(port), "acct")
        await client.connect()
        result = await client.select("INBOX")
        assert (result.uidvalidity, result.uidnext, result.exists) == (9, 3001, 3000)
        batches = [batch async for batch in client.fetch_flags(batch_size=1000)]
        assert [len(b) for b in batches] == [1000, 1000, 1000]
        assert batches[2][-1] == (6000, frozenset({"\\Seen", "$x"}), 3000)
        pushes = [client.pushes.get_nowait() for _ in range(client.pushes.qsize())]
        assert [(p.kind, p.number) for p in pushes] == [("EXISTS", 3001), ("FETCH", 7), ("EXPUNGE", 9)]
        assert pushes[1].flags == frozenset({"\\Deleted"})
        with pytest.raises(ImapError) as failure:
            await client.noop()
        assert "nope" in str(failure.value) and "\x1b" not in str(failure.value)
        assert not isinstance(failure.value, ImapConnectionError)


async def test_data_injected_after_starttls_ok_is_refused() -> None:
    async def script(reader, writer):
        writer.write(b"* OK fake ready\r\n")
        tag, _ = await command(reader)
        writer.write(b"* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN\r\n" + tag + b" OK done\r\n")
        tag, _ = await command(reader)
        writer.write(tag + b" OK begin TLS\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n")
        await reader.read()

    server, port = await serve(script)
    async with server:
        with pytest.raises(ImapConnectionError):
            await ImapClient(settings(port, "starttls"), "acct").connect()


async def test_memory_stays_flat_while_a_slow_consumer_streams_a_huge_folder() -> None:
    import tracemalloc

    total = 40_000

    async def script(reader, writer):
        await _selected(reader, writer)
        tag, _ = await command(reader)
        for start in range(1, total + 1, 1000):
            writer.write(b"".join(b"* %d FETCH (UID %d FLAGS (\\Seen \\Answered $Label%d) MODSEQ (%d))\r\n"
                                  % (i, i, i, i) for i in range(start, start + 1000)))
            await writer.drain()
        writer.write(tag + b" OK fetched\r\n")
        await reader.read()

    server, port = await serve(script)
    async with server:
        # Traced allocations slow the process down many times over: on a loaded machine a
        # stretch of the stream can take longer than the 2 s the fault tests give a silent server.
        client = ImapClient(settings(port, timeout=60.0), "acct")
        await client.connect()
        await client.select("INBOX")
        tracemalloc.start()
        seen = 0
        async for batch in client.fetch_flags(batch_size=500):
            seen += len(batch)
            await asyncio.sleep(0.002)  # a consumer slower than the link
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert seen == total
    # Kept all at once, 40k (uid, flags, modseq) entries take well over 10 MB.
    assert peak < 4 * 1024 * 1024


async def _give_up_a_command_then_log_out() -> None:
    noop_seen = asyncio.Event()

    async def script(reader, writer):
        await login_dialogue(reader, writer)
        await command(reader)  # the NOOP, never answered
        noop_seen.set()
        await reader.read()  # nor anything after it

    server, port = await serve(script)
    async with server:
        client = ImapClient(settings(port, timeout=0.5), "acct")
        await client.connect()
        noop = asyncio.create_task(client.noop())
        await noop_seen.wait()
        noop.cancel()
        with pytest.raises(asyncio.CancelledError):
            await noop
        await client.logout()
        with pytest.raises(ImapConnectionError):
            await client.noop()  # the link is gone: the next command says so at once


def test_logout_after_a_command_was_given_up_ends_once_that_command_times_out() -> None:
    """A command whose caller was cancelled (mailbag quitting during a stalled request) still
    holds the link when LOGOUT comes; once it times out, LOGOUT must end. (It spun on the event
    loop, so quitting hung: the scenario runs on a thread of its own to be seen failing.)"""
    outcome: list[BaseException | None] = []

    def scenario() -> None:
        try:
            asyncio.run(_give_up_a_command_then_log_out())
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=scenario, daemon=True)
    thread.start()
    thread.join(60)  # a generous bound on a hang: the scenario takes half a second
    assert outcome, "LOGOUT never ended"
    if outcome[0] is not None:
        raise outcome[0]
