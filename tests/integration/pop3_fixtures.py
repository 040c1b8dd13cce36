"""Helpers for POP3 accounts against the private Dovecot: configs, the server's count, the
local Maildir's messages."""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path

from mailbag.domain.config import AccountConfig, Security, ServerConfig
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.messages import message_id

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>]+>)", re.IGNORECASE | re.MULTILINE)


def pop3_server(dovecot: DovecotServer, user: MailUser, security: Security = "tls", **changes: object) -> ServerConfig:
    port = dovecot.pop3s_port if security == "tls" else dovecot.pop3_port
    values: dict[str, object] = dict(
        host="localhost", port=port, security=security, username=user.name,
        password_command=f"printf '%s\\n' '{user.password}'", ca_file=dovecot.ca_file,
    )
    values.update(changes)
    return ServerConfig(**values)  # type: ignore[arg-type]


def pop3_account(
    dovecot: DovecotServer, user: MailUser, maildir: Path, security: Security = "tls", **changes: object
) -> AccountConfig:
    return AccountConfig(
        name="old", email=user.email, default=True, maildir=maildir,
        pop3=pop3_server(dovecot, user, security, **changes),
    )


def on_server(dovecot: DovecotServer, user: MailUser) -> int:
    """How many messages the user's INBOX holds on the server."""
    out = dovecot.doveadm("mailbox", "status", "-u", user.name, "messages", "INBOX")
    return int(out.split("=")[1])


def local_ids(root: Path) -> list[str]:
    """The Message-IDs of every message file in the Maildir tree (every folder), sorted."""
    ids: list[str] = []
    for sub in ("new", "cur"):
        for path in root.glob(f"**/{sub}/*"):
            ids += message_ids(path.read_bytes()) or [f"(none: {path.name})"]
    return sorted(ids)


def message_ids(raw: bytes) -> list[str]:
    """The Message-ID of a message, as a list (empty without one)."""
    match = _MESSAGE_ID.search(raw)
    return [match.group(1).decode()] if match else []


def expected_ids(numbers: range) -> list[str]:
    return sorted(message_id(i) for i in numbers)


class QuitHolder:
    """Forwards plain-text POP3 from mailbag to Dovecot, counting the DELE commands it passes on.
    While ``hold`` is set a client's QUIT after DELE commands is not passed on (a session that
    deleted nothing ends as usual): ``quit_held`` is set and the link
    stays open, unanswered, until the client goes; then the server's side is dropped without
    QUIT (so the server forgets every DELE)."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.hold = True
        self.deletes = 0
        self.quit_held = asyncio.Event()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> QuitHolder:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
        for link in list(self._links):
            link.cancel()
        await asyncio.gather(*self._links, return_exceptions=True)

    async def closed(self) -> None:
        """Wait until every link it carried has ended on both sides."""
        await asyncio.gather(*list(self._links), return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._links.add(task)
        up_reader, up_writer = await asyncio.open_connection(*self.target)

        async def answers() -> None:
            while data := await up_reader.read(65536):
                writer.write(data)
                await writer.drain()

        async def commands() -> None:
            while line := await reader.readline():
                command = line.upper()
                if command.startswith(b"QUIT") and self.hold and self.deletes:
                    self.quit_held.set()
                    while await reader.read(65536):
                        pass  # until the client is gone
                    return
                if command.startswith(b"DELE "):
                    self.deletes += 1
                up_writer.write(line)
                await up_writer.drain()

        pipes = [asyncio.create_task(answers()), asyncio.create_task(commands())]
        try:
            with contextlib.suppress(OSError):
                await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in pipes:
                pipe.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)
            for side in (writer, up_writer):
                side.transport.abort()
