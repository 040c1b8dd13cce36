"""On a server without NOTIFY (the private Dovecot's listener that offers none), mail arriving in a
folder other than the watched one shows on a schedule while the user keeps working, and at once
when the app asks (it regained focus, the folder tree was opened)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from mailbag.domain.config import AccountConfig, ServerConfig
from mailbag.domain.events import FolderCountsChanged, RequestDone
from mailbag.domain.requests import CheckFolders, LoadBody, OpenFolder
from mailbag.services.imap_account import ImapAccount
from mailbag.store.store import Store
from tests.integration.accounts import Recorder, account_running
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.messages import make_message


@contextlib.asynccontextmanager
async def running_account(
    dovecot: DovecotServer, user: MailUser, store: Store, poll_seconds: int
) -> AsyncIterator[tuple[ImapAccount, Recorder]]:
    server = ServerConfig(host=dovecot.no_notify_host, port=dovecot.no_notify_imap_port, security="none",
                          username=user.name, password_command=f"printf '%s\\n' '{user.password}'",
                          poll_seconds=poll_seconds)
    events = Recorder()
    account = ImapAccount(AccountConfig(name="work", email=user.email, imap=server), store, events)
    async with account_running(account):
        await events.wait_for(lambda e: isinstance(e, RequestDone), timeout=30)  # the first sync
        await events.wait_for(lambda _e: account.watcher is not None and account.watcher.ready.is_set())
        assert account.watcher is not None and not account.watcher.notify_active
        yield account, events


def projects_count(total: int):
    return lambda e: isinstance(e, FolderCountsChanged) and e.folder == "Projects" and e.total == total


async def test_other_folders_are_checked_on_schedule_while_the_user_works(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(5)))
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(10, 12)), folder="Projects")
    with Store.open(tmp_path / "c.db") as store:
        async with running_account(dovecot, mail_user, store, poll_seconds=1) as (account, events):
            uid = store.uids("work", "INBOX")[0]

            async def work() -> None:
                """Open the Inbox and read, again and again: the account is never quiet."""
                while True:
                    account.submit(OpenFolder(account="work", folder="INBOX"))
                    account.submit(LoadBody(account="work", folder="INBOX", uid=uid))
                    await asyncio.sleep(0.1)

            user = asyncio.create_task(work())
            try:
                dovecot.deliver(mail_user.name, make_message(12), folder="Projects")
                await events.wait_for(projects_count(3), timeout=60)
            finally:
                user.cancel()
        assert store.counts("work", "Projects") == (3, 3)


async def test_the_app_asks_and_other_folders_are_checked(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(10, 12)), folder="Projects")
    with Store.open(tmp_path / "c.db") as store:
        async with running_account(dovecot, mail_user, store, poll_seconds=3600) as (account, events):
            # reading a message of Projects selects it on the command connection: STATUS of a
            # selected folder may tell only what the server has let that connection see
            body = account.submit(LoadBody(account="work", folder="Projects", uid=1))
            await events.wait_for(lambda e: isinstance(e, RequestDone) and e.request_id == body)
            dovecot.deliver(mail_user.name, make_message(12), folder="Projects")

            check = account.submit(CheckFolders(account="work"))  # the app regained focus
            await events.wait_for(lambda e: getattr(e, "request_id", None) == check)
            assert RequestDone(check) in events.events
            await events.wait_for(projects_count(3), timeout=30)
        assert events.of(FolderCountsChanged)[-1] == FolderCountsChanged("work", "Projects", 3, 3)


async def test_a_check_asked_while_offline_is_answered_at_once_without_an_error(tmp_path):
    server = ServerConfig(host="127.0.0.1", port=1, security="none", username="u",
                          password_command="printf 'x\\n'")
    events = Recorder()
    with Store.open(tmp_path / "c.db") as store:
        account = ImapAccount(AccountConfig(name="work", email="u@example.test", imap=server), store, events)
        check = account.submit(CheckFolders(account="work"))
    assert events.events == [RequestDone(check)]
