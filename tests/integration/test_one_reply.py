"""Every request gets exactly one terminal reply, on every path: served, refused, unsupported, the
link lost while it runs, queued when the link drops, and the account stopping. Each path runs
against a Maildir account and against the private Dovecot (through a proxy that can stall and cut
the link)."""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from mailbag.domain.events import (
    TERMINAL,
    ConnectionChanged,
    Event,
    RequestCancelled,
    RequestDone,
    RequestFailed,
    RequestUnsupported,
)
from mailbag.domain.models import SEEN, ConnectionState
from mailbag.domain.requests import (
    AppendMessage,
    DeleteMessages,
    LoadBody,
    OpenFolder,
    Request,
    Search,
    SetFlags,
    SyncAccount,
)
from mailbag.protocols.maildir import MaildirStore
from mailbag.services.backend import Backend, Capability
from mailbag.services.imap_account import ImapAccount
from mailbag.services.maildir_account import MaildirAccount
from mailbag.services.scheduler import Timings
from mailbag.store.store import Store
from tests.integration.accounts import Recorder, account_running, proxied_config, stop
from tests.integration.proxy import Proxy
from tests.servers.messages import make_message

TIMINGS = Timings(backoff_base=0.05, backoff_cap=0.2, probe_seconds=0.05, quiet_seconds=0.5,
                  keepalive_timeout=1.0, idle_liveness_seconds=2.0)


@dataclass(frozen=True, kw_only=True)
class Unknown(Request):
    """A request no backend knows."""


class Setup:
    """A running account of one kind, with a way to lose its link."""

    account: Backend
    store: Store
    events: Recorder
    uid: int  # a message in the INBOX

    async def stall(self) -> None:
        """Make the next request meet the link's failure: it hangs on a server link (until
        :meth:`lose_link`), and fails at once on a local one."""
        raise NotImplementedError

    async def lose_link(self) -> None:
        raise NotImplementedError


class MaildirSetup(Setup):
    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path / "Mail"
        md = MaildirStore(self.root, "local", create=True)
        self.uid = md.add("INBOX", make_message(1))
        self.store = Store.open(tmp_path / "cache.db")
        self.events = Recorder()
        self.account = MaildirAccount("local", self.root, self.store, self.events, TIMINGS)

    async def stall(self) -> None:
        await self.lose_link()

    async def lose_link(self) -> None:
        if self.root.exists():  # the disk holding it is unmounted
            shutil.move(self.root, self.root.with_name("unmounted"))


class ImapSetup(Setup):
    def __init__(self, tmp_path: Path, dovecot, user, proxy: Proxy) -> None:
        dovecot.deliver(user.name, make_message(1))
        self.proxy = proxy
        config = proxied_config(user, proxy.port, name="local", timeout=5.0)
        self.store = Store.open(tmp_path / "cache.db")
        self.events = Recorder()
        self.account = ImapAccount(config, self.store, self.events, TIMINGS)

    async def stall(self) -> None:
        self.proxy.pause()

    async def lose_link(self) -> None:
        self.proxy.cut()
        self.proxy.resume()


@asynccontextmanager
async def running(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Setup, asyncio.Task[None]]]:
    async with AsyncExitStack() as stack:
        if kind == "maildir":
            setup: Setup = MaildirSetup(tmp_path)
        else:
            dovecot = request.getfixturevalue("dovecot")
            user = request.getfixturevalue("mail_user")
            proxy = await stack.enter_async_context(Proxy(dovecot.host, dovecot.imap_port))
            setup = ImapSetup(tmp_path, dovecot, user, proxy)
        stack.callback(setup.store.close)
        task = await stack.enter_async_context(account_running(setup.account))
        await setup.events.wait_for(lambda e: isinstance(e, RequestDone), timeout=30)  # first sync
        setup.uid = setup.store.uids("local", "INBOX")[0]
        yield setup, task


Expected = list[tuple[int, set[type[Event]]]]
"""Each request's id, and the kinds of terminal reply it may get."""


def answered(rid: int) -> Callable[[Event], bool]:
    """Whether an event is the terminal reply to request ``rid``."""
    return lambda e: isinstance(e, TERMINAL) and e.request_id == rid


def body(s: Setup, uid: int | None = None) -> LoadBody:
    return LoadBody(account="local", folder="INBOX", uid=s.uid if uid is None else uid)


async def served(s: Setup, task: asyncio.Task[None]) -> Expected:
    return [(s.account.submit(body(s)), {RequestDone})]


