"""A big POP3 download run by a process of its own (the full-screen client's way), against the
private Dovecot: it fills the Maildir and the cache as the download in the worker does, gets the
password through a pipe only, and nothing is lost or doubled when the child is killed, loses its
parent, or loses its link part-way."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from mailbag.domain.config import AccountConfig, ServerConfig
from mailbag.domain.events import Event, MessagesChanged, Notice, SyncProgress
from mailbag.protocols.maildir import MaildirStore
from mailbag.protocols.pop3.errors import Pop3MessageFailed
from mailbag.services import pop3_account as pop3_module
from mailbag.services.pop3_account import DOWNLOADED, Pop3Account
from mailbag.services.pop3_batches import BATCH, Delivered
from mailbag.services.pop3_child import ChildJob
from mailbag.store.store import Store
from tests.integration.accounts import Recorder
from tests.integration.pop3_fixtures import expected_ids, local_ids, on_server, pop3_account
from tests.integration.proxy import Proxy
from tests.integration.test_sync_child import running
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.messages import make_message
from tests.servers.pop3_script import Script, ScriptedPop3

pytestmark = pytest.mark.dovecot

TOTAL = 3 * BATCH + 40


@pytest.fixture(autouse=True)
def small_downloads_in_a_child(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pop3_module, "CHILD_MIN", BATCH + 1)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "cache.sqlite3")
    yield opened
    opened.close()


class AtFirstBatch(Recorder):
    """Records events; runs ``act(child)`` when the first batch the child stored reaches the cache."""

    def __init__(self, worker: Callable[[], Pop3Account], act: Callable[[asyncio.subprocess.Process], None]) -> None:
        super().__init__()
        self.worker = worker
        self.act = act
        self.children: list[int] = []

    def __call__(self, event: Event) -> None:
        super().__call__(event)
        child = self.worker().child
        if isinstance(event, MessagesChanged) and event.added and child is not None and not self.children:
            self.children.append(child.pid)
            self.act(child)


def child_worker(
    dovecot: DovecotServer, user: MailUser, tmp_path: Path, store: Store,
    act: Callable[[asyncio.subprocess.Process], None], **changes: object,
) -> tuple[Pop3Account, AtFirstBatch]:
    config = pop3_account(dovecot, user, tmp_path / "Mail", **changes)  # type: ignore[arg-type]
    assert config.maildir is not None
    recorder = AtFirstBatch(lambda: worker, act)
    worker = Pop3Account(config, config.maildir, store, recorder)
    worker.download_in_child = True
    return worker, recorder


def whole(tmp_path: Path, store: Store, dovecot: DovecotServer, user: MailUser) -> None:
    """Every message once in the Maildir and once in the cache (each row opens its own file),
    and every message still on the server."""
    assert local_ids(tmp_path / "Mail") == expected_ids(range(TOTAL))
    uids = store.uids("old", "INBOX")
    assert len(uids) == TOTAL
    afresh = MaildirStore(tmp_path / "Mail", "old")
    by_uid = {s.uid: s.message_id for s in afresh.summaries("INBOX")}
    assert {store.summary("old", "INBOX", uid).message_id for uid in uids} == set(by_uid.values())  # type: ignore[union-attr]
    assert all(store.summary("old", "INBOX", uid).message_id == by_uid[uid] for uid in uids)  # type: ignore[union-attr]
    assert on_server(dovecot, user) == TOTAL


@pytest.mark.parametrize("headers_in_child", [True, False], ids=["headers read by the child", "headers read here"])
async def test_a_big_download_runs_in_a_child_process_that_gets_no_password_on_its_command_line(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store, headers_in_child: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(TOTAL)))
    seen: dict[str, bytes] = {}
    start = pop3_module.download_in_child

    async def looked_at(
        job: ChildJob, on_batch: Callable[[int, Delivered], Awaitable[None]],
        on_start: Callable[[asyncio.subprocess.Process], None] | None = None,
    ) -> None:
        def started(child: asyncio.subprocess.Process) -> None:
            # At once: a quick child may have ended by the time its first batch is cached here.
            proc = Path(f"/proc/{child.pid}")
            seen["cmdline"], seen["environ"] = (proc / "cmdline").read_bytes(), (proc / "environ").read_bytes()
            if on_start is not None:
                on_start(child)

        await start(job, on_batch, on_start=started)

    monkeypatch.setattr(pop3_module, "download_in_child", looked_at)
    worker, recorder = child_worker(dovecot, mail_user, tmp_path, store, lambda child: None)
    worker.headers_in_child = headers_in_child
    await worker.sync_once()

    assert b"mailbag.services.pop3_child" in seen["cmdline"]
    assert mail_user.password.encode() not in seen["cmdline"] + seen["environ"]
    whole(tmp_path, store, dovecot, mail_user)
    # The child wrote the files (a Maildir key names the process that delivered it).
    names = [p.name for p in (tmp_path / "Mail" / "new").iterdir()]
    assert all(f"P{recorder.children[0]}Q" in name for name in names)
    progress = [(e.done, e.total) for e in recorder.of(SyncProgress) if e.items == DOWNLOADED]
    # Counted a batch at a time (or a few, when they came while the last was being cached).
    assert all(done % BATCH == 0 for done, _total in progress[:-1]) and progress[-1] == (TOTAL, TOTAL)
    assert [done for done, _total in progress] == sorted({done for done, _total in progress})
    assert sum(e.added for e in recorder.of(MessagesChanged)) == TOTAL
    assert worker.child is None and not running(recorder.children[0])

    await worker.sync_once()  # nothing new: nothing twice
    whole(tmp_path, store, dovecot, mail_user)


async def test_the_child_deletes_what_is_due_in_its_own_session_and_no_session_follows(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store
) -> None:
    """With ``leave_on_server = false`` the child sends the DELEs once every message is stored,
    in the session it downloaded them in: the check takes two logins (the listing, the child's),
    not a third session of the worker's own afterwards."""
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(TOTAL)))
    async with Proxy("127.0.0.1", dovecot.pop3_port) as proxy:
        worker, recorder = child_worker(dovecot, mail_user, tmp_path, store, lambda _child: None,
                                        security="none", port=proxy.port, host="127.0.0.1",
                                        leave_on_server=False)
        await worker.sync_once()
        assert recorder.children
        assert proxy.connections == 2
    assert local_ids(tmp_path / "Mail") == expected_ids(range(TOTAL))
    assert store.counts("old", "INBOX")[0] == TOTAL
    assert on_server(dovecot, mail_user) == 0
    downloads = store.local.pop3_downloads("old")
    assert len(downloads) == TOTAL and all(d.deleted is not None for d in downloads.values())


