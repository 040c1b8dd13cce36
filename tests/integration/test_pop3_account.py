"""A POP3 account over the private Dovecot's POP3: what is downloaded lands in the local Maildir
and the cache once, whatever is run again; the server keeps or loses mail as configured."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path

import pytest

from mailbag.domain.events import (
    BodyLoaded, ConnectionChanged, ErrorReported, MessagesChanged, NewMail, Notice, SyncProgress,
)
from mailbag.domain.models import ConnectionState, MessageSummary
from mailbag.domain.requests import LoadBody
from mailbag.protocols.maildir import MaildirStore
from mailbag.services import pop3_batches
from mailbag.services.pop3_account import Pop3Account
from mailbag.services.pop3_batches import BATCH
from mailbag.services.scheduler import Timings
from mailbag.store.store import Store
from tests.integration.accounts import Recorder, stop
from tests.integration.pop3_fixtures import expected_ids, local_ids, message_ids, on_server, pop3_account
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.messages import make_message, message_id

pytestmark = pytest.mark.dovecot


def account(dovecot: DovecotServer, user: MailUser, tmp_path: Path, store: Store, security: str = "tls",
            timings: Timings | None = None, **changes: object) -> tuple[Pop3Account, Recorder]:
    recorder = Recorder()
    config = pop3_account(dovecot, user, tmp_path / "Mail", security, **changes)  # type: ignore[arg-type]
    assert config.maildir is not None
    return Pop3Account(config, config.maildir, store, recorder, timings), recorder


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "cache.sqlite3")
    yield opened
    opened.close()


def cached(store: Store) -> int:
    return store.counts("old", "INBOX")[0]


@pytest.fixture
def other_store(tmp_path: Path) -> Iterator[Store]:
    """The same cache, opened by a second mailbag (a ``mailbag sync`` beside the client)."""
    opened = Store.open(tmp_path / "cache.sqlite3")
    yield opened
    opened.close()


async def two_mailbags(
    dovecot: DovecotServer, user: MailUser, tmp_path: Path, store: Store, other_store: Store
) -> tuple[tuple[Pop3Account, Recorder], tuple[Pop3Account, Recorder]]:
    """Two workers of one POP3 account, each in its own mailbag, both connected."""
    first = account(dovecot, user, tmp_path, store)
    second = account(dovecot, user, tmp_path, other_store)
    await asyncio.gather(first[0].connect(), second[0].connect())
    return first, second


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_download_is_local_once_and_left_on_the_server(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store, security: str
) -> None:
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(300)))
    worker, recorder = account(dovecot, mail_user, tmp_path, store, security)
    await worker.sync_once()
    assert cached(store) == 300
    assert local_ids(tmp_path / "Mail") == expected_ids(range(300))
    assert on_server(dovecot, mail_user) == 300
    assert recorder.of(NewMail) == []  # the first download rings no bell

    await worker.sync_once()  # nothing new: nothing twice
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(300, 302)))
    await worker.sync_once()
    assert local_ids(tmp_path / "Mail") == expected_ids(range(302))
    assert [(e.folder, e.count) for e in recorder.of(NewMail)] == [("INBOX", 2)]
    assert on_server(dovecot, mail_user) == 302


async def test_a_download_of_many_batches_rings_once_with_the_whole_count(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store
) -> None:
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(3)))
    worker, recorder = account(dovecot, mail_user, tmp_path, store)
    await worker.sync_once()
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(3, 3 + 2 * BATCH + 10)))
    await worker.sync_once()
    assert [(e.folder, e.count) for e in recorder.of(NewMail)] == [("INBOX", 2 * BATCH + 10)]
    assert len(recorder.of(NewMail)[0].subjects) == 3


async def test_each_row_downloaded_opens_its_own_message_also_after_a_restart(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store
) -> None:
    """More than one batch: every row the download put into the cache is read, under its UID,
    from the file of the same message, and a restart (a Maildir read afresh) keeps the rows."""
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(BATCH + 40)))
    worker, recorder = account(dovecot, mail_user, tmp_path, store)
    await worker.sync_once()
    uids = store.uids("old", "INBOX")
    assert len(uids) == BATCH + 40
    afresh = MaildirStore(tmp_path / "Mail", "old")
    for uid in uids:
        summary = store.summary("old", "INBOX", uid)
        assert summary is not None
        assert message_ids(afresh.read("INBOX", uid)) == [summary.message_id]

    again, recorder = account(dovecot, mail_user, tmp_path, store)
    await again.sync_once()
    assert store.uids("old", "INBOX") == uids
    assert [e for e in recorder.of(MessagesChanged) if e.added or e.removed] == []


async def test_a_download_tells_how_far_it_is_before_each_batch_reaches_the_list(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store
) -> None:
    """The status bar counts a long download as it does an IMAP sync's headers, and the list,
    told the Inbox fills, is not read again for every batch."""
    total = 2 * BATCH + 40
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(total)))
    worker, recorder = account(dovecot, mail_user, tmp_path, store)
    await worker.sync_once()
    told = [(e.done, e.total) if isinstance(e, SyncProgress) else e.added
            for e in recorder.events if isinstance(e, (SyncProgress, MessagesChanged)) and e.folder == "INBOX"]
    first = told.index((BATCH, total))
    assert told[first:first + 6] == [(BATCH, total), BATCH, (2 * BATCH, total), BATCH, (total, total), 40]
    assert cached(store) == total


async def test_a_nested_maildir_gets_the_mail_in_its_inbox_folder(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store
) -> None:
    """With maildir_layout = "nested" the mail goes into INBOX/, as mbsync's Verbatim tree has it."""
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(3)))
    config = dataclasses.replace(pop3_account(dovecot, mail_user, tmp_path / "Mail"), maildir_layout="nested")
    assert config.maildir is not None
    worker = Pop3Account(config, config.maildir, store, Recorder())
    await worker.sync_once()
    assert cached(store) == 3
    assert len(os.listdir(tmp_path / "Mail" / "INBOX" / "new")) == 3
    assert not (tmp_path / "Mail" / "cur").exists()


