"""A POP3 server without UIDL (optional in RFC 1939): mailbag tells its messages apart by size
and header (TOP n 0), so each is downloaded once; without TOP either it says why it cannot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mailbag.domain.config import AccountConfig, ServerConfig
from mailbag.domain.events import NewMail
from mailbag.protocols.pop3.errors import Pop3Refused
from mailbag.services.pop3_account import Pop3Account
from mailbag.store.store import Store
from tests.integration.accounts import Recorder
from tests.servers.dovecot import DovecotServer
from tests.servers.pop3_script import Script, ScriptedPop3

pytestmark = pytest.mark.dovecot


def message(n: int) -> bytes:
    return f"Message-ID: <m{n}@scripted.test>\r\nSubject: message {n}\r\n\r\nbody {n}\r\n".encode()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "cache.sqlite3")
    yield opened
    opened.close()


def old_server(dovecot: DovecotServer, script: Script) -> Iterator[ScriptedPop3]:
    server = ScriptedPop3(dovecot, script).start()
    yield server
    server.stop()


def worker(server: ScriptedPop3, tmp_path: Path, store: Store) -> tuple[Pop3Account, Recorder]:
    pop3 = ServerConfig(host="localhost", port=server.port, security="none", username="me",
                        password_command="printf 'pw\\n'")
    config = AccountConfig(name="old", email="me@scripted.test", maildir=tmp_path / "Mail", pop3=pop3)
    assert config.maildir is not None
    recorder = Recorder()
    return Pop3Account(config, config.maildir, store, recorder), recorder


def downloaded(tmp_path: Path) -> list[bytes]:
    return sorted(path.read_bytes() for sub in ("new", "cur") for path in (tmp_path / "Mail" / sub).glob("*"))


async def test_without_uidl_each_message_is_downloaded_once(dovecot, tmp_path, store) -> None:
    script = Script(uidl=False, pipelining=False, messages=[message(n) for n in range(1, 4)])
    for server in old_server(dovecot, script):
        account, recorder = worker(server, tmp_path, store)
        await account.sync_once()
        await account.sync_once()  # nothing new: nothing twice
        assert store.counts("old", "INBOX")[0] == 3
        script.messages.append(message(4))
        await account.sync_once()
        assert downloaded(tmp_path) == sorted(message(n).replace(b"\r\n", b"\n") for n in range(1, 5))
        assert [(e.folder, e.count) for e in recorder.of(NewMail)] == [("INBOX", 1)]


async def test_without_uidl_or_top_nothing_is_downloaded_and_it_says_why(dovecot, tmp_path, store) -> None:
    script = Script(uidl=False, top=False, messages=[message(1)])
    for server in old_server(dovecot, script):
        account, _recorder = worker(server, tmp_path, store)
        with pytest.raises(Pop3Refused, match="neither UIDL nor TOP"):
            await account.sync_once()
        assert downloaded(tmp_path) == [] and store.counts("old", "INBOX")[0] == 0
