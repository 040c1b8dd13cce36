"""The main flows against a server that offers nothing optional: the private Dovecot's compat
listener advertises IMAP4rev1 only (no IDLE, MOVE, UIDPLUS, CONDSTORE, NOTIFY, SPECIAL-USE,
LIST-STATUS, ENABLE, LITERAL+) and keeps the folders under ``INBOX.``, ``.`` separated."""

from __future__ import annotations

import contextlib
import imaplib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import pytest

from mailbag.domain.config import AccountConfig, ServerConfig
from mailbag.domain.events import (
    ActionApplied,
    ActionRolledBack,
    ErrorReported,
    MessagesChanged,
    NewMail,
    RequestDone,
    SearchResults,
)
from mailbag.domain.models import FLAGGED, FORWARDED, SEEN, FolderRole
from mailbag.domain.requests import DeleteMessages, LoadBody, MoveMessages, Search, SetFlags, SyncAccount
from mailbag.protocols.imap import ImapClient, ImapSettings
from mailbag.services.imap_account import ImapAccount
from mailbag.store.store import Store
from tests.integration.accounts import Recorder, account_running
from tests.integration.journal_fixtures import server_headers
from tests.integration.proxy import Proxy
from tests.integration import test_live_triage as live_triage
from tests.integration.test_journal_no_message_id import without_message_id
from tests.integration.test_live_triage import until, uid_of
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.messages import make_message, message_id, subject_of

pytestmark = pytest.mark.dovecot

_COPYUID = re.compile(rb"\[COPYUID [^\]]*\] ?", re.IGNORECASE)
OPTIONAL = {"IDLE", "MOVE", "UIDPLUS", "CONDSTORE", "QRESYNC", "NOTIFY", "SPECIAL-USE", "LIST-STATUS",
            "LIST-EXTENDED", "ENABLE", "ESEARCH", "LITERAL+", "ID", "SASL-IR"}


def compat_config(dovecot: DovecotServer, user: MailUser, poll_seconds: int = 1) -> AccountConfig:
    server = ServerConfig(host=dovecot.compat_host, port=dovecot.compat_imap_port, security="none",
                          username=user.name, password_command=f"printf '%s\\n' '{user.password}'",
                          poll_seconds=poll_seconds)
    return AccountConfig(name="work", email=user.email, imap=server)


@contextlib.asynccontextmanager
async def running(dovecot: DovecotServer, user: MailUser, store: Store, poll_seconds: int = 1,
                  rewrite: Callable[[bytes], bytes] | None = None,
                  rewrite_sent: Callable[[bytes], bytes] | None = None) -> AsyncIterator[tuple[ImapAccount, Recorder]]:
    """An account worker on the compat listener (behind a proxy that rewrites the server's
    lines with ``rewrite``, and the client's with ``rewrite_sent``), synced once before the test
    goes on."""
    events = Recorder()
    config = compat_config(dovecot, user, poll_seconds)
    proxy = None
    if rewrite is not None:
        proxy = await Proxy(dovecot.compat_host, dovecot.compat_imap_port, rewrite, rewrite_sent).start()
        assert config.imap is not None
        config = replace(config, imap=replace(config.imap, host="127.0.0.1", port=proxy.port))
    account = ImapAccount(config, store, events)
    try:
        async with account_running(account):
            await events.wait_for(lambda e: isinstance(e, RequestDone), timeout=30)  # the first sync
            yield account, events
    finally:
        if proxy is not None:
            await proxy.close()


def without_copyuid(line: bytes) -> bytes:
    """Dovecot sends COPYUID even where it does not offer UIDPLUS; a server without it does not."""
    return _COPYUID.sub(b"", line)


_EMPTY_FOLDER_VALIDITY = re.compile(rb"^(\* STATUS .*\bUIDVALIDITY )(\d+)")


def as_mailutils_validity(line: bytes) -> bytes:
    """No COPYUID, and the UIDVALIDITY of a folder that has given out no UID yet is another one
    until its first message comes, as GNU Mailutils' imap4d has it for an empty mbox."""
    line = without_copyuid(line)
    if re.search(rb"\bUIDNEXT 1\b", line):
        line = _EMPTY_FOLDER_VALIDITY.sub(lambda m: m.group(1) + str(int(m.group(2)) - 1).encode(), line)
    return line