async def test_a_message_deleted_here_is_not_downloaded_again(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store
) -> None:
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(3)))
    worker, recorder = account(dovecot, mail_user, tmp_path, store)
    await worker.sync_once()
    uid = store.uids("old", "INBOX")[0]
    await worker.connect()
    await worker.server_expunge("INBOX", worker.last_uidvalidity("INBOX") or
                                (await worker.server_position("INBOX"))[0], [uid])
    await worker.sync_once()
    assert cached(store) == 2
    assert len(local_ids(tmp_path / "Mail")) == 2
    assert on_server(dovecot, mail_user) == 3


async def test_leave_on_server_false_removes_mail_once_it_is_here(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store
) -> None:
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(50)))
    worker, _ = account(dovecot, mail_user, tmp_path, store, leave_on_server=False)
    await worker.sync_once()
    assert cached(store) == 50
    assert on_server(dovecot, mail_user) == 0
    assert local_ids(tmp_path / "Mail") == expected_ids(range(50))


async def test_delete_after_days_removes_only_mail_downloaded_that_long_ago(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store
) -> None:
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(5)))
    worker, _ = account(dovecot, mail_user, tmp_path, store, delete_after_days=3)
    await worker.sync_once()
    assert on_server(dovecot, mail_user) == 5
    # Two of them were downloaded four days ago (as if), the others today.
    with sqlite3.connect(store.local.path) as raw:
        uidls = [r[0] for r in raw.execute("SELECT uidl FROM pop3_uidls ORDER BY uidl LIMIT 2")]
        raw.executemany("UPDATE pop3_uidls SET downloaded = ? WHERE uidl = ?",
                        [(time.time() - 4 * 86400, u) for u in uidls])
    await worker.sync_once()
    assert on_server(dovecot, mail_user) == 3
    await worker.sync_once()
    assert on_server(dovecot, mail_user) == 3
    assert cached(store) == 5
    assert local_ids(tmp_path / "Mail") == expected_ids(range(5))


