"""How an account meets failures, by kind. IMAP against the private Dovecot through a proxy that
can stall, cut and refuse the link: a refused login is not retried on its own, a silently dead link
is noticed, actions taken offline reach the server as soon as it is back, and a refused command
keeps the connection. A bug or a cache fault is told in one line and the account carries on."""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from mailbag.domain.config import parse_config
from mailbag.domain.events import (
    ActionApplied,
    ActionRolledBack,
    ConnectionChanged,
    ErrorReported,
    Event,
    RequestDone,
    RequestFailed,
)
from mailbag.domain.models import FLAGGED, ConnectionState
from mailbag.domain.requests import (
    DeleteMessages,
    LoadBody,
    MoveMessages,
    RetryAccount,
    Search,
    SetFlags,
    SyncAccount,
)
from mailbag.protocols.maildir import MaildirStore
from mailbag.services.imap_account import ImapAccount
from mailbag.services.maildir_account import MaildirAccount
from mailbag.services.scheduler import Timings
from mailbag.store.store import Store
from tests.cache_reads import cached_flags
from tests.integration.accounts import Recorder, account_running, other_client, proxied_config
from tests.integration.proxy import Proxy
from tests.integration.test_live_triage import server_state, until, watching
from tests.servers.dovecot import DovecotServer
from tests.servers.messages import make_message, message_id

#: Intervals shrunk so that each behaviour shows many times over in a short test.
FAST = Timings(backoff_base=0.01, backoff_cap=0.02, probe_seconds=0.05, quiet_seconds=0.3,
               keepalive_timeout=0.5, idle_liveness_seconds=1.0)


@asynccontextmanager
async def account_through(
    proxy: Proxy, user, tmp_path: Path, timings: Timings, password_file: Path | None = None
) -> AsyncIterator[tuple[ImapAccount, Store, Recorder]]:
    password = f"cat '{password_file}'" if password_file is not None else None
    config = proxied_config(user, proxy.port, password_command=password, timeout=1.0)
    with Store.open(tmp_path / "cache.db") as store:
        events = Recorder()
        account = ImapAccount(config, store, events, timings)
        async with account_running(account):
            yield account, store, events


def proxy_to(dovecot: DovecotServer) -> Proxy:
    """A proxy in front of Dovecot's plain IMAP port."""
    return Proxy(dovecot.host, dovecot.imap_port)


@asynccontextmanager
async def maildir_account(
    tmp_path: Path, *other_folders: str
) -> AsyncIterator[tuple[MaildirAccount, Store, Recorder, int]]:
    """A running Maildir account holding one message in INBOX (its uid comes last) and one in
    each of ``other_folders``, synced once."""
    root = tmp_path / "Mail"
    maildir = MaildirStore(root, "local", create=True)
    for number, folder in enumerate(other_folders, start=2):
        maildir.create_folder(folder)
        maildir.add(folder, make_message(number))
    uid = maildir.add("INBOX", make_message(1))
    with Store.open(tmp_path / "cache.db") as store:
        events = Recorder()
        account = MaildirAccount("local", root, store, events, FAST)
        async with account_running(account):
            await events.wait_for(lambda e: isinstance(e, RequestDone))
            yield account, store, events, uid


def refused_logins(dovecot, user, offset: int) -> int:
    """How many logins of ``user`` the server refused, from its log."""
    return sum("auth failed" in line and f"user=<{user.name}>" in line
               for line in dovecot.log_text(offset).splitlines())


def state_is(state: ConnectionState, *, waiting: bool | None = None) -> Callable[[Event], bool]:
    def check(event: Event) -> bool:
        return (isinstance(event, ConnectionChanged) and event.state == state
                and (waiting is None or event.waiting_for_user == waiting))
    return check


async def test_what_waited_for_an_account_that_cannot_connect_fails_naming_the_account(dovecot, mail_user, tmp_path):
    """A message opened while its account is connecting to a server that says nothing: its
    failure names the account (with several, "offline" alone says not which) and the reason."""
    async with proxy_to(dovecot) as proxy:
        proxy.pause()
        async with account_through(proxy, mail_user, tmp_path, FAST) as (account, _store, events):
            body = account.submit(LoadBody(account="work", folder="INBOX", uid=1))
            failed = await events.wait_for_one(RequestFailed, lambda e: e.request_id == body)
    assert failed.error.startswith(f"work offline: no greeting from {dovecot.host}:{proxy.port} within 1 s"), failed