def without_keywords(line: bytes) -> bytes:
    """A folder that keeps no keywords, as Courier's with IMAP_KEYWORDS=0: PERMANENTFLAGS
    lists the system flags only, without ``\\*``."""
    return line.replace(b" \\*)]", b")]") if b"[PERMANENTFLAGS (" in line else line


def other_client(dovecot: DovecotServer, user: MailUser) -> imaplib.IMAP4:
    """Another mail program on the same compat listener."""
    client = imaplib.IMAP4(dovecot.compat_host, dovecot.compat_imap_port)
    client.login(user.name, user.password)
    return client


def server_state(dovecot: DovecotServer, user: MailUser, folder: str = "INBOX") -> dict[str, frozenset[bytes]]:
    """Message-ID -> flags of every message in ``folder``, as another client sees it."""
    return live_triage.server_state(dovecot, user, folder, connect=other_client)


def subjects(dovecot: DovecotServer, user: MailUser, folder: str) -> list[str]:
    """The Subject of every message in ``folder``, as another client sees it."""
    return server_headers(dovecot, user, folder, "Subject", connect=other_client)


def mark_deleted_elsewhere(dovecot: DovecotServer, user: MailUser, uid: int) -> None:
    client = other_client(dovecot, user)
    try:
        client.select("INBOX")
        client.uid("STORE", str(uid), "+FLAGS", "(\\Deleted)")
    finally:
        client.logout()


async def test_the_listener_offers_nothing_optional_and_folders_sit_under_inbox(dovecot, mail_user):
    client = ImapClient(ImapSettings(host=dovecot.compat_host, port=dovecot.compat_imap_port,
                                     security="none", username=mail_user.name,
                                     password=mail_user.password), "work")
    await client.connect()
    try:
        assert not OPTIONAL & client.capabilities
        assert client.enabled == frozenset()
        folders = {f.name: f for f in await client.list_folders()}
    finally:
        await client.logout()
    assert {"INBOX", "INBOX.Trash", "INBOX.Archive", "INBOX.Sent"} <= set(folders)
    assert folders["INBOX.Trash"].delimiter == "."
    assert folders["INBOX.Trash"].role is FolderRole.TRASH
    assert folders["INBOX.Archive"].role is FolderRole.ARCHIVE


async def test_first_sync_flags_and_new_mail_by_polling(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(5)))
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(10, 12)), folder="Projects")
    with Store.open(tmp_path / "c.db") as store:
        async with running(dovecot, mail_user, store) as (account, events):
            assert store.counts("work", "INBOX") == (5, 5)
            await until(lambda: store.counts("work", "INBOX.Projects") == (2, 2), 20)
            uid = {i: uid_of(store, "INBOX", i) for i in range(5)}

            account.submit(SetFlags(account="work", folder="INBOX", uids=(uid[0], uid[1]),
                                    add=frozenset({SEEN, FLAGGED})))
            await events.wait_for(lambda e: isinstance(e, ActionApplied) and e.on_server)
            state = server_state(dovecot, mail_user)
            assert state[message_id(0)] == state[message_id(1)] == {b"\\Seen", b"\\Flagged"}
            assert state[message_id(2)] == frozenset()

            # no IDLE, no NOTIFY: new mail in the open folder and in another is found by polling
            dovecot.deliver(mail_user.name, make_message(5))
            await events.wait_for(lambda e: isinstance(e, NewMail) and e.folder == "INBOX", 30)
            dovecot.deliver(mail_user.name, make_message(12), folder="Projects")
            await until(lambda: store.counts("work", "INBOX.Projects") == (3, 3), 30)
        assert store.counts("work", "INBOX") == (6, 4)


