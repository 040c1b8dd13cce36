"""POP3 servers that bend RFC 1939 or leave its options out, played by the scripted server: no UIDL
(mailbag tells the messages apart by size and header, TOP n 0; without TOP either it says why it
cannot), UIDLs that are not unique, no CAPA, lines ended by LF alone, a LIST size that is not what
RETR sends, odd UIDL characters and a message of 0 bytes. Each message is downloaded once, and
none is lost or hidden."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailbag.domain.config import AccountConfig, ServerConfig
from mailbag.domain.events import ConnectionChanged, ErrorReported, NewMail, Notice, RequestDone, RequestFailed
from mailbag.domain.models import ConnectionState
from mailbag.domain.requests import CheckFolders
from mailbag.protocols.pop3.errors import Pop3LinkLost, Pop3Refused
from mailbag.services.pop3_account import CHECK_SECONDS, Pop3Account
from mailbag.store.store import Store
from tests.integration.accounts import Recorder, stop
from tests.servers.dovecot import DovecotServer
from tests.servers.pop3_script import Script, ScriptedPop3

pytestmark = pytest.mark.dovecot


def message(n: int) -> bytes:
    return f"Message-ID: <m{n}@scripted.test>\r\nSubject: message {n}\r\n\r\nbody {n}\r\n..dotted\r\n".encode()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "cache.sqlite3")
    yield opened
    opened.close()


def serving(dovecot: DovecotServer, script: Script) -> Iterator[ScriptedPop3]:
    server = ScriptedPop3(dovecot, script).start()
    yield server
    server.stop()


def worker(
    server: ScriptedPop3, tmp_path: Path, store: Store, *, leave: bool = True, poll: int = 300
) -> tuple[Pop3Account, Recorder]:
    pop3 = ServerConfig(host="localhost", port=server.port, security="none", username="me",
                        password_command="printf 'pw\\n'", leave_on_server=leave, poll_seconds=poll)
    config = AccountConfig(name="old", email="me@scripted.test", maildir=tmp_path / "Mail", pop3=pop3)
    assert config.maildir is not None
    recorder = Recorder()
    return Pop3Account(config, config.maildir, store, recorder), recorder


def account(server: ScriptedPop3, tmp_path: Path, store: Store, *, leave: bool = True) -> Pop3Account:
    return worker(server, tmp_path, store, leave=leave)[0]


def on_disk(tmp_path: Path) -> list[bytes]:
    return sorted(path.read_bytes() for sub in ("new", "cur") for path in (tmp_path / "Mail" / sub).glob("*"))


def listed(store: Store) -> list[tuple[int, str]]:
    """(size, subject) of each message the Inbox lists."""
    summaries = [store.summary("old", "INBOX", uid) for uid in store.uids("old", "INBOX")]
    return sorted((s.size, s.subject) for s in summaries if s is not None)


def subjects(store: Store) -> list[str]:
    return sorted(subject for _size, subject in listed(store))


def deleted_on_server(server: ScriptedPop3) -> list[str]:
    return sorted(c for c in server.seen.commands if c.upper().startswith("DELE"))


async def test_without_uidl_each_message_is_downloaded_once(dovecot, tmp_path, store) -> None:
    script = Script(uidl=False, pipelining=False, messages=[message(n) for n in range(1, 4)])
    for server in serving(dovecot, script):
        pop3, recorder = worker(server, tmp_path, store)
        await pop3.sync_once()
        await pop3.sync_once()  # nothing new: nothing twice
        assert store.counts("old", "INBOX")[0] == 3
        script.messages.append(message(4))
        await pop3.sync_once()
        assert on_disk(tmp_path) == sorted(message(n).replace(b"\r\n", b"\n") for n in range(1, 5))
        assert [(e.folder, e.count) for e in recorder.of(NewMail)] == [("INBOX", 1)]
        told = [e.message for e in recorder.of(Notice)]  # once, not at each check, and as no error
        assert not recorder.of(ErrorReported)
        assert told == ["localhost offers no UIDL: mailbag tells its messages apart by size and header"
                        " (TOP), one command each per check"]


async def test_without_uidl_or_top_nothing_is_downloaded_and_it_says_why(dovecot, tmp_path, store) -> None:
    script = Script(uidl=False, top=False, messages=[message(1)])
    for server in serving(dovecot, script):
        pop3, _recorder = worker(server, tmp_path, store)
        with pytest.raises(Pop3Refused, match="neither UIDL nor TOP"):
            await pop3.sync_once()
        assert on_disk(tmp_path) == [] and store.counts("old", "INBOX")[0] == 0


async def test_messages_sharing_a_uidl_are_each_downloaded_once_before_any_is_deleted(
    dovecot, tmp_path, store
) -> None:
    # Against RFC 1939, 1 and 2 share a UIDL, and so do 3 and 4 (one message twice).
    script = Script(messages=[message(1), message(2), message(3), message(3)],
                    uidls={1: "same", 2: "same", 3: "twice", 4: "twice"})
    for server in serving(dovecot, script):
        pop3 = account(server, tmp_path, store, leave=False)
        await pop3.sync_once()
        await pop3.sync_once()  # nothing new: nothing twice, nothing more deleted
        expected = [message(n).replace(b"\r\n", b"\n") for n in (1, 2, 3, 3)]
        assert on_disk(tmp_path) == sorted(expected)
        assert subjects(store) == ["message 1", "message 2", "message 3", "message 3"]
        assert deleted_on_server(server) == ["DELE 1", "DELE 2", "DELE 3", "DELE 4"]


async def test_a_server_without_capa_with_bare_lf_and_a_wrong_list_size(dovecot, tmp_path, store) -> None:
    script = Script(capa=False, bare_lf=True, pipelining=False, messages=[message(1), message(2)],
                    sizes={1: 3}, uidls={2: "odd:uidl/../\\x~!"})
    for server in serving(dovecot, script):
        pop3 = account(server, tmp_path, store)
        await pop3.sync_once()
        await pop3.sync_once()
        assert subjects(store) == ["message 1", "message 2"]
        assert on_disk(tmp_path) == sorted(message(n).replace(b"\r\n", b"\n") for n in (1, 2))


async def test_a_quit_the_server_leaves_unanswered_fails_the_download_only_when_it_deleted(
    dovecot, tmp_path, store
) -> None:
    script = Script(quit_answered=False, messages=[message(1), message(2)])
    for server in serving(dovecot, script):
        kept, recorder = worker(server, tmp_path / "kept", store)
        await kept.sync_once()  # nothing marked deleted: nothing to commit, no failure
        assert subjects(store) == ["message 1", "message 2"]
        assert not recorder.of(ErrorReported) and not any(e.fetch_offline for e in recorder.of(ConnectionChanged))
        assert not store.local.pop3_downloads("old")["uid-1"].deleted
        (tmp_path / "removed").mkdir()
        other = Store.open(tmp_path / "removed" / "cache.sqlite3")
        try:
            removed = account(server, tmp_path / "removed", other, leave=False)
            await removed.connect()
            with pytest.raises(Pop3LinkLost, match="whether it removed the 2 messages marked deleted is not known"):
                await removed.download()
            assert not any(d.deleted for d in other.local.pop3_downloads("old").values())  # not known: not recorded
            script.quit_answered = True
            await removed.download()  # the server still lists them: deleted again, and recorded so
            assert deleted_on_server(server) == ["DELE 1", "DELE 1", "DELE 2", "DELE 2"]
            assert all(d.deleted for d in other.local.pop3_downloads("old").values())
            assert len(on_disk(tmp_path / "removed")) == 2  # stored once
        finally:
            other.close()


async def test_a_message_of_0_bytes_or_without_a_header_is_listed(dovecot, tmp_path, store) -> None:
    script = Script(messages=[message(1), b"", b"just a body, no header\r\n"])
    for server in serving(dovecot, script):
        pop3 = account(server, tmp_path, store, leave=False)
        await pop3.sync_once()
        assert listed(store) == sorted([(len(message(1).replace(b"\r\n", b"\n")), "message 1"), (0, ""), (23, "")])
        assert deleted_on_server(server) == ["DELE 1", "DELE 2", "DELE 3"]


async def test_the_same_message_twice_on_a_server_without_uidl_is_downloaded_twice_once(
    dovecot, tmp_path, store
) -> None:
    script = Script(uidl=False, messages=[message(1), message(1)])  # told apart by size and header alone
    for server in serving(dovecot, script):
        pop3 = account(server, tmp_path, store)
        await pop3.sync_once()
        await pop3.sync_once()
        assert subjects(store) == ["message 1", "message 1"]


async def test_a_server_login_delay_longer_than_poll_interval_sets_the_pace_of_checks(
    dovecot, tmp_path, store
) -> None:
    script = Script(login_delay=900, messages=[message(1)])  # RFC 2449: 15 minutes between logins
    for server in serving(dovecot, script):
        account = worker(server, tmp_path, store, poll=60)[0]
        await account.sync_once()
        assert server.logins == 1
        account._last_download -= 120  # two minutes later: poll_interval is past, the delay is not
        await account.on_quiet()
        assert server.logins == 1
        account._last_download -= 900
        await account.on_quiet()
        assert server.logins == 2


async def test_a_server_that_removes_what_a_session_read_loses_no_message_it_was_not_given(
    dovecot, tmp_path, store
) -> None:
    """EXPIRE 0 (RFC 2449; GNU Mailutils' ``expire 0``) without UIDL: the ids come from TOP,
    which the server counts as reading the message. One left there for its size must not go
    with the QUIT; the others stay downloaded once."""
    script = Script(uidl=False, expire="0", messages=[message(n) for n in range(1, 4)], sizes={2: 70 * 2**20})
    for server in serving(dovecot, script):
        pop3, recorder = worker(server, tmp_path, store)
        await pop3.sync_once()
        await pop3.sync_once()
        assert subjects(store) == ["message 1", "message 3"]
        assert server.removed == []
        assert message(2) in script.messages  # still on the server, for another client to fetch
        assert [e.message for e in recorder.of(Notice) if "EXPIRE" in e.message] == [
            "localhost keeps no mail once it is downloaded (EXPIRE 0): leave_on_server cannot keep it there"
        ]


async def test_a_server_that_removes_what_a_session_read_gets_its_quit_once_all_is_here(
    dovecot, tmp_path, store
) -> None:
    script = Script(uidl=False, expire="0", messages=[message(n) for n in range(1, 4)])
    for server in serving(dovecot, script):
        pop3, recorder = worker(server, tmp_path, store)
        await pop3.sync_once()
        assert subjects(store) == ["message 1", "message 2", "message 3"]
        assert sorted(server.removed) == sorted(message(n) for n in range(1, 4))  # the server's policy


@pytest.mark.parametrize(("expire", "delete_after_days", "told"), [
    ("30 USER", None, "localhost removes mail 30 days after it is downloaded (EXPIRE 30)"),
    ("1", None, "localhost removes mail 1 day after it is downloaded (EXPIRE 1)"),
    ("30", 10, None),  # mailbag deletes it sooner anyway
    ("NEVER", None, None),
])
async def test_a_server_that_removes_downloaded_mail_after_some_days_says_so_once(
    dovecot, tmp_path, store, expire, delete_after_days, told
) -> None:
    script = Script(expire=expire, messages=[message(1)])
    for server in serving(dovecot, script):
        pop3 = ServerConfig(host="localhost", port=server.port, security="none", username="me",
                            password_command="printf 'pw\\n'", delete_after_days=delete_after_days)
        config = AccountConfig(name="old", email="me@scripted.test", maildir=tmp_path / "Mail", pop3=pop3)
        assert config.maildir is not None
        recorder = Recorder()
        account = Pop3Account(config, config.maildir, store, recorder)
        await account.sync_once()
        await account.sync_once()
        assert [e.message for e in recorder.of(Notice) if "EXPIRE" in e.message] == ([told] if told else [])


async def test_a_server_that_removes_what_a_session_read_gets_its_quit_once_nothing_unstored_was_read(
    dovecot, tmp_path, store
) -> None:
    """The session that left a message too big on the server ended without QUIT, so the others
    stayed there too. Once that message is gone (fetched by another client), a session that
    read only messages stored here ends with QUIT, and the server's policy (EXPIRE 0) removes
    them: its mailbox does not grow for ever."""
    script = Script(uidl=False, expire="0", messages=[message(n) for n in range(1, 4)], sizes={2: 70 * 2**20})
    for server in serving(dovecot, script):
        pop3, _ = worker(server, tmp_path, store)
        await pop3.sync_once()
        assert server.removed == []
        script.messages.remove(message(2))
        script.sizes.clear()
        await pop3.sync_once()
        assert sorted(server.removed) == [message(1), message(3)]
        assert subjects(store) == ["message 1", "message 3"]


async def test_a_message_the_server_fails_on_every_time_holds_up_no_other(dovecot, tmp_path, store) -> None:
    """The link drops in the middle of message 2 at every try (a damaged file on the server,
    say). What came before it is kept at once; after three tries it is left on the server and the
    others come; the retry key tries it again."""
    script = Script(retr="drop", bad_message=2, messages=[message(n) for n in range(1, 5)])
    for server in serving(dovecot, script):
        pop3, recorder = worker(server, tmp_path, store)
        with pytest.raises(Pop3LinkLost, match="closed"):
            await pop3.sync_once()
        assert subjects(store) == ["message 1"]
        for _ in range(2):
            with pytest.raises(Pop3LinkLost):
                await pop3.sync_once()
        assert [e.message for e in recorder.of(Notice) if "could not be downloaded" in e.message] == [
            "1 message could not be downloaded (localhost:%d: the server closed the connection) and is left on"
            " the server; retry tries it again" % server.port
        ]
        await pop3.sync_once()
        assert subjects(store) == ["message 1", "message 3", "message 4"]
        assert message(2) in script.messages

        pop3.on_retry()
        with pytest.raises(Pop3LinkLost):
            await pop3.sync_once()
        script.retr = "ok"  # the server mended
        await pop3.sync_once()
        assert subjects(store) == ["message 1", "message 2", "message 3", "message 4"]


async def test_a_message_the_link_failed_on_is_tried_again_soon_not_a_poll_interval_later(
    dovecot, tmp_path, store
) -> None:
    """Between the tries before it is given up, the account does not wait its whole poll
    interval (5 minutes here): the messages after it would wait three of them."""
    script = Script(retr="drop", bad_message=2, messages=[message(n) for n in range(1, 4)])
    for server in serving(dovecot, script):
        pop3, _ = worker(server, tmp_path, store, poll=300)
        with pytest.raises(Pop3LinkLost):
            await pop3.sync_once()
        await pop3.connect()
        try:
            pop3._last_download = time.monotonic() - 31  # half a minute on
            with pytest.raises(Pop3LinkLost):
                await pop3.on_quiet()  # a download, which fails on message 2 again
            assert server.logins == 2 and subjects(store) == ["message 1"]
            pop3._last_download = time.monotonic() - 10
            await pop3.on_quiet()  # tried 10 s ago: not yet
            assert server.logins == 2
        finally:
            await pop3.disconnect()


async def test_a_first_download_cut_short_rings_no_bell_when_the_next_run_ends_it(dovecot, tmp_path, store) -> None:
    """The account's first download stopped part-way (the link, or mailbag killed): the run
    that brings the rest is still the first download, and rings no bell; mail that comes after
    it does."""
    script = Script(retr="drop", bad_message=4, messages=[message(n) for n in range(1, 6)])
    for server in serving(dovecot, script):
        pop3, recorder = worker(server, tmp_path, store)
        with pytest.raises(Pop3LinkLost):
            await pop3.sync_once()
        assert subjects(store) == ["message 1", "message 2", "message 3"]
        script.retr = "ok"
        await pop3.sync_once()
        assert len(subjects(store)) == 5
        assert recorder.of(NewMail) == []

        script.messages.append(message(6))
        await pop3.sync_once()
        assert [(e.folder, e.count) for e in recorder.of(NewMail)] == [("INBOX", 1)]


@pytest.mark.parametrize("new", [333, 3], ids=["another size", "the same size"])
async def test_a_server_that_numbers_its_uidls_gets_new_mail_under_a_number_it_gave_before_downloaded(
    dovecot, tmp_path, store, new: int
) -> None:
    # Against RFC 1939, the UIDL is the message's number: once 1 and 2 are removed, the next
    # message is 1 again. With another size than the old message 1 it is another message; with
    # the same size (a daily report as long as yesterday's) its bytes tell it from the old one.
    script = Script(messages=[message(1), message(2)], uidls={1: "1", 2: "2"})
    assert (len(message(new)) == len(message(1))) == (new == 3)
    for server in serving(dovecot, script):
        pop3, recorder = worker(server, tmp_path, store, leave=False)
        await pop3.sync_once()
        assert deleted_on_server(server) == ["DELE 1", "DELE 2"]
        script.messages = [message(new)]  # what the server holds after that QUIT and a delivery
        await pop3.sync_once()
        assert subjects(store) == ["message 1", "message 2", f"message {new}"]
        assert [(e.folder, e.count) for e in recorder.of(NewMail)] == [("INBOX", 1)]
        assert deleted_on_server(server) == ["DELE 1", "DELE 1", "DELE 2"]  # it went as configured
        await pop3.sync_once()
        assert subjects(store) == ["message 1", "message 2", f"message {new}"] and len(on_disk(tmp_path)) == 3


async def test_a_server_that_keeps_what_it_said_it_removed_gets_it_stored_once(dovecot, tmp_path, store) -> None:
    # The scripted server lists again what a QUIT was to remove (as a server set to keep its
    # copy after a POP3 download does): the same UIDL and size, so it is fetched once more, and
    # its bytes tell that it is the same message; after that it is known without a look.
    script = Script(messages=[message(1), message(2)])
    for server in serving(dovecot, script):
        pop3, recorder = worker(server, tmp_path, store, leave=False)
        for _ in range(3):
            await pop3.sync_once()
        assert subjects(store) == ["message 1", "message 2"]
        assert len(on_disk(tmp_path)) == 2
        assert server.seen.count("RETR") == 4
        assert deleted_on_server(server) == ["DELE 1", "DELE 2"]  # no DELE again for what it keeps
        assert recorder.of(NewMail) == []


async def test_a_mailbox_in_use_is_told_once_and_the_check_that_gets_in_downloads(dovecot, tmp_path, store) -> None:
    """A server that says "not now" at the login ([IN-USE]: another client holds the mailbox)
    is told once with its reason, however many checks it says so again, in words that differ
    only in a session number too; the state says it meanwhile, the local mail served. The
    check that gets in downloads, and the state is online again."""
    script = Script(messages=[message(1)], refused_logins=frozenset({1, 2, 3}),
                    refusal="-ERR [IN-USE] locked by session 4711")
    for server in serving(dovecot, script):
        pop3, recorder = worker(server, tmp_path, store)
        task = asyncio.create_task(pop3.run())
        try:
            offline = await recorder.wait_for_one(ConnectionChanged, lambda e: e.fetch_offline)
            assert "the mailbox is in use by another session ([IN-USE] locked by session 4711)" in offline.detail
            assert offline.state == ConnectionState.ONLINE
            for attempt in (2, 3, 4):
                script.refusal = f"-ERR [IN-USE] locked by session {4710 + attempt}"
                pop3._last_download -= CHECK_SECONDS  # a minute on: the check asks the server
                asked = pop3.submit(CheckFolders(account="old"))
                await recorder.wait_for(lambda e: isinstance(e, (RequestDone, RequestFailed)) and e.request_id == asked)
                assert server.attempts == attempt
            told = [e.message for e in recorder.of(ErrorReported)]
            assert told == [f"localhost:{server.port} cannot log in now: the mailbox is in use by another session"
                            " ([IN-USE] locked by session 4711)"]
            assert subjects(store) == ["message 1"]
            assert not recorder.of(ConnectionChanged)[-1].fetch_offline
        finally:
            await stop(pop3, task)