async def test_a_refused_login_is_told_and_the_local_mail_stays_readable(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store
) -> None:
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(3)))
    worker, _ = account(dovecot, mail_user, tmp_path, store)
    await worker.sync_once()
    wrong, recorder = account(dovecot, mail_user, tmp_path, store, password_command="printf 'nope\\n'")
    task = asyncio.create_task(wrong.run())
    refused = await recorder.wait_for_one(ConnectionChanged, lambda e: e.waiting_for_user)
    assert "login refused" in refused.detail and "nope" not in refused.detail
    assert refused.reason.startswith("the user name or password was not accepted")
    assert refused.state == ConnectionState.ONLINE  # its mail is here all the same
    uid = store.uids("old", "INBOX")[0]
    wrong.submit(LoadBody(account="old", folder="INBOX", uid=uid))
    await recorder.wait_for_one(BodyLoaded, lambda e: e.uid == uid)
    assert wrong.state == ConnectionState.ONLINE
    await stop(wrong, task)


async def test_a_download_cut_between_the_file_and_its_record_keeps_the_file_and_refetches_the_rest(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store
) -> None:
    """As a kill leaves it: one message renamed into new/ but still marked as being fetched,
    another only in tmp/."""
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(3)))
    worker, _ = account(dovecot, mail_user, tmp_path, store)
    await worker.sync_once()
    root = tmp_path / "Mail"
    with sqlite3.connect(store.local.path) as raw:
        rows = raw.execute("SELECT uidl, key FROM pop3_uidls ORDER BY uidl").fetchall()
        raw.execute("UPDATE pop3_uidls SET state = 'fetching'")
    (landed_uidl, landed_key), (cut_uidl, cut_key), _ = rows
    cut = next(p for p in root.glob("*/*") if p.name.startswith(cut_key))
    cut.rename(root / "tmp" / cut_key)
    await worker.sync_once()
    states = dict(sqlite3.connect(store.local.path).execute("SELECT uidl, state FROM pop3_uidls"))
    assert cached(store) == 3
    assert local_ids(root) == expected_ids(range(3))
    assert not list((root / "tmp").iterdir())
    assert states == {u: "stored" for u, _ in rows}
    assert landed_uidl in states and cut_uidl in states and landed_key


async def test_new_mail_is_fetched_every_poll_interval_and_rings(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store
) -> None:
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(2)))
    worker, recorder = account(dovecot, mail_user, tmp_path, store, timings=Timings(quiet_seconds=0.2),
                               poll_seconds=1)
    task = asyncio.create_task(worker.run())
    try:
        await recorder.wait_for(lambda _e: cached(store) == 2)
        dovecot.deliver(mail_user.name, make_message(7))
        mail = await recorder.wait_for_one(NewMail)
        assert (mail.account, mail.folder, mail.count) == ("old", "INBOX", 1)
        assert cached(store) == 3
    finally:
        await stop(worker, task)


async def test_two_mailbags_downloading_for_one_account_at_once_fetch_each_message_once(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store, other_store: Store
) -> None:
    """A ``mailbag sync`` beside the full-screen client, both checking the same POP3 account at
    the same moment: one downloads, the other leaves it to that one, and no message is here twice."""
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(300)))
    (first, _), (second, _) = await two_mailbags(dovecot, mail_user, tmp_path, store, other_store)
    got = await asyncio.gather(first.download(), second.download())
    assert sorted(got) == [0, 300]
    assert local_ids(tmp_path / "Mail") == expected_ids(range(300))
    await second.download()  # the lock is free again: nothing new, nothing twice
    assert local_ids(tmp_path / "Mail") == expected_ids(range(300))