async def test_a_refused_login_is_tried_once_and_again_only_when_asked(dovecot, mail_user, tmp_path):
    dovecot.deliver(mail_user.name, make_message(1))
    password = tmp_path / "password"
    password.write_text("wrong")
    log_start = dovecot.log_size()
    async with proxy_to(dovecot) as proxy:
        async with account_through(proxy, mail_user, tmp_path, FAST, password) as (account, store, events):
            refused = await events.wait_for_one(ConnectionChanged, state_is(ConnectionState.ERROR, waiting=True))
            assert refused.detail.startswith("login refused:")
            assert "retry" in refused.detail
            # a period in which the backoff (10-20 ms) would have retried dozens of times
            await asyncio.sleep(1.0)
            assert proxy.connections == 1
            assert refused_logins(dovecot, mail_user, log_start) == 1
            # what needs the server is refused at once, not left waiting
            body = account.submit(LoadBody(account="work", folder="INBOX", uid=1))
            failed = [e for e in events.events if isinstance(e, RequestFailed) and e.request_id == body]
            assert failed == [RequestFailed(body, f"work: {refused.reason}; fix the password, then retry")]

            events.events.clear()
            retry = account.submit(RetryAccount(account="work"))
            assert RequestDone(retry) in events.events
            await events.wait_for(state_is(ConnectionState.ERROR, waiting=True))
            await asyncio.sleep(0.5)
            assert proxy.connections == 2
            assert refused_logins(dovecot, mail_user, log_start) == 2

            password.write_text(mail_user.password)  # the user fixes the password and retries
            account.submit(RetryAccount(account="work"))
            await events.wait_for(state_is(ConnectionState.ONLINE))
            await until(lambda: store.counts("work", "INBOX") == (1, 1), 15)


async def test_a_silently_dead_link_is_noticed_and_offline_triage_replayed(dovecot, mail_user, tmp_path):
    """The path stops carrying bytes but the sockets stay open (as when TCP keepalives are
    answered and nothing else flows): the account notices, shows it, and replays what the user
    did meanwhile once bytes flow again."""
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(3)))
    async with proxy_to(dovecot) as proxy:
        async with account_through(proxy, mail_user, tmp_path, FAST) as (account, store, events):
            await events.wait_for(lambda e: isinstance(e, RequestDone), timeout=30)
            await watching(account)  # both links are up
            await asyncio.sleep(1.0)  # and quiet: the look at every folder that follows is over
            events.events.clear()
            proxy.pause()
            await events.wait_for(state_is(ConnectionState.ERROR), timeout=20)
            uid = store.uids("work", "INBOX")[0]
            account.submit(SetFlags(account="work", folder="INBOX", uids=(uid,),
                                    add=frozenset({FLAGGED})))
            await events.wait_for(lambda e: isinstance(e, ActionApplied) and not e.on_server)
            proxy.resume()
            await events.wait_for(state_is(ConnectionState.ONLINE), timeout=20)
            await events.wait_for(lambda e: isinstance(e, ActionApplied) and e.on_server, timeout=20)
    flagged = [mid for mid, flags in server_state(dovecot, mail_user).items() if b"\\Flagged" in flags]
    assert len(flagged) == 1 and flagged[0] in {message_id(i) for i in range(3)}


async def test_the_link_check_intervals_of_the_config_are_the_ones_used(
    dovecot, mail_user, tmp_path, monkeypatch
):
    """keepalive_seconds and keepalive_timeout of an [imap] table decide when a silent link is
    checked and given up: the status bar names the configured wait."""
    monkeypatch.setenv("MAILBAG_TEST_PASSWORD", mail_user.password)
    checked = asyncio.Event()

    def noticing_checks(line: bytes) -> bytes:
        if b" OK NOOP" in line:
            checked.set()  # a link check was answered: the account had nothing else to do
        return line

    async with Proxy(dovecot.host, dovecot.imap_port, noticing_checks) as proxy:
        text = (f'[accounts.work]\nemail = "{mail_user.email}"\n[accounts.work.imap]\n'
                f'host = "127.0.0.1"\nport = {proxy.port}\nsecurity = "none"\n'
                f'username = "{mail_user.name}"\npassword_env = "MAILBAG_TEST_PASSWORD"\n'
                "keepalive_seconds = 5\nkeepalive_timeout = 3\n")
        config = parse_config(text, tmp_path / "config.toml").accounts["work"]
        with Store.open(tmp_path / "cache.db") as store:
            events = Recorder()
            account = ImapAccount(config, store, events)
            async with account_running(account):
                await asyncio.wait_for(checked.wait(), 60)
                proxy.pause()  # the path stops carrying bytes; the next check gets no answer
                lost = await events.wait_for_one(ConnectionChanged, state_is(ConnectionState.ERROR), 60)
                proxy.resume()
    assert lost.detail == "no answer from the server within 3 s"


