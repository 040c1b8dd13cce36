"""Servers that leave optional things out, played by the private Dovecot behind a proxy that
removes them from its answers: new mail is still found, and server search still reports it."""

from __future__ import annotations

import contextlib
import re
from itertools import count
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from mailbag.domain.events import MessagesChanged, RequestDone, SearchResults
from mailbag.domain.requests import Search
from mailbag.services import imap_account
from mailbag.services.imap_account import ImapAccount
from mailbag.store.store import Store
from tests.integration.accounts import Recorder, account_running, make_account, proxied_config
from tests.integration.proxy import Proxy
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.messages import make_message, subject_of

_SELECT_UIDNEXT = re.compile(rb"^\* OK \[UIDNEXT \d+\][^\r\n]*\r\n$", re.IGNORECASE)
_STATUS_UIDNEXT = re.compile(rb" ?UIDNEXT \d+", re.IGNORECASE)


def without_select_uidnext(line: bytes) -> bytes:
    """SELECT answers without their [UIDNEXT] (RFC 3501 6.3.1 lets a server leave it out)."""
    return b"" if _SELECT_UIDNEXT.match(line) else line


def without_any_uidnext(line: bytes) -> bytes:
    """No UIDNEXT anywhere: not in SELECT, not in STATUS either."""
    if line.upper().startswith(b"* STATUS"):
        return _STATUS_UIDNEXT.sub(b"", line).replace(b"( ", b"(")
    return without_select_uidnext(line)


@contextlib.asynccontextmanager
async def account_behind(
    dovecot: DovecotServer, user: MailUser, db: Path, rewrite: Callable[[bytes], bytes]
) -> AsyncIterator[tuple[ImapAccount, Store, Recorder]]:
    async with Proxy(dovecot.host, dovecot.imap_port, rewrite) as proxy:
        with Store.open(db) as store:
            events = Recorder()
            yield ImapAccount(proxied_config(user, proxy.port), store, events), store, events


@pytest.mark.parametrize("rewrite", [without_select_uidnext, without_any_uidnext])
async def test_new_mail_is_found_on_the_next_start_without_uidnext(
    dovecot, mail_user, tmp_path, rewrite
):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(20)))
    async with account_behind(dovecot, mail_user, tmp_path / "c.db", rewrite) as (account, store, _):
        await account.sync_once()
        assert store.counts("work", "INBOX") == (20, 20)
    for i in range(20, 23):
        dovecot.deliver(mail_user.name, make_message(i))

    async with account_behind(dovecot, mail_user, tmp_path / "c.db", rewrite) as (account, store, _):
        await account.sync_once()
        assert store.counts("work", "INBOX") == (23, 23)
        assert store.uids("work", "INBOX") == list(range(1, 24))


@pytest.mark.parametrize("rewrite", [without_select_uidnext, without_any_uidnext])
async def test_new_mail_shows_live_without_uidnext(dovecot, mail_user, tmp_path, rewrite):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(5)))
    async with account_behind(dovecot, mail_user, tmp_path / "c.db", rewrite) as (account, store, events):
        async with account_running(account):
            await events.wait_for(lambda e: isinstance(e, RequestDone), timeout=30)
            await events.wait_for(lambda _e: account.watcher is not None and account.watcher.ready.is_set())
            events.events.clear()
            dovecot.deliver(mail_user.name, make_message(5))
            await events.wait_for(
                lambda e: isinstance(e, MessagesChanged) and e.folder == "INBOX" and bool(e.added), timeout=30
            )
            assert store.uids("work", "INBOX") == list(range(1, 7))


async def test_server_search_reports_matches_the_cache_has_not_got_yet(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(10)))
    account, store, events = make_account(dovecot, mail_user, tmp_path / "c.db")
    await account.sync_once()
    # a message whose subject no other one holds, arriving while mailbag is not looking
    new = next(i for i in count(10) if not any(subject_of(i) in subject_of(j) for j in range(10)))
    dovecot.deliver(mail_user.name, make_message(new))
    await account.connect()
    try:
        request = Search(account="work", query=f'subject:"{subject_of(new)}"', folder="INBOX")
        await account.search(request)
    finally:
        await account.disconnect()
    results = events.of(SearchResults)
    assert results[-1].complete
    rows = store.rows([row for result in results for row in result.row_ids])
    assert [r.subject for r in rows] == [subject_of(new)]
    store.close()


async def test_server_search_fetches_only_the_newest_matches_the_cache_lacks(
    dovecot, mail_user, tmp_path, monkeypatch
):
    """One search cannot download a mailbox: past the limit, older matches the cache lacks stay
    on the server and are counted."""
    monkeypatch.setattr(imap_account, "SEARCH_FETCH_LIMIT", 3)
    dovecot.deliver(mail_user.name, b"Message-ID: <z0@example.test>\r\nSubject: zanzibar 0\r\n\r\nseen\r\n")
    account, store, events = make_account(dovecot, mail_user, tmp_path / "c.db")
    await account.sync_once()
    for n in range(1, 9):  # arriving while mailbag is not looking
        dovecot.deliver(mail_user.name, b"Message-ID: <z%d@example.test>\r\nSubject: zanzibar %d\r\n\r\nx\r\n" % (n, n))
    await account.connect()
    try:
        await account.search(Search(account="work", query="subject:zanzibar", folder="INBOX"))
    finally:
        await account.disconnect()
    (result,) = events.of(SearchResults)
    assert sorted(r.subject for r in store.rows(list(result.row_ids))) == [f"zanzibar {n}" for n in (0, 6, 7, 8)]
    assert result.more == 5 and result.complete
    assert store.counts("work", "INBOX")[0] == 4  # the five older ones were not downloaded
    store.close()