async def test_a_first_download_another_mailbag_makes_rings_no_bell_here_either(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store, other_store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The full-screen client beside a ``mailbag sync`` that makes the account's first download:
    the client's checks find the download lock held, and its watcher sees each batch's files in
    the Inbox before the downloader has them in the cache. The client brings them in without
    calling them new mail, as the downloader does not; what a later download brings rings."""
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(300)))
    (downloader, downloaded), (client, shown) = await two_mailbags(dovecot, mail_user, tmp_path, store, other_store)
    await client.sync_folder("INBOX")  # the client shows the empty Inbox
    stored = downloader.add_delivered
    looks: list[int] = []

    async def batch_stored(folder: str, delivered: Sequence[tuple[str, MessageSummary | None]]) -> None:
        assert await client.download() == 0  # the client's check: the download lock is held
        await client.sync_folder("INBOX")  # its watcher: the batch's files are in the Inbox
        looks.append(cached(other_store))
        await stored(folder, delivered)

    monkeypatch.setattr(downloader, "add_delivered", batch_stored)
    assert await downloader.download() == 300
    assert len(looks) > 1 and looks[-1] == 300
    assert downloaded.of(NewMail) == [] and shown.of(NewMail) == []

    assert await client.download() == 0  # the lock is free again: nothing new
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(300, 302)))
    assert await downloader.download() == 2
    assert [(e.folder, e.count) for e in shown.of(NewMail)] == [("INBOX", 2)]
    assert local_ids(tmp_path / "Mail") == expected_ids(range(302))


async def test_a_mailbag_started_while_another_downloads_leaves_the_messages_being_written_alone(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store, other_store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A ``mailbag sync`` started while the full-screen client's download writes a batch: the
    messages being written are that download's, not ones a killed download left; the start
    must not forget them (each would be fetched again, and be here twice)."""
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(300)))
    downloader, _ = account(dovecot, mail_user, tmp_path, store)
    starting, _ = account(dovecot, mail_user, tmp_path, other_store)
    await downloader.connect()
    writing, go_on = threading.Event(), threading.Event()
    deliver = pop3_batches.deliver

    def paused(root: Path, messages: Sequence[tuple[str, bytes]]) -> None:
        writing.set()
        go_on.wait()
        deliver(root, messages)

    monkeypatch.setattr(pop3_batches, "deliver", paused)
    download = asyncio.create_task(downloader.download())
    await asyncio.to_thread(writing.wait)
    try:
        await starting.connect()
    finally:
        go_on.set()
    assert await download == 300
    assert await starting.download() == 0
    assert local_ids(tmp_path / "Mail") == expected_ids(range(300))


async def test_the_inbox_looked_at_between_batches_never_runs_beside_a_batch_being_cached(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Inbox synced between two batches of a download (the watcher had seen it change just
    before: a download process killed, a folder made) is not read while a batch is brought into
    the cache: both used the folder's index from two threads at once, and the download stopped
    part-way with "internal error: dictionary changed size during iteration"."""
    total = 4 * BATCH
    dovecot.deliver_many(mail_user.name, (make_message(i, size=200) for i in range(total)))
    worker, recorder = account(dovecot, mail_user, tmp_path, store)
    await worker.connect()
    running: list[tuple[str, asyncio.Task[object] | None]] = []
    beside: list[tuple[str, str]] = []

    def watched(what: str, method: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        async def run(*args: object) -> None:
            me = asyncio.current_task()
            beside.extend((what, other) for other, task in running if task is not me)
            running.append((what, me))
            try:
                await method(*args)
            finally:
                running.remove((what, me))
        return run

    monkeypatch.setattr(worker, "add_delivered", watched("a batch cached", worker.add_delivered))
    monkeypatch.setattr(worker, "sync_folder", watched("the Inbox synced", worker.sync_folder))
    worker.mark_dirty("INBOX")
    assert await worker.download() == total
    assert beside == []
    assert local_ids(tmp_path / "Mail") == expected_ids(range(total))
    assert cached(store) == total
    assert not recorder.of(ErrorReported)


async def file_one_away(worker: Pop3Account, store: Store) -> None:
    """Move the Inbox's first message into a folder of its own, as ``m`` does."""
    await worker.connect()
    await worker.server_create_folder("Filed")
    validity = worker.last_uidvalidity("INBOX") or (await worker.server_position("INBOX"))[0]
    await worker.server_move("INBOX", validity, store.uids("old", "INBOX")[:1], "Filed")


def told(recorder: Recorder) -> list[str]:
    return [e.message for e in recorder.of(Notice)]


async def test_a_server_that_gives_its_messages_new_uidls_gets_none_of_them_stored_twice(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store
) -> None:
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(30)))
    worker, recorder = account(dovecot, mail_user, tmp_path, store)
    await worker.sync_once()
    await file_one_away(worker, store)  # known again, even where it is no longer in the Inbox
    dovecot.set_pop3_uidl_format(mail_user, "%08Xv%08Xu")  # an administrator's migration
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(30, 32)))
    await worker.sync_once()
    assert local_ids(tmp_path / "Mail") == expected_ids(range(32))  # each once, in all folders
    assert cached(store) == 31
    assert [(e.folder, e.count) for e in recorder.of(NewMail)] == [("INBOX", 2)]
    assert told(recorder) == ["localhost gave 30 messages already here new UIDLs; none stored twice"]

    await worker.sync_once()  # the records follow the new UIDLs: nothing again, nothing told again
    assert local_ids(tmp_path / "Mail") == expected_ids(range(32))
    assert len(told(recorder)) == 1
    assert on_server(dovecot, mail_user) == 32