async def test_offline_triage_reaches_a_server_that_comes_back_without_waiting_out_the_backoff(
    dovecot, mail_user, tmp_path
):
    """While the server cannot be reached, its port is probed; when it answers again the account
    reconnects at once and replays, however long the backoff had grown."""
    slow_backoff = Timings(backoff_base=3600.0, backoff_cap=7200.0, probe_seconds=0.05,
                           quiet_seconds=0.3, keepalive_timeout=0.5, idle_liveness_seconds=1.0)
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(2)))
    async with proxy_to(dovecot) as proxy:
        async with account_through(proxy, mail_user, tmp_path, slow_backoff) as (account, store, events):
            await events.wait_for(lambda e: isinstance(e, RequestDone), timeout=30)
            events.events.clear()
            await proxy.down()
            await events.wait_for(state_is(ConnectionState.ERROR), timeout=20)
            uid = store.uids("work", "INBOX")[0]
            account.submit(SetFlags(account="work", folder="INBOX", uids=(uid,),
                                    add=frozenset({FLAGGED})))
            await events.wait_for(lambda e: isinstance(e, ActionApplied) and not e.on_server)
            await asyncio.sleep(0.3)  # a few probes find nothing listening
            await proxy.up()
            await events.wait_for(state_is(ConnectionState.ONLINE), timeout=20)
            await events.wait_for(lambda e: isinstance(e, ActionApplied) and e.on_server, timeout=20)
    assert sum(b"\\Flagged" in flags for flags in server_state(dovecot, mail_user).values()) == 1


async def test_an_action_on_a_folder_deleted_on_the_server_does_not_make_the_account_reconnect(
    dovecot, mail_user, tmp_path
):
    """Its SELECT is refused: that is told, and the account stays connected (it used to reconnect
    about once a second for ever, running password_command each time)."""
    dovecot.ensure_folder(mail_user.name, "Projects")
    dovecot.deliver(mail_user.name, make_message(1), folder="Projects")
    async with proxy_to(dovecot) as proxy:
        async with account_through(proxy, mail_user, tmp_path, FAST) as (account, store, events):
            await events.wait_for(lambda e: isinstance(e, RequestDone), timeout=30)
            await watching(account)
            connections = proxy.connections
            uid = store.uids("work", "Projects")[0]
            other = other_client(dovecot, mail_user)
            other.delete("Projects")
            other.logout()
            events.events.clear()
            account.submit(SetFlags(account="work", folder="Projects", uids=(uid,),
                                    add=frozenset({FLAGGED})))
            await events.wait_for(lambda e: isinstance(e, ActionRolledBack) and "SELECT" in e.reason)
            await asyncio.sleep(1.0)  # dozens of reconnects with the old policy and this backoff
            assert not [e for e in events.of(ConnectionChanged) if e.state == ConnectionState.ERROR]
            assert proxy.connections == connections
            assert account.state == ConnectionState.ONLINE


@pytest.mark.parametrize(
    ("fault", "told", "traceback_logged"),
    [
        (RuntimeError("boom"), "internal error: boom (details in the log)", True),
        (sqlite3.OperationalError("database or disk is full"),
         "local cache problem: database or disk is full", False),
    ],
)
async def test_a_bug_or_a_cache_fault_is_told_in_one_line_and_the_account_carries_on(
    tmp_path, caplog, monkeypatch, fault, told, traceback_logged
):
    async with maildir_account(tmp_path) as (account, store, events, uid):

        def failing(*args: object) -> None:
            raise fault

        monkeypatch.setattr(store, "put_body", failing)
        with caplog.at_level(logging.INFO, logger="mailbag"):
            first = account.submit(LoadBody(account="local", folder="INBOX", uid=uid))
            await events.wait_for(lambda e: isinstance(e, ErrorReported))
        assert RequestFailed(first, str(fault), told=True) in events.events  # told as the error below
        assert ErrorReported("local", told) in events.events
        logged = [r for r in caplog.records if r.exc_info]
        assert bool(logged) is traceback_logged
        monkeypatch.undo()
        again = account.submit(LoadBody(account="local", folder="INBOX", uid=uid))
        await events.wait_for(lambda e: getattr(e, "request_id", None) == again)
        assert RequestDone(again) in events.events
        assert account.state == ConnectionState.ONLINE