async def refused(s: Setup, task: asyncio.Task[None]) -> Expected:
    rid = s.account.submit(body(s, 999999))
    await s.events.wait_for(answered(rid))
    assert s.account.state == ConnectionState.ONLINE  # a refusal keeps the connection
    return [(rid, {RequestFailed})]


async def unsupported(s: Setup, task: asyncio.Task[None]) -> Expected:
    return [(s.account.submit(Unknown(account="local")), {RequestUnsupported})]


async def link_lost(s: Setup, task: asyncio.Task[None]) -> Expected:
    await s.stall()
    rid = s.account.submit(OpenFolder(account="local", folder="INBOX"))
    await asyncio.sleep(0.1)  # under way (on IMAP, stalled on the link)
    await s.lose_link()
    return [(rid, {RequestFailed})]


async def queue_dropped(s: Setup, task: asyncio.Task[None]) -> Expected:
    """The link drops with requests of every kind waiting behind the one that meets it."""
    await s.stall()
    first = s.account.submit(OpenFolder(account="local", folder="INBOX"))
    waiting = [
        s.account.submit(body(s)),
        s.account.submit(Search(account="local", query="subject:x")),
        s.account.submit(AppendMessage(account="local", folder="INBOX", raw=make_message(2))),
        s.account.submit(SyncAccount(account="local")),
    ]
    await asyncio.sleep(0.1)
    await s.lose_link()
    await s.events.wait_for(
        lambda e: isinstance(e, ConnectionChanged) and e.state == ConnectionState.ERROR
    )
    return [(rid, {RequestFailed}) for rid in [first, *waiting]]


async def shutdown(s: Setup, task: asyncio.Task[None]) -> Expected:
    """The account stops with a request under way, others queued and a triage action submitted."""
    await s.stall()
    ids = [
        s.account.submit(OpenFolder(account="local", folder="INBOX")),
        s.account.submit(body(s)),
        s.account.submit(Search(account="local", query="subject:x")),
        s.account.submit(AppendMessage(account="local", folder="INBOX", raw=make_message(2))),
    ]
    triage = s.account.submit(SetFlags(account="local", folder="INBOX", uids=(s.uid,),
                                       add=frozenset({SEEN})))
    await stop(s.account, task)
    after = s.account.submit(body(s))
    cancelled: Expected = [(rid, {RequestCancelled}) for rid in [*ids, after]]
    # the triage was applied in the cache just before the stop, or not
    return [*cancelled, (triage, {RequestDone, RequestCancelled})]


Path_ = Callable[[Setup, asyncio.Task[None]], Awaitable[Expected]]
PATHS: dict[str, Path_] = {
    "served": served,
    "refused": refused,
    "unsupported": unsupported,
    "link lost": link_lost,
    "queue dropped": queue_dropped,
    "shutdown": shutdown,
}


@pytest.mark.parametrize("kind", ["maildir", "imap"])
@pytest.mark.parametrize("path", list(PATHS))
async def test_exactly_one_terminal_reply_per_request(kind, path, tmp_path, request) -> None:
    async with running(kind, tmp_path, request) as (setup, task):
        expected = await PATHS[path](setup, task)
        for rid, _ in expected:
            await setup.events.wait_for(answered(rid), timeout=20)
    # the account has stopped: nothing more can come
    replies = [e for e in setup.events.events if isinstance(e, TERMINAL)]
    counts = Counter(e.request_id for e in replies)
    for rid, kinds in expected:
        assert counts[rid] == 1, f"request {rid} answered {counts[rid]} times"
        (reply,) = [e for e in replies if e.request_id == rid]
        assert type(reply) in kinds, f"request {rid}: {reply!r}"


class ReadOnlyMaildir(MaildirAccount):
    """A kind of account that can read but not store messages."""

    capabilities = MaildirAccount.capabilities - {Capability.APPEND, Capability.EXPUNGE}


async def test_what_a_backend_cannot_do_is_answered_unsupported_at_once(tmp_path) -> None:
    setup = MaildirSetup(tmp_path)
    events = Recorder()
    account = ReadOnlyMaildir("local", setup.root, setup.store, events, TIMINGS)
    append = account.submit(AppendMessage(account="local", folder="INBOX", raw=make_message(2)))
    expunge = account.submit(DeleteMessages(account="local", folder="INBOX", uids=(setup.uid,),
                                            permanent=True))
    trash = account.submit(DeleteMessages(account="local", folder="INBOX", uids=(setup.uid,)))
    assert [type(e) for e in events.events] == [RequestUnsupported, RequestUnsupported]
    unsupported = {e.request_id for e in events.of(RequestUnsupported)}
    assert unsupported == {append, expunge}
    assert trash not in unsupported  # moving to Trash it can do
    setup.store.close()