def kill(child: asyncio.subprocess.Process) -> None:
    """SIGKILL, as the OOM killer sends it; a child that has ended already (on a busy machine it
    may have stored every batch before its first was cached) is left as it is."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(child.pid, signal.SIGKILL)


def orphan(child: asyncio.subprocess.Process) -> None:
    """What the child sees when its parent dies: its stdin closes."""
    assert child.stdin is not None
    child.stdin.close()


@pytest.mark.parametrize("end", [kill, orphan], ids=["killed", "parent gone"])
async def test_a_child_ended_part_way_leaves_every_message_once(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store,
    end: Callable[[asyncio.subprocess.Process], None],
) -> None:
    """The child ends after its first batch: it stops at once, and the download is finished in
    the worker (what the child stored but had not handed on yet included). (``mailbag sync``'s
    child, which runs ahead of its parent, is killed in test_pop3_cli.)"""
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(TOTAL)))
    worker, recorder = child_worker(dovecot, mail_user, tmp_path, store, end)
    await worker.sync_once()

    assert recorder.children and not running(recorder.children[0])
    names = [p.name for p in (tmp_path / "Mail" / "new").iterdir()]
    by_child = [name for name in names if f"P{recorder.children[0]}Q" in name]
    # Ended once its first batch reached the cache; on a busy machine it may have stored the
    # rest meanwhile (it runs ahead of the cache), which must hold up as well.
    assert BATCH <= len(by_child) <= TOTAL, "the child stored no batch"
    whole(tmp_path, store, dovecot, mail_user)

    again, _ = child_worker(dovecot, mail_user, tmp_path, store, lambda _child: None)
    await again.sync_once()
    whole(tmp_path, store, dovecot, mail_user)


async def test_a_child_that_loses_its_link_part_way_keeps_what_came_and_the_next_download_the_rest(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store
) -> None:
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(TOTAL)))
    answers = 0

    def cut_the_childs_link(line: bytes) -> bytes:
        """The child's session (the second) is cut once it has had a batch and a bit more."""
        nonlocal answers
        if proxy.connections == 2 and line.startswith(b"+OK"):
            answers += 1
            if answers == BATCH + 10:
                asyncio.get_running_loop().call_soon(proxy.cut_last)
        return line

    async with Proxy("127.0.0.1", dovecot.pop3_port, rewrite=cut_the_childs_link) as proxy:
        worker, recorder = child_worker(dovecot, mail_user, tmp_path, store, lambda _child: None,
                                        security="none", port=proxy.port, host="127.0.0.1")
        with pytest.raises(Exception, match="lost|closed"):
            await worker.sync_once()
        assert recorder.children and not running(recorder.children[0])
        part = store.counts("old", "INBOX")[0]
        assert BATCH <= part < TOTAL
        assert len(local_ids(tmp_path / "Mail")) == part

        await worker.sync_once()
    whole(tmp_path, store, dovecot, mail_user)


