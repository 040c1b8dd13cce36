"""The live-update connection does not reconnect in a loop: a refused login is not resent, a
folder it cannot watch (deleted on the server) gives way to the Inbox, and a cut link is made
again only once the command connection has answered. Against the private Dovecot."""

from __future__ import annotations

import asyncio

from mailbag.protocols.imap import ImapSettings
from mailbag.services.imap_watch import IdleWatcher
from mailbag.services.scheduler import Timings
from tests.integration.test_failure_policy import refused_logins

FAST = Timings(backoff_base=0.01, backoff_cap=0.02)


class WatchedAccount:
    """What the watcher needs of its account, and what it did to it."""

    name = "work"
    timings = FAST

    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        self.links_checked = 0
        self.refusals: list[str] = []
        self.dirty: list[str] = []

    async def current_settings(self) -> ImapSettings:
        return self.settings

    def check_link(self) -> asyncio.Event:
        """As a command connection that is alive: it answers at once."""
        self.links_checked += 1
        answered = asyncio.Event()
        answered.set()
        return answered

    def login_refused(self, reason: str) -> None:
        self.refusals.append(reason)

    def mark_dirty(self, folder: str) -> None:
        self.dirty.append(folder)

    async def selectable_folders(self) -> list[str]:
        return ["INBOX"]


def settings(host: str, port: int, user, password: str) -> ImapSettings:
    return ImapSettings(host=host, port=port, security="none", username=user.name,
                        password=password, timeout=5.0)


async def test_a_refused_login_on_the_watcher_link_is_not_resent(dovecot, mail_user) -> None:
    log_start = dovecot.log_size()
    account = WatchedAccount(settings(dovecot.host, dovecot.imap_port, mail_user, "wrong"))
    watcher = IdleWatcher(account)  # type: ignore[arg-type]
    await asyncio.wait_for(watcher.run(), 20)  # it ends instead of trying again and again
    assert account.links_checked == 1  # the command connection is asked to look at its own
    assert len(account.refusals) == 1 and "wrong user name or password" in account.refusals[0]  # and told
    await asyncio.sleep(0.3)
    assert refused_logins(dovecot, mail_user, log_start) == 1


async def test_a_folder_that_cannot_be_watched_gives_way_to_the_inbox(dovecot, mail_user) -> None:
    """On a server without NOTIFY the watcher follows the open folder; once that folder is gone
    it watches the Inbox instead of reconnecting to the missing folder for ever."""
    account = WatchedAccount(
        settings(dovecot.no_notify_host, dovecot.no_notify_imap_port, mail_user, mail_user.password)
    )
    watcher = IdleWatcher(account)  # type: ignore[arg-type]
    watcher.watch("Deleted meanwhile")
    task = asyncio.create_task(watcher.run())
    try:
        await asyncio.wait_for(watcher.ready.wait(), 20)
        assert watcher.folder == "INBOX"
        assert account.links_checked == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_cut_link_is_made_again_only_once_the_command_connection_has_answered(dovecot, mail_user) -> None:
    """Both links cut at once (the session kicked, a server restarted): the command connection
    logs in again first, so that a password changed meanwhile is tried once, not once per link.
    The watcher waits for its answer before it logs in again."""
    account = WatchedAccount(settings(dovecot.host, dovecot.imap_port, mail_user, mail_user.password))
    answered = asyncio.Event()
    account.check_link = lambda: answered  # type: ignore[method-assign]  # the command link, not answering yet
    watcher = IdleWatcher(account)  # type: ignore[arg-type]
    task = asyncio.create_task(watcher.run())
    try:
        await asyncio.wait_for(watcher.ready.wait(), 20)
        logins = dovecot.log_text().count(f"Login: user=<{mail_user.name}>")
        dovecot.kick(mail_user.name)
        for _ in range(100):  # the link seen cut
            if not watcher.ready.is_set():
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.5)  # many backoffs long
        assert not watcher.ready.is_set()
        assert dovecot.log_text().count(f"Login: user=<{mail_user.name}>") == logins  # no login meanwhile
        answered.set()  # the command connection answered: the login works
        await asyncio.wait_for(watcher.ready.wait(), 20)
        for _ in range(250):  # Dovecot's log is written by a process of its own
            if dovecot.log_text().count(f"Login: user=<{mail_user.name}>") == logins + 1:
                break
            await asyncio.sleep(0.02)
        assert dovecot.log_text().count(f"Login: user=<{mail_user.name}>") == logins + 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