async def test_archive_delete_to_trash_and_undo_without_move_or_uidplus(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(4)))
    before = server_state(dovecot, mail_user)
    with Store.open(tmp_path / "c.db") as store:
        async with running(dovecot, mail_user, store) as (account, events):
            uid = {i: uid_of(store, "INBOX", i) for i in range(4)}

            account.submit(MoveMessages(account="work", folder="INBOX", uids=(uid[0],),
                                        target_role=FolderRole.ARCHIVE))
            account.submit(DeleteMessages(account="work", folder="INBOX", uids=(uid[1],)))
            await until(lambda: len([e for e in events.of(ActionApplied) if e.on_server]) == 2, 20)
            assert not events.of(ActionRolledBack)
            assert set(server_state(dovecot, mail_user)) == {message_id(2), message_id(3)}
            assert set(server_state(dovecot, mail_user, "INBOX.Archive")) == {message_id(0)}
            assert set(server_state(dovecot, mail_user, "INBOX.Trash")) == {message_id(1)}

            events.events.clear()
            account.journal.submit_undo(account.journal.undo_tickets.pop())  # the delete
            await events.wait_for(lambda e: isinstance(e, ActionApplied) and e.on_server, 20)
            assert not events.of(ActionRolledBack)
    assert set(server_state(dovecot, mail_user)) == set(before) - {message_id(0)}
    assert server_state(dovecot, mail_user, "INBOX.Trash") == {}


async def test_a_move_never_expunges_what_another_program_marked_deleted(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(3)))
    with Store.open(tmp_path / "c.db") as store:
        async with running(dovecot, mail_user, store) as (account, events):
            uid = {i: uid_of(store, "INBOX", i) for i in range(3)}
            mark_deleted_elsewhere(dovecot, mail_user, uid[2])  # not ours to remove

            account.submit(MoveMessages(account="work", folder="INBOX", uids=(uid[0],),
                                        target_role=FolderRole.ARCHIVE))
            refused = await events.wait_for_one(ActionRolledBack, timeout=20)
            assert "marked deleted" in refused.reason
            await until(lambda: uid[0] in store.uids("work", "INBOX"))  # put back for the user
    state = server_state(dovecot, mail_user)
    assert set(state) == {message_id(0), message_id(1), message_id(2)}  # nothing moved, nothing lost
    assert state[message_id(2)] == {b"\\Deleted"} and state[message_id(0)] == frozenset()
    assert server_state(dovecot, mail_user, "INBOX.Archive") == {}


async def test_server_search_finds_a_word_in_a_body_the_cache_does_not_hold(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(3)))
    dovecot.deliver(mail_user.name, b"Message-ID: <zanzibar@example.test>\r\nSubject: plans\r\n\r\n"
                                    b"We meet in Zanzibar.\r\n")
    with Store.open(tmp_path / "c.db") as store:
        async with running(dovecot, mail_user, store) as (account, events):
            wanted = store.row_ids_for("work", "INBOX", [max(store.uids("work", "INBOX"))])
            request = account.submit(Search(account="work", query="zanzibar", folder="INBOX"))
            found = await events.wait_for_one(
                SearchResults, lambda e: e.request_id == request and e.complete)
            assert list(found.row_ids) == wanted


async def expunged_elsewhere_then_read(
    dovecot: DovecotServer, user: MailUser, store: Store, account: ImapAccount, events: Recorder, uid: dict[int, int]
) -> None:
    """Another client expunges the Inbox's message ``uid[1]``; then ``uid[2]`` is read here: the
    expunge shows (a MessagesChanged) and the cache follows."""
    client = other_client(dovecot, user)
    try:
        client.select("INBOX")
        client.uid("STORE", str(uid[1]), "+FLAGS", "(\\Deleted)")
        client.expunge()
    finally:
        client.logout()
    events.events.clear()
    body = account.submit(LoadBody(account="work", folder="INBOX", uid=uid[2]))
    await events.wait_for(lambda e: isinstance(e, RequestDone) and e.request_id == body)
    await events.wait_for(lambda e: isinstance(e, MessagesChanged) and e.folder == "INBOX" and e.removed == 1)
    assert store.uids("work", "INBOX") == [uid[0], uid[2]]


