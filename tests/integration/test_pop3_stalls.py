"""A POP3 server that stops answering (its path blackholed, a proxy paused, a server wedged), the
private Dovecot behind a proxy that stops forwarding: mailbag gives up after the account's
``timeout``, keeps what came before, says so, and the next check brings the rest once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailbag.domain.events import Event, MessagesChanged
from mailbag.protocols.pop3.client import Pop3Client, Pop3Settings
from mailbag.protocols.pop3.errors import Pop3LinkLost
from mailbag.services.pop3_account import Pop3Account
from mailbag.services.pop3_batches import BATCH
from mailbag.store.store import Store
from tests.integration.accounts import Recorder
from tests.integration.pop3_fixtures import expected_ids, local_ids, on_server, pop3_account
from tests.integration.proxy import Proxy
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.messages import make_message

pytestmark = pytest.mark.dovecot

TIMEOUT = 1.0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "cache.sqlite3")
    yield opened
    opened.close()


@pytest.mark.parametrize("security", ["tls", "starttls", "none"])
async def test_a_server_silent_from_the_start_is_given_up_after_the_timeout(
    dovecot: DovecotServer, mail_user: MailUser, security: str
) -> None:
    """Connected, but no TLS handshake, no greeting: an error naming the wait, no hang; a link
    that waits for a greeting in plain text says what a silent port may be (one for implicit
    TLS, which says nothing until TLS starts)."""
    port = dovecot.pop3s_port if security == "tls" else dovecot.pop3_port
    async with Proxy("127.0.0.1", port) as proxy:
        proxy.pause()
        settings = Pop3Settings(host="localhost", port=proxy.port, security=security, username=mail_user.name,
                                password=mail_user.password, ca_file=dovecot.ca_file, timeout=TIMEOUT)
        told = (f"did not answer within {TIMEOUT:g} s" if security == "tls" else
                f'no greeting from localhost:{proxy.port} within {TIMEOUT:g} s; a port for implicit TLS .* security = "tls"')
        with pytest.raises(Pop3LinkLost, match=told):
            await asyncio.wait_for(Pop3Client.open(settings), 30)  # a hang guard
        assert proxy.connections == 1


class Stalling(Recorder):
    """Records events; stops the proxy's traffic once the first batch is in the cache."""

    def __init__(self) -> None:
        super().__init__()
        self.proxy: Proxy | None = None

    def __call__(self, event: Event) -> None:
        super().__call__(event)
        if isinstance(event, MessagesChanged) and event.added and self.proxy is not None:
            self.proxy.pause()
            self.proxy = None


async def test_a_download_the_server_stops_answering_keeps_what_came_and_the_next_check_brings_the_rest(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store
) -> None:
    total = 4 * BATCH + 30  # of 30 kB each: more than the links' buffers hold once the first batch is here
    dovecot.deliver_many(mail_user.name, (make_message(i, size=30_000) for i in range(total)))
    recorder = Stalling()
    async with Proxy("127.0.0.1", dovecot.pop3s_port) as proxy:
        config = pop3_account(dovecot, mail_user, tmp_path / "Mail", port=proxy.port, timeout=TIMEOUT)
        assert config.maildir is not None
        worker = Pop3Account(config, config.maildir, store, recorder)
        recorder.proxy = proxy
        with pytest.raises(Pop3LinkLost, match=f"did not answer within {TIMEOUT:g} s"):
            await asyncio.wait_for(worker.sync_once(), 60)  # a hang guard
        part = store.counts("old", "INBOX")[0]
        assert BATCH <= part < total  # what came before the stall is kept
        assert len(local_ids(tmp_path / "Mail")) == part

        proxy.resume()
        await asyncio.wait_for(worker.sync_once(), 60)
    assert local_ids(tmp_path / "Mail") == expected_ids(range(total))
    assert store.counts("old", "INBOX")[0] == total
    assert on_server(dovecot, mail_user) == total
