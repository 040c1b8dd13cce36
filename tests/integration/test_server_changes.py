"""A hostile world against the private Dovecot (and a Maildir): what another client or the
administrator changes while mailbag runs or is closed (a password changed, a folder deleted and
made again, the link lost in the middle of a folder change)."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from pathlib import Path

import pytest

from mailbag.domain.events import (
    ActionApplied,
    ActionRolledBack,
    ConnectionChanged,
    ErrorReported,
    Notice,
    FoldersChanged,
    RequestDone,
    RequestFailed,
)
from mailbag.domain.models import FLAGGED, ConnectionState, FolderRole
from mailbag.domain.requests import (
    CreateFolder,
    DeleteFolder,
    DeleteMessages,
    LoadBody,
    MoveMessages,
    OpenFolder,
    RenameFolder,
    Request,
    RetryAccount,
    SetFlags,
)
from mailbag.protocols.maildir import MaildirStore
from mailbag.services.imap_account import ImapAccount
from mailbag.services.maildir_account import MaildirAccount
from mailbag.store.store import Store
from tests.integration.accounts import Recorder, account_running, imap_account_config
from tests.integration.journal_fixtures import CuttingProxy, proxied_account
from tests.integration.proxy import Proxy
from tests.integration.test_failure_policy import FAST, account_through, proxy_to, refused_logins, state_is
from tests.integration.test_live_triage import running, server_state, uid_of, until, watching
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.messages import make_message, message_id

pytestmark = pytest.mark.dovecot


async def test_a_password_changed_on_the_server_is_asked_for_once_and_nothing_is_lost(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path
) -> None:
    dovecot.deliver(mail_user.name, make_message(1))
    password = tmp_path / "password"
    password.write_text(mail_user.password)
    config = imap_account_config(dovecot, mail_user)
    assert config.imap is not None
    config = dataclasses.replace(config, imap=dataclasses.replace(config.imap, password_command=f"cat '{password}'"))
    with Store.open(tmp_path / "cache.db") as store:
        events = Recorder()
        account = ImapAccount(config, store, events, FAST)
        async with account_running(account):
            await events.wait_for_one(RequestDone, timeout=30)
            await watching(account)
            uid = store.uids("work", "INBOX")[0]
            changed = dovecot.set_password(mail_user, "changed-by-the-admin")
            log_start = dovecot.log_size()
            dovecot.kick(mail_user.name)  # both connections lost: each must log in again

            refused = await events.wait_for_one(ConnectionChanged, state_is(ConnectionState.ERROR, waiting=True))
            assert refused.detail.startswith("login refused:")
            account.submit(SetFlags(account="work", folder="INBOX", uids=(uid,), add=frozenset({FLAGGED})))
            await asyncio.sleep(1.5)  # many backoffs (10-20 ms) long: nothing may be retried
            assert refused_logins(dovecot, mail_user, log_start) == 1
            told = [e for e in events.of(ConnectionChanged) if e.detail.startswith("login refused")]
            assert len(told) == 1
            assert len(store.local.actions("work")) == 1  # the flag waits in the journal

            password.write_text(changed.password)  # the user fixes password_command's output
            account.submit(RetryAccount(account="work"))
            await events.wait_for(state_is(ConnectionState.ONLINE))
            await until(lambda: store.local.actions("work") == [], 15)
            await watching(account)
    assert server_state(dovecot, changed)[message_id(1)] == frozenset({b"\\Flagged"})


def _ids(store: Store, folder: str) -> dict[int, str | None]:
    """UID -> Message-ID of what the cache holds for ``folder``."""
    return {uid: summary.message_id for uid in store.uids("work", folder)
            if (summary := store.summary("work", folder, uid)) is not None}


async def test_a_folder_deleted_by_another_client_leaves_the_tree_and_the_cache(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path
) -> None:
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(3)), folder="Projects")
    async with proxy_to(dovecot) as proxy:
        async with account_through(proxy, mail_user, tmp_path, FAST) as (account, store, events):
            await events.wait_for_one(RequestDone, timeout=30)
            await until(lambda: len(store.uids("work", "Projects")) == 3, 15)
            await watching(account)
            account.submit(OpenFolder(account="work", folder="Projects"))  # the folder on screen
            await asyncio.sleep(0.3)
            dovecot.doveadm("mailbox", "delete", "-u", mail_user.name, "Projects")
            await until(lambda: "Projects" not in {f.name for f in store.folders("work")}, 15)
            assert store.uids("work", "Projects") == []
            told = await events.wait_for_one(Notice, lambda e: "Projects" in e.message)
            dovecot.deliver(mail_user.name, make_message(9))  # the account goes on
            await until(lambda: message_id(9) in _ids(store, "INBOX").values(), 15)
    assert told.message == "Projects was deleted or renamed by another program"
    assert "Projects" not in {f.name for f in events.of(FoldersChanged)[-1].folders}
    # Dovecot ends the session that had it open ("IMAP session state is inconsistent"): a new
    # one starts at once, and the account never shows as in error.
    assert not [e for e in events.of(ConnectionChanged) if e.state == ConnectionState.ERROR]
    assert [e.message for e in events.of(Notice)] == [told.message] and not events.of(ErrorReported)


async def test_actions_waiting_for_a_folder_recreated_meanwhile_are_taken_back_not_applied(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path
) -> None:
    """Triage made while the link was down waits in the journal; meanwhile another client
    deletes the folder and makes a new one of that name whose messages get the same UIDs. Once
    the link is back, no action lands on a new message, and the cache shows the new ones only."""
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(3)), folder="Projects")
    async with proxy_to(dovecot) as proxy:
        async with account_through(proxy, mail_user, tmp_path, FAST) as (account, store, events):
            await events.wait_for_one(RequestDone, timeout=30)
            await until(lambda: len(store.uids("work", "Projects")) == 3, 15)
            uids = sorted(store.uids("work", "Projects"))
            await proxy.down()
            await events.wait_for(state_is(ConnectionState.ERROR), timeout=20)
            account.submit(SetFlags(account="work", folder="Projects", uids=(uids[0],), add=frozenset({FLAGGED})))
            account.submit(MoveMessages(account="work", folder="Projects", uids=(uids[1],),
                                        target_role=FolderRole.ARCHIVE))
            account.submit(DeleteMessages(account="work", folder="Projects", uids=(uids[2],)))
            await until(lambda: len([e for e in events.of(ActionApplied) if not e.on_server]) == 3, 15)
            dovecot.doveadm("mailbox", "delete", "-u", mail_user.name, "Projects")
            dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(100, 103)), folder="Projects")
            before = server_state(dovecot, mail_user, "Projects")
            await proxy.up()
            await until(lambda: store.local.actions("work") == [], 20)
            new = {message_id(i) for i in range(100, 103)}
            await until(lambda: set(_ids(store, "Projects").values()) == new, 15)
            await asyncio.sleep(0.5)  # whatever else the reconnect does is over
            assert set(_ids(store, "Projects").values()) == new
            assert not _ids(store, "Archive") and not _ids(store, "Trash")
    assert server_state(dovecot, mail_user, "Projects") == before
    assert server_state(dovecot, mail_user, "Archive") == {}
    told = events.of(ActionRolledBack)
    assert len(told) == 3 and all("recreated" in e.reason for e in told)


@pytest.mark.parametrize("word", [b"CREATE", b"RENAME", b"DELETE"])
async def test_a_folder_change_whose_answer_the_link_lost_is_shown_as_the_server_has_it(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, word: bytes
) -> None:
    """The server made the change but the link dropped before its answer came: the request is
    answered, the tree shows what the server has once reconnected (told as mailbag's own doing,
    not another program's), the messages of a renamed folder are there, and the change asked
    again is refused in words that say it is done."""
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(2)), folder="Projects")
    request: Request = {
        b"CREATE": CreateFolder(account="work", name="Plans"),
        b"RENAME": RenameFolder(account="work", folder="Projects", new_name="Plans"),
        b"DELETE": DeleteFolder(account="work", folder="Projects"),
    }[word]
    expected = {b"CREATE": {"Projects", "Plans"}, b"RENAME": {"Plans"}, b"DELETE": set()}[word]
    db = tmp_path / "cache.sqlite3"
    async with CuttingProxy(dovecot.imap_port, b" " + word + b" ") as proxy:
        async with proxied_account(dovecot, mail_user, db, proxy) as (account, store, events):
            await events.wait_for_one(RequestDone, timeout=30)
            await until(lambda: len(store.uids("work", "Projects")) == 2, 15)
            account.submit(request)
            reply = await events.wait_for(lambda e: isinstance(e, (RequestDone, RequestFailed))
                                          and e.request_id == request.request_id, 30)
            lost = len(events.events)
            await until(lambda: any(map(state_is(ConnectionState.ONLINE), events.events[lost:])), 30)
            names = lambda: {f.name for f in store.folders("work")} - {  # noqa: E731
                "INBOX", "Drafts", "Sent", "Trash", "Junk", "Archive"}
            await until(lambda: names() == expected, 15)
            if word == b"RENAME":
                await until(lambda: len(store.uids("work", "Plans")) == 2, 15)
            again = dataclasses.replace(request, request_id=request.request_id + 1000)
            account.submit(again)
            second = await events.wait_for(lambda e: isinstance(e, (RequestDone, RequestFailed))
                                           and e.request_id == again.request_id, 30)
    assert proxy.times_cut == 1
    assert isinstance(reply, RequestFailed), reply
    assert "link" in reply.error or "connection" in reply.error, reply.error
    assert not [e for e in events.of(Notice) if "another program" in e.message]
    done = {b"CREATE": "Folder Plans created", b"RENAME": "Folder Projects renamed to Plans",
            b"DELETE": "Folder Projects deleted"}[word]
    assert done in [e.description for e in events.of(ActionApplied)]
    assert isinstance(second, RequestFailed) and second.error, second


async def test_a_body_opened_after_its_folder_was_recreated_is_never_another_messages(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path
) -> None:
    """The cache still lists the old folder's messages (no sync has run since another client
    recreated it); opening one must not fetch the new message that took its UID and show (or
    save) that one's body under the old one's headers."""
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(2)), folder="Projects")
    db = tmp_path / "cache.sqlite3"
    async with running(dovecot, mail_user, db) as (_account, store, _events):
        await until(lambda: len(store.uids("work", "Projects")) == 2, 15)
        uid = uid_of(store, "Projects", 0)
    dovecot.doveadm("mailbox", "delete", "-u", mail_user.name, "Projects")
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(100, 102)), folder="Projects")
    with Store.open(db) as store:
        events = Recorder()
        account = ImapAccount(imap_account_config(dovecot, mail_user), store, events)
        body = LoadBody(account="work", folder="Projects", uid=uid)
        account.submit(body)  # the first thing asked, ahead of the sync
        async with account_running(account):
            reply = await events.wait_for(lambda e: isinstance(e, (RequestDone, RequestFailed))
                                          and e.request_id == body.request_id, 30)
            await until(lambda: {message_id(100), message_id(101)} == set(_ids(store, "Projects").values()), 15)
            cached = [store.body("work", "Projects", u) for u in store.uids("work", "Projects")]
    assert isinstance(reply, RequestFailed), reply
    assert reply.error == "Projects was recreated meanwhile: its messages are read again"
    for raw in cached:  # a body cached is the one of the message it is cached for
        assert raw is None or message_id(0).encode() not in raw


async def test_a_body_opened_after_a_maildir_folder_was_recreated_is_never_another_messages(
    tmp_path: Path,
) -> None:
    """The same on a Maildir account, whose folder another program deleted and made anew (its
    UIDs start again from 1)."""
    root, db = tmp_path / "Mail", tmp_path / "cache.sqlite3"
    maildir = MaildirStore(root, "home", create=True)
    maildir.create_folder("Projects")
    uid = maildir.add("Projects", make_message(0))
    with Store.open(db) as store:
        events = Recorder()
        async with account_running(MaildirAccount("home", root, store, events)):
            await events.wait_for_one(RequestDone, timeout=30)
    shutil.rmtree(root / ".Projects")
    maildir = MaildirStore(root, "home")
    maildir.create_folder("Projects")
    assert maildir.add("Projects", make_message(100)) == uid
    with Store.open(db) as store:
        events = Recorder()
        account = MaildirAccount("home", root, store, events)
        body = LoadBody(account="home", folder="Projects", uid=uid)
        account.submit(body)  # the first thing asked, ahead of the sync
        async with account_running(account):
            reply = await events.wait_for(lambda e: isinstance(e, (RequestDone, RequestFailed))
                                          and e.request_id == body.request_id, 30)
            # read once per look: the sync may drop the row between two reads
            await until(lambda: getattr(store.summary("home", "Projects", uid), "message_id", None)
                        == message_id(100), 15)
            cached = store.body("home", "Projects", uid)
    assert isinstance(reply, RequestFailed), reply
    assert reply.error == "Projects was recreated meanwhile: its messages are read again"
    assert cached is None or message_id(100).encode() in cached


async def test_a_body_whose_fetch_loses_the_link_is_not_cached_in_part_and_comes_whole_on_retry(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path
) -> None:
    """A message not cached yet, with a large attachment (to be saved from it), opened as the
    link drops in the middle of its bytes: nothing of it is cached (an attachment saved from a
    part would be torn), the reader is told, and opening it again once reconnected gets it whole."""
    big = make_message(1, size=3_000_000, attachment=True)
    dovecot.deliver(mail_user.name, big)
    cut_once: list[Proxy] = []

    def cut_in_the_body(line: bytes) -> bytes:
        if b"BODY[] {" in line and cut_once:
            asyncio.get_running_loop().call_soon(cut_once.pop().cut)  # the literal is under way
        return line

    async with Proxy(dovecot.host, dovecot.imap_port, cut_in_the_body) as proxy:
        async with account_through(proxy, mail_user, tmp_path, FAST) as (account, store, events):
            await events.wait_for_one(RequestDone, timeout=30)
            uid = store.uids("work", "INBOX")[0]
            cut_once.append(proxy)
            first = LoadBody(account="work", folder="INBOX", uid=uid)
            account.submit(first)
            failed = await events.wait_for(lambda e: isinstance(e, (RequestDone, RequestFailed))
                                           and e.request_id == first.request_id, 30)
            assert store.body("work", "INBOX", uid) is None
            lost = len(events.events)
            await until(lambda: any(map(state_is(ConnectionState.ONLINE), events.events[lost:])), 30)
            again = LoadBody(account="work", folder="INBOX", uid=uid)
            account.submit(again)
            done = await events.wait_for(lambda e: isinstance(e, (RequestDone, RequestFailed))
                                         and e.request_id == again.request_id, 30)
            cached = store.body("work", "INBOX", uid)
    assert not cut_once  # the link was cut in the body's bytes
    assert isinstance(failed, RequestFailed) and failed.error, failed
    assert isinstance(done, RequestDone), done
    assert cached is not None and cached.endswith(big)  # whole (after the headers delivery added)


async def test_a_login_the_server_cannot_check_for_now_is_tried_again_by_itself(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path
) -> None:
    """``NO [UNAVAILABLE]`` to a login (RFC 5530: the server's password database is down, say)
    is not a refused password: the account is not left waiting for the user but tries again
    with backoff, and is back by itself once the server can check logins again."""
    unavailable = [True]

    def auth_down(line: bytes) -> bytes:
        if unavailable[0] and b" OK " in line and b"Logged in" in line:  # as Dovecot says it then
            return line.split(b" OK ", 1)[0] + b" NO [UNAVAILABLE] Temporary authentication failure.\r\n"
        return line

    dovecot.deliver(mail_user.name, make_message(1))
    async with Proxy(dovecot.host, dovecot.imap_port, auth_down) as proxy:
        async with account_through(proxy, mail_user, tmp_path, FAST) as (account, store, events):
            down = await events.wait_for_one(ConnectionChanged, state_is(ConnectionState.ERROR))
            await until(lambda: proxy.connections >= 3, 15)  # tried again, unasked
            assert not down.waiting_for_user
            assert "cannot check the login now" in down.detail and "refused" not in down.detail
            unavailable[0] = False  # the server's database is back
            await events.wait_for(state_is(ConnectionState.ONLINE), 30)
            await until(lambda: store.counts("work", "INBOX") == (1, 1), 15)
    assert not [e for e in events.of(ConnectionChanged) if e.waiting_for_user]


async def test_a_password_changed_while_only_the_live_update_link_drops_is_told(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path
) -> None:
    """The password changes on the server and only the second link (the one for live updates)
    drops: its login is refused. That is the account's login refused — told once, not left as
    an account that looks online but hears of no new mail — and fixed with retry."""
    password = tmp_path / "password"
    password.write_text(mail_user.password)
    async with proxy_to(dovecot) as proxy:
        async with account_through(proxy, mail_user, tmp_path, FAST, password) as (account, store, events):
            await events.wait_for_one(RequestDone, timeout=30)
            await watching(account)
            changed = dovecot.set_password(mail_user, "changed-by-the-admin")
            log_start = dovecot.log_size()
            proxy.cut_last()  # the live-update link
            refused = await events.wait_for_one(ConnectionChanged, state_is(ConnectionState.ERROR, waiting=True))
            assert refused.detail.startswith("login refused:")
            await asyncio.sleep(1.0)  # many backoffs (10-20 ms) long: nothing may be retried
            assert 1 <= refused_logins(dovecot, mail_user, log_start) <= 2  # each link's at most once

            password.write_text(changed.password)
            retried = len(events.events)
            account.submit(RetryAccount(account="work"))
            await until(lambda: any(map(state_is(ConnectionState.ONLINE), events.events[retried:])), 30)
            await watching(account)
            dovecot.deliver(mail_user.name, make_message(5))  # live updates work again
            await until(lambda: message_id(5) in _ids(store, "INBOX").values(), 15)