async def test_an_expunge_reported_in_a_fetch_answer_removes_the_message(dovecot, mail_user, tmp_path):
    # No IDLE and no polling for an hour: the only word of the expunge is the one the server
    # sends along with the answer to the next UID FETCH on the command connection.
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(3)))
    with Store.open(tmp_path / "c.db") as store:
        async with running(dovecot, mail_user, store, poll_seconds=3600) as (account, events):
            uid = {i: uid_of(store, "INBOX", i) for i in range(3)}
            body = account.submit(LoadBody(account="work", folder="INBOX", uid=uid[0]))
            await events.wait_for(lambda e: isinstance(e, RequestDone) and e.request_id == body)
            await expunged_elsewhere_then_read(dovecot, mail_user, store, account, events, uid)


async def test_a_folder_selected_again_that_another_client_changed_meanwhile_is_synced(dovecot, mail_user, tmp_path):
    # No IDLE, no NOTIFY and no polling for an hour; and the Inbox's body is read after another
    # folder was selected, so no EXPUNGE comes with it: what its SELECT says is the only word.
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(3)))
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(3, 4)), folder="Other")
    with Store.open(tmp_path / "c.db") as store:
        async with running(dovecot, mail_user, store, poll_seconds=3600) as (account, events):
            await until(lambda: store.counts("work", "INBOX.Other")[0] == 1, 20)
            uid = {i: uid_of(store, "INBOX", i) for i in range(3)}
            (elsewhere,) = store.uids("work", "INBOX.Other")
            body = account.submit(LoadBody(account="work", folder="INBOX.Other", uid=elsewhere))
            await events.wait_for(lambda e: isinstance(e, RequestDone) and e.request_id == body)
            await expunged_elsewhere_then_read(dovecot, mail_user, store, account, events, uid)


async def test_noselect_parents_and_modified_utf7_names_in_the_first_sync(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(2)), folder="Lists/rust")
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(2, 5)), folder="Ärger")
    with Store.open(tmp_path / "c.db") as store:
        async with running(dovecot, mail_user, store, poll_seconds=3600) as (account, events):
            await until(lambda: store.counts("work", "INBOX.Ärger") == (3, 3), 20)
            await until(lambda: store.counts("work", "INBOX.Lists.rust") == (2, 2), 20)
            folders = {f.name: f for f in store.folders("work")}
            # the parent the server lists as \Noselect is shown, never selected
            assert not folders["INBOX.Lists"].selectable and folders["INBOX.Lists.rust"].selectable
            assert not events.of(ErrorReported)


def _swapped(spellings: dict[bytes, bytes]) -> Callable[[bytes], bytes]:
    """A rewrite of each of ``spellings`` into its value (in one pass: none twice)."""
    pattern = re.compile(b"|".join(re.escape(k) for k in sorted(spellings, key=len, reverse=True)))
    return lambda line: pattern.sub(lambda m: spellings[m.group(0)], line)


#: How GNU Mailutils' imap4d, which lists the files of a folder of mbox files as they are named,
#: lists ``R&D`` and ``Entwürfe``: not in modified UTF-7 (``R&-D``, ``Entw&APw-rfe``).
_AS_FILES = {b"INBOX.R&-D": b"INBOX.R&D", b"INBOX.Entw&APw-rfe": "INBOX.Entwürfe".encode()}