async def test_the_same_message_twice_on_the_server_is_stored_twice_and_known_again_twice(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store
) -> None:
    twice = make_message(7)
    for _ in range(2):
        dovecot.doveadm("save", "-u", mail_user.name, "-m", "INBOX", input=twice)  # the same bytes
    worker, recorder = account(dovecot, mail_user, tmp_path, store)
    await worker.sync_once()
    await worker.sync_once()
    assert local_ids(tmp_path / "Mail") == [message_ids(twice)[0]] * 2
    dovecot.set_pop3_uidl_format(mail_user, "%08Xv%08Xu")
    await worker.sync_once()
    await worker.sync_once()
    assert local_ids(tmp_path / "Mail") == [message_ids(twice)[0]] * 2
    assert told(recorder) == ["localhost gave 2 messages already here new UIDLs; none stored twice"]


async def test_mail_downloaded_by_a_mailbag_that_kept_no_digests_is_known_again_by_its_file(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store
) -> None:
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(20)))
    worker, recorder = account(dovecot, mail_user, tmp_path, store)
    await worker.sync_once()
    await file_one_away(worker, store)
    with sqlite3.connect(store.local.path) as raw:  # as an older mailbag left them
        raw.execute("UPDATE pop3_uidls SET digest = ''")
    dovecot.set_pop3_uidl_format(mail_user, "%08Xv%08Xu")
    await worker.sync_once()
    # The 19 still in the Inbox are known by their files; the one filed away (its file has
    # another name there) is downloaded again, as before digests were kept.
    assert told(recorder) == ["localhost gave 19 messages already here new UIDLs; none stored twice"]
    assert local_ids(tmp_path / "Mail") == sorted(expected_ids(range(20)) + [message_ids(make_message(0))[0]])
    await worker.sync_once()
    assert len(local_ids(tmp_path / "Mail")) == 21


