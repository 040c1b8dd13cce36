"""A small TCP proxy for fault tests: it forwards bytes to a real server and can be paused (the
sockets stay open but nothing flows, as on a path that answers TCP keepalives only), cut (every
connection dropped), taken down (nothing listens) and brought up again on the same port. It can
also rewrite the lines an IMAP server sends (to leave out what some servers do not send), and the
lines its client sends (to play a server that names things otherwise)."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable

#: A line of an IMAP answer that announces a literal: its bytes follow the line as they are.
_LITERAL = re.compile(rb"\{(\d+)\+?\}\r\n$")


class Proxy:
    """Forwards 127.0.0.1:``port`` to ``target_host``:``target_port``; counts connections."""

    def __init__(
        self, target_host: str, target_port: int, rewrite: Callable[[bytes], bytes] | None = None,
        rewrite_sent: Callable[[bytes], bytes] | None = None,
    ) -> None:
        self.target = (target_host, target_port)
        self.rewrite = rewrite  # applied to each line the server sends (literals pass unchanged)
        self.rewrite_sent = rewrite_sent  # ... and to each line the client sends
        self.port = 0
        self.connections = 0  # accepted since start
        self.from_server = 0  # bytes the server sent, forwarded (TLS records and all)
        self._server: asyncio.base_events.Server | None = None
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._links: list[asyncio.StreamWriter] = []  # the client side of each link, in order
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> Proxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aenter__(self) -> Proxy:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def pause(self) -> None:
        """Stop forwarding bytes, keeping every socket open (new connections stall too)."""
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    @property
    def open_links(self) -> int:
        """How many links are open now (each a client's connection to the server)."""
        return len(self._links)

    def cut(self) -> None:
        """Drop every connection at once (both sides see a reset)."""
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def cut_last(self) -> None:
        """Drop only the connection made last (an account's second link, say)."""
        if self._links:
            self._links.pop().transport.abort()

    async def down(self) -> None:
        """Cut every connection and stop listening: connecting is refused."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self.cut()

    async def up(self) -> None:
        """Listen again on the same port."""
        await self.start()

    async def close(self) -> None:
        await self.down()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)  # a cut while the link is being made drops it too
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target, limit=1 << 22)
        except OSError:
            writer.transport.abort()
            self._writers.discard(writer)
            return
        if writer not in self._writers:  # cut (or the proxy taken down) meanwhile
            up_writer.transport.abort()
            return
        self._writers.add(up_writer)
        self._links.append(writer)
        pipes = [
            asyncio.create_task(self._pipe(reader, up_writer, self.rewrite_sent)),
            asyncio.create_task(self._pipe(up_reader, writer, self.rewrite, downstream=True)),
        ]
        self._tasks.update(pipes)
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pipes:
                task.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)
            self._tasks.difference_update(pipes)
            for side in (writer, up_writer):
                side.transport.abort()
                self._writers.discard(side)
            if writer in self._links:
                self._links.remove(writer)

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        rewrite: Callable[[bytes], bytes] | None = None,
        downstream: bool = False,
    ) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            async for data in _chunks(reader) if rewrite is None else _lines(reader, rewrite):
                if downstream:
                    self.from_server += len(data)
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()


async def _chunks(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    while data := await reader.read(65536):
        yield data


async def _lines(reader: asyncio.StreamReader, rewrite: Callable[[bytes], bytes]) -> AsyncIterator[bytes]:
    while line := await reader.readline():
        yield rewrite(line)
        if (literal := _LITERAL.search(line)) is not None:
            yield await reader.readexactly(int(literal.group(1)))