async def test_folders_a_server_lists_by_names_not_in_modified_utf7_are_opened_by_those_names(
    dovecot, mail_user, tmp_path
):
    # Encoded again from their names, they were "R&-D" and "Entw&APw-rfe", which such a server
    # does not have: listed, never opened, and nothing could be moved there.
    dovecot.deliver_many(mail_user.name, [make_message(1)], folder="R&D")
    dovecot.deliver_many(mail_user.name, [make_message(2)], folder="Entwürfe")
    dovecot.deliver_many(mail_user.name, [make_message(3)])
    as_files = _swapped(_AS_FILES)
    # What the client says: the server's names into Dovecot's, and Dovecot's into names no
    # folder has (the server has no folder by the modified UTF-7 spelling).
    told = _swapped({**{v: k for k, v in _AS_FILES.items()}, **{k: k + b"-none" for k in _AS_FILES}})
    with Store.open(tmp_path / "c.db") as store:
        async with running(dovecot, mail_user, store, poll_seconds=3600, rewrite=as_files,
                           rewrite_sent=told) as (account, events):
            await until(lambda: store.counts("work", "INBOX.R&D") == (1, 1), 20)
            await until(lambda: store.counts("work", "INBOX.Entwürfe") == (1, 1), 20)
            account.submit(MoveMessages(account="work", folder="INBOX", uids=(uid_of(store, "INBOX", 3),),
                                        target="INBOX.Entwürfe"))
            await events.wait_for(lambda e: isinstance(e, ActionApplied) and e.on_server, 20)
            assert not events.of(ErrorReported)
    assert set(server_state(dovecot, mail_user, "INBOX.Entw&APw-rfe")) == {message_id(2), message_id(3)}


@pytest.mark.parametrize("rewrite", [without_copyuid, as_mailutils_validity], ids=["no-copyuid", "new-validity"])
async def test_undo_of_a_move_without_copyuid_finds_the_message_by_its_message_id(
    dovecot, mail_user, tmp_path, rewrite: Callable[[bytes], bytes]
):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(3)))
    with Store.open(tmp_path / "c.db") as store:
        async with running(dovecot, mail_user, store, rewrite=rewrite) as (account, events):
            uid = {i: uid_of(store, "INBOX", i) for i in range(3)}
            account.submit(MoveMessages(account="work", folder="INBOX", uids=(uid[0],),
                                        target_role=FolderRole.ARCHIVE))
            await events.wait_for(lambda e: isinstance(e, ActionApplied) and e.on_server, 20)
            assert set(server_state(dovecot, mail_user, "INBOX.Archive")) == {message_id(0)}

            events.events.clear()
            account.journal.submit_undo(account.journal.undo_tickets.pop())
            await events.wait_for(lambda e: isinstance(e, ActionApplied) and e.on_server, 20)
            assert not events.of(ActionRolledBack) and not events.of(ErrorReported)
    assert set(server_state(dovecot, mail_user)) == {message_id(0), message_id(1), message_id(2)}
    assert server_state(dovecot, mail_user, "INBOX.Archive") == {}


async def test_undo_of_a_move_without_copyuid_finds_a_message_without_message_id(dovecot, mail_user, tmp_path):
    for i in range(2):
        dovecot.deliver(mail_user.name, without_message_id(i))
    with Store.open(tmp_path / "c.db") as store:
        async with running(dovecot, mail_user, store, rewrite=without_copyuid) as (account, events):
            first = store.uids("work", "INBOX")[0]
            account.submit(MoveMessages(account="work", folder="INBOX", uids=(first,),
                                        target_role=FolderRole.ARCHIVE))
            await events.wait_for(lambda e: isinstance(e, ActionApplied) and e.on_server, 20)
            assert subjects(dovecot, mail_user, "INBOX.Archive") == [subject_of(0)]

            events.events.clear()
            account.journal.submit_undo(account.journal.undo_tickets.pop())
            await events.wait_for(lambda e: isinstance(e, ActionApplied) and e.on_server, 20)
            assert not events.of(ActionRolledBack) and not events.of(ErrorReported)
    assert sorted(subjects(dovecot, mail_user, "INBOX")) == [subject_of(0), subject_of(1)]
    assert subjects(dovecot, mail_user, "INBOX.Archive") == []