async def test_stopping_the_account_stops_its_child(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store
) -> None:
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(TOTAL)))

    def stop(_child: asyncio.subprocess.Process) -> None:  # what quitting mailbag does
        worker.request_stop()
        task.cancel()

    worker, recorder = child_worker(dovecot, mail_user, tmp_path, store, stop)
    task = asyncio.create_task(worker.run())
    await asyncio.gather(task, return_exceptions=True)
    assert recorder.children and not running(recorder.children[0])
    assert store.counts("old", "INBOX")[0] < TOTAL

    again, _ = child_worker(dovecot, mail_user, tmp_path, store, lambda _child: None)
    await again.sync_once()
    whole(tmp_path, store, dovecot, mail_user)


@pytest.mark.parametrize(
    "script", [Script(login_delay=900), Script(refused_logins=frozenset({2}))], ids=["login-delay", "in-use-after-quit"]
)
async def test_a_server_that_allows_no_second_login_soon_gets_the_download_in_one_session(
    dovecot: DovecotServer, tmp_path: Path, store: Store, script: Script
) -> None:
    """A server that offers LOGIN-DELAY is never asked for a second session for a child; one
    that refuses it anyway (its mailbox still locked by the session just ended) gets the
    download from mailbag's own process, whole and once."""
    script.messages = [f"Subject: message {n}\r\nMessage-ID: <m{n}@x>\r\n\r\nbody\r\n".encode()
                       for n in range(BATCH + 10)]
    server = ScriptedPop3(dovecot, script, tls=True).start()
    try:
        pop3 = ServerConfig(host="localhost", port=server.port, security="tls", username="me",
                            password_command="printf 'pw\\n'", ca_file=server.ca_file)
        config = AccountConfig(name="old", email="me@example.test", maildir=tmp_path / "Mail", pop3=pop3)
        worker = Pop3Account(config, tmp_path / "Mail", store, Recorder())
        worker.download_in_child = True
        await worker.sync_once()
        assert store.counts("old", "INBOX")[0] == BATCH + 10
        assert local_ids(tmp_path / "Mail") == sorted(f"<m{n}@x>" for n in range(BATCH + 10))
        names = [p.name for p in (tmp_path / "Mail" / "new").iterdir()]
        assert all(f"P{os.getpid()}Q" in name for name in names)  # written by mailbag's own process
        assert server.logins == (1 if script.login_delay is not None else 2)
    finally:
        server.stop()


async def test_a_message_the_server_fails_on_in_the_childs_session_is_named_and_given_up_after_three_tries(
    dovecot: DovecotServer, tmp_path: Path, store: Store
) -> None:
    """The link drops in the middle of one message of the second batch, every time: the child
    keeps what came before it and names the message to its parent, which counts the tries
    (three, the later ones in its own process) and then downloads the rest without it."""
    bad = BATCH + 5
    script = Script(retr="drop", bad_message=bad, messages=[
        f"Subject: message {n}\r\nMessage-ID: <m{n}@x>\r\n\r\nbody {n}\r\n".encode() for n in range(1, BATCH + 11)
    ])
    server = ScriptedPop3(dovecot, script, tls=True).start()
    try:
        pop3 = ServerConfig(host="localhost", port=server.port, security="tls", username="me",
                            password_command="printf 'pw\\n'", ca_file=server.ca_file)
        config = AccountConfig(name="old", email="me@example.test", maildir=tmp_path / "Mail", pop3=pop3)
        recorder = Recorder()
        worker = Pop3Account(config, tmp_path / "Mail", store, recorder)
        worker.download_in_child = True
        with pytest.raises(Pop3MessageFailed) as failed:
            await worker.sync_once()
        assert failed.value.uidl == f"uid-{bad}"
        assert store.counts("old", "INBOX")[0] == bad - 1  # up to the message it failed on
        for _ in range(2):
            with pytest.raises(Pop3MessageFailed):
                await worker.sync_once()
        await worker.sync_once()
        assert local_ids(tmp_path / "Mail") == sorted(f"<m{n}@x>" for n in range(1, BATCH + 11) if n != bad)
        assert [e.message for e in recorder.of(Notice) if "could not be downloaded" in e.message]
    finally:
        server.stop()


async def test_a_server_that_gives_its_messages_new_uidls_gets_none_stored_twice_by_the_child(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(TOTAL)))
    worker, recorder = child_worker(dovecot, mail_user, tmp_path, store, lambda _child: None)
    await worker.sync_once()
    jobs: list[ChildJob] = []
    start = pop3_module.download_in_child

    async def counted(job: ChildJob, *args: object, **kwargs: object) -> None:
        jobs.append(job)
        await start(job, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pop3_module, "download_in_child", counted)
    dovecot.set_pop3_uidl_format(mail_user, "%08Xv%08Xu")  # every message under a new UIDL
    await worker.sync_once()
    assert [len(job.uidls) for job in jobs] == [TOTAL]  # the child read them all again
    whole(tmp_path, store, dovecot, mail_user)
    assert [e.message for e in recorder.of(Notice)] == [
        f"localhost gave {TOTAL} messages already here new UIDLs; none stored twice"
    ]