async def test_a_sync_that_fails_without_losing_the_link_ends_online(tmp_path, monkeypatch):
    """The status bar does not stay on "syncing" after a sync stopped by a refusal."""
    async with maildir_account(tmp_path) as (account, store, events, _):

        async def refused(first: str | None = None) -> None:
            raise KeyError("no such folder: Gone")

        monkeypatch.setattr(account, "sync_all", refused)
        sync = account.submit(SyncAccount(account="local"))
        await events.wait_for(lambda e: getattr(e, "request_id", None) == sync)
        assert isinstance(events.events[-1], ErrorReported)
        states = [e.state for e in events.of(ConnectionChanged)]
        assert states[-2:] == [ConnectionState.SYNCING, ConnectionState.ONLINE]
        assert account.state == ConnectionState.ONLINE


async def test_a_server_search_that_does_not_parse_is_refused_in_one_line(
    dovecot, mail_user, tmp_path, caplog
):
    """A mistyped query is the user's to fix, not a bug: its error is told as it is, no
    traceback is logged, and the account stays connected."""
    async with proxy_to(dovecot) as proxy:
        async with account_through(proxy, mail_user, tmp_path, FAST) as (account, store, events):
            await events.wait_for(lambda e: isinstance(e, RequestDone), timeout=30)
            with caplog.at_level(logging.INFO, logger="mailbag"):
                search = account.submit(Search(account="work", query="from:"))
                await events.wait_for(lambda e: getattr(e, "request_id", None) == search)
            assert RequestFailed(search, "from: needs a value", told=True) in events.events
            assert ErrorReported("work", "from: needs a value") in events.events
            assert not [r for r in caplog.records if r.exc_info]
            assert account.state == ConnectionState.ONLINE


async def test_maildir_actions_on_a_folder_gone_or_missing_are_rolled_back_and_told(tmp_path):
    """As an IMAP server's NO: a move to a folder that does not exist, and a flag change or a
    permanent delete in a folder removed by another program, are rolled back once with the reason,
    not retried; the account stays online."""
    async with maildir_account(tmp_path, "Projects") as (account, store, events, kept):
        (doomed,) = store.uids("local", "Projects")
        shutil.rmtree(account.root / ".Projects")
        account.submit(MoveMessages(account="local", folder="INBOX", uids=(kept,), target="Nowhere"))
        account.submit(SetFlags(account="local", folder="Projects", uids=(doomed,),
                                add=frozenset({FLAGGED})))
        account.submit(DeleteMessages(account="local", folder="Projects", uids=(doomed,),
                                      permanent=True))
        await events.wait_for(lambda e: len(events.of(ActionRolledBack)) == 3)
        await until(lambda: store.local.actions("local") == [], 10)
        told = events.of(ActionRolledBack)
        assert "Nowhere" in told[0].description and "Nowhere" in told[0].reason
        assert all("Projects" in e.reason for e in told[1:])
        assert store.uids("local", "INBOX") == [kept] and store.counts("local", "INBOX") == (1, 1)
        assert cached_flags(store, "local", "Projects", doomed) == frozenset()
        assert account.state == ConnectionState.ONLINE
        assert MaildirStore(account.root, "local").flags("INBOX") == {kept: frozenset()}


async def test_a_refusal_never_overtakes_the_local_change_it_takes_back(tmp_path, monkeypatch):
    """A replay that starts while a move is still being applied to the cache waits for it: the
    refused move's rollback comes after the row was hidden, so the row shows again (when the
    rollback ran first, the move hid the row afterwards, until a sync happened to show it again)."""
    async with maildir_account(tmp_path, "Projects") as (account, store, events, kept):
        entered, release = threading.Event(), threading.Event()
        set_hidden = store.set_hidden

        def slow_set_hidden(
            name: str, folder: str, uids: Iterable[int], hidden: bool, target: str = ""
        ) -> int:
            if hidden:
                entered.set()
                release.wait(30)
            return set_hidden(name, folder, uids, hidden, target)

        monkeypatch.setattr(store, "set_hidden", slow_set_hidden)
        account.submit(MoveMessages(account="local", folder="INBOX", uids=(kept,), target="Nowhere"))
        await asyncio.to_thread(entered.wait, 30)
        account.poke()  # a replay now would find the move recorded but its cache change not done
        for _ in range(20):
            await asyncio.sleep(0.01)
        rolled_back_early = events.of(ActionRolledBack)
        release.set()
        await events.wait_for(lambda e: isinstance(e, ActionRolledBack))
        await until(lambda: store.local.actions("local") == [], 10)
        assert store.uids("local", "INBOX") == [kept] and store.counts("local", "INBOX") == (1, 1)
        assert rolled_back_early == []  # the replay waited for the move to be in the cache