async def test_keywords_a_folder_does_not_keep_are_neither_stored_nor_shown(dovecot, mail_user, tmp_path):
    # A forward marks its original $Forwarded "where its folder takes keywords": here it does not
    # (Courier refuses such a STORE whole, with the \\Flagged beside it), so only \\Flagged goes.
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(3)))
    with Store.open(tmp_path / "c.db") as store:
        async with running(dovecot, mail_user, store, rewrite=without_keywords) as (account, events):
            uid = {i: uid_of(store, "INBOX", i) for i in range(3)}
            alone = account.submit(SetFlags(account="work", folder="INBOX", uids=(uid[0],),
                                            add=frozenset({FORWARDED})))
            await events.wait_for(lambda e: isinstance(e, RequestDone) and e.request_id == alone)
            account.submit(SetFlags(account="work", folder="INBOX", uids=(uid[1],),
                                    add=frozenset({FLAGGED, FORWARDED})))
            await events.wait_for(lambda e: isinstance(e, ActionApplied) and e.on_server, 20)
            assert not events.of(ActionRolledBack) and not events.of(ErrorReported)
            assert [e.description for e in events.of(ActionApplied) if not e.on_server] == ["Marking 1 message flagged…"]
            cached = [store.summary("work", "INBOX", uid[i]) for i in range(2)]
            assert [summary.flags if summary else None for summary in cached] == [frozenset(), {FLAGGED}]
    state = server_state(dovecot, mail_user)
    assert state[message_id(0)] == frozenset() and state[message_id(1)] == {b"\\Flagged"}


async def test_a_folder_another_program_deleted_but_courier_keeps_as_noselect_shows_empty(
    dovecot, mail_user, tmp_path
):
    # Courier deletes a folder that has folders below it, and lists it \\Noselect from then on.
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(3)), folder="Work")
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(3, 5)), folder="Work/Sub")
    deleted = False

    def as_courier_lists_it(line: bytes) -> bytes:
        if deleted and line.startswith(b"* LIST (") and line.rstrip().endswith(b" INBOX.Work"):
            return line.replace(b"* LIST (", b"* LIST (\\Noselect ", 1)
        return line

    with Store.open(tmp_path / "c.db") as store:
        async with running(dovecot, mail_user, store, poll_seconds=3600,
                           rewrite=as_courier_lists_it) as (account, events):
            await until(lambda: store.counts("work", "INBOX.Work") == (3, 3), 20)
            deleted = True
            events.events.clear()
            sync = account.submit(SyncAccount(account="work"))
            await events.wait_for(lambda e: isinstance(e, RequestDone) and e.request_id == sync, 20)
            folders = {f.name: f for f in store.folders("work")}
            assert not folders["INBOX.Work"].selectable
            assert (folders["INBOX.Work"].total, folders["INBOX.Work"].unread) == (0, 0)
            assert store.uids("work", "INBOX.Work") == []
            assert store.counts("work", "INBOX.Work.Sub") == (2, 2)


async def test_delete_and_archive_make_the_trash_and_archive_a_bare_server_lacks(dovecot, mail_user, tmp_path):
    # Courier and Cyrus start a mailbox with the Inbox alone: d and a make INBOX.Trash and
    # INBOX.Archive (under the namespace), as the Sent copy makes Sent.
    user = dovecot.add_user(without=["Trash", "Archive"])
    dovecot.deliver_many(user.name, (make_message(i) for i in range(3)))
    with Store.open(tmp_path / "c.db") as store:
        async with running(dovecot, user, store) as (account, events):
            assert {f.role for f in store.folders("work")}.isdisjoint({FolderRole.TRASH, FolderRole.ARCHIVE})
            uid = {i: uid_of(store, "INBOX", i) for i in range(3)}
            account.submit(DeleteMessages(account="work", folder="INBOX", uids=(uid[0],)))
            account.submit(MoveMessages(account="work", folder="INBOX", uids=(uid[1],),
                                        target_role=FolderRole.ARCHIVE))
            await until(lambda: len([e for e in events.of(ActionApplied) if e.on_server]) == 2, 20)
            assert not events.of(ErrorReported) and not events.of(ActionRolledBack)
            roles = {f.name: f.role for f in store.folders("work")}
            assert roles["INBOX.Trash"] is FolderRole.TRASH and roles["INBOX.Archive"] is FolderRole.ARCHIVE
    assert set(server_state(dovecot, user)) == {message_id(2)}
    assert set(server_state(dovecot, user, "INBOX.Trash")) == {message_id(0)}
    assert set(server_state(dovecot, user, "INBOX.Archive")) == {message_id(1)}