async def test_a_disk_that_fills_up_in_the_middle_of_a_download_costs_no_message(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second batch cannot be written (no space left): it is told as the disk's fault, what
    came before stays stored, nothing is deleted from the server, and once there is room again
    the next download brings the rest, each message once."""
    count = BATCH + 20
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(count)))
    worker, recorder = account(dovecot, mail_user, tmp_path, store, timings=Timings(quiet_seconds=0.2),
                               leave_on_server=False)
    delivered = pop3_batches.deliver

    def filling_up(root: Path, messages: Sequence[tuple[str, bytes]]) -> None:
        # The second batch, the short one (batches are stored two at a time, in either order):
        # half of it written, then the disk is full.
        if len(messages) < BATCH:
            delivered(root, messages[: len(messages) // 2])
            raise OSError(28, "No space left on device")
        delivered(root, messages)

    monkeypatch.setattr(pop3_batches, "deliver", filling_up)
    task = asyncio.create_task(worker.run())
    try:
        error = await recorder.wait_for_one(ErrorReported)
        assert error.message == "disk problem: No space left on device"
        assert len(set(local_ids(tmp_path / "Mail"))) >= BATCH  # the whole first batch, at least
        assert on_server(dovecot, mail_user) == count  # nothing deleted: the download did not end
        monkeypatch.setattr(pop3_batches, "deliver", delivered)
        worker.on_retry()  # room again; the user checks
        await recorder.wait_for(lambda _e: on_server(dovecot, mail_user) == 0, timeout=60)
    finally:
        await stop(worker, task)
    assert local_ids(tmp_path / "Mail") == expected_ids(range(count))
    assert cached(store) == count
    assert not list((tmp_path / "Mail" / "tmp").iterdir())


async def test_new_mail_under_a_uidl_given_again_after_the_mailbox_was_made_anew_is_downloaded(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store
) -> None:
    """Dovecot names each message by its UID alone (``pop3_uidl_format = %u``): once the mailbox
    is made anew (a backup restored, a move), UIDs start at 1 again, and today's report, as long
    as yesterday's, which was downloaded and removed, comes under yesterday's UIDL. Its bytes
    tell it apart, and it is downloaded; the message kept here is not fetched again."""

    def report(day: int) -> bytes:
        return f"Subject: daily report {day:02}\r\nMessage-ID: <report{day:02}@example.test>\r\n\r\nAll fine.\r\n".encode()

    dovecot.set_pop3_uidl_format(mail_user, "%u")
    dovecot.deliver_many(mail_user.name, [report(1), report(2)])
    worker, _ = account(dovecot, mail_user, tmp_path, store, leave_on_server=False)
    await worker.sync_once()
    first = store.local.pop3_downloads("old")
    assert sorted(first) == ["1", "2"] and on_server(dovecot, mail_user) == 0
    dovecot.make_mailbox_anew(mail_user)
    dovecot.deliver_many(mail_user.name, [report(3)])
    await worker.sync_once()
    assert local_ids(tmp_path / "Mail") == [f"<report0{day}@example.test>" for day in (1, 2, 3)]
    assert store.local.pop3_downloads("old")["1"].size == first["1"].size  # the same size: its bytes told
    assert on_server(dovecot, mail_user) == 0


def nested_too_deep(depth: int = 2000) -> bytes:
    """A message whose parts are nested deeper than the email package's parser can follow, and
    never closed."""
    head = b"From: Mallory <m@example.org>\r\nSubject: nested\r\nMessage-ID: <nested@example.org>\r\nMIME-Version: 1.0\r\n"
    parts = b"".join(b"Content-Type: multipart/mixed; boundary=B%d\r\n\r\n--B%d\r\n" % (i, i) for i in range(depth))
    return head + parts + b"Content-Type: text/plain\r\n\r\nhi\r\n"


@pytest.mark.parametrize("in_child", [False, True], ids=["here", "in-a-child"])
async def test_a_message_nested_too_deep_for_the_email_package_downloads_with_the_rest(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store, in_child: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Its summary raised RecursionError: the batch and so every download failed, for good.
    monkeypatch.setattr("mailbag.services.pop3_account.CHILD_MIN", 1)
    dovecot.deliver(mail_user.name, make_message(1))
    dovecot.deliver(mail_user.name, nested_too_deep())
    dovecot.deliver(mail_user.name, make_message(2))
    worker, recorder = account(dovecot, mail_user, tmp_path, store)
    worker.download_in_child = in_child
    await worker.sync_once()
    assert not recorder.of(ErrorReported)
    summaries = [store.summary("old", "INBOX", uid) for uid in store.uids("old", "INBOX")]
    assert sorted(s.message_id for s in summaries if s is not None) == sorted(
        ["<nested@example.org>", message_id(1), message_id(2)]
    )
    assert [s.subject for s in summaries if s is not None and s.message_id == "<nested@example.org>"] == ["nested"]
