"""The IMAP client against the private Dovecot: TLS, folders, streaming fetch, CONDSTORE, QRESYNC."""

from __future__ import annotations

import asyncio
import imaplib
import ssl
from collections.abc import AsyncIterator

import pytest

from mailbag import __version__
from mailbag.domain.models import FolderRole
from mailbag.domain.config import Security
from mailbag.protocols.imap import FromUid, ImapClient, ImapConnectionError, ImapError, ImapSettings
from tests.integration.proxy import Proxy
from tests.servers.messages import make_message, message_id, subject_of

pytestmark = pytest.mark.dovecot


def imap_settings(dovecot, user, security: Security = "tls", ca: bool = True) -> ImapSettings:
    port = dovecot.imaps_port if security == "tls" else dovecot.imap_port
    return ImapSettings(host=dovecot.host, port=port, security=security, username=user.name,
                        password=user.password, ca_file=str(dovecot.ca_file) if ca else None, timeout=30)


@pytest.fixture
async def client(dovecot, mail_user) -> AsyncIterator[ImapClient]:
    imap = ImapClient(imap_settings(dovecot, mail_user), "work")
    await imap.connect()
    yield imap
    await imap.logout()


def other_client(dovecot, user) -> imaplib.IMAP4_SSL:
    """A second, independent client (the standard library's)."""
    context = ssl.create_default_context(cafile=str(dovecot.ca_file))
    other = imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=context)
    other.login(user.name, user.password)
    return other


async def test_a_server_that_drops_the_link_when_sent_id_is_not_sent_it_again(dovecot, mail_user) -> None:
    said: list[bytes] = []

    def dropping_at_id(line: bytes) -> bytes:
        said.append(line)
        if b" ID (" in line:
            raise ConnectionResetError("dropped at ID")
        return line

    async with Proxy(dovecot.host, dovecot.imap_port, None, dropping_at_id) as proxy:
        settings = imap_settings(dovecot, mail_user, "none")
        settings = ImapSettings(**{**settings.__dict__, "host": "127.0.0.1", "port": proxy.port})
        with pytest.raises(ImapConnectionError):
            await ImapClient(settings, "work").connect()
        imap = ImapClient(settings, "work")
        await imap.connect()  # the next connection goes without
        try:
            assert (await imap.select("INBOX")).uidvalidity > 0
        finally:
            await imap.logout()
    assert sum(b" ID (" in line for line in said) == 1


async def test_a_server_that_opens_no_folder_to_a_client_that_did_not_say_what_it_is(dovecot, mail_user) -> None:
    # As NetEase's servers (163.com, 126.com): SELECT is "Unsafe Login" until the client has
    # sent ID (RFC 2971), which Dovecot offers too.
    said: list[bytes] = []

    def client_line(line: bytes) -> bytes:
        said.append(line)
        return line

    def as_netease(line: bytes) -> bytes:
        identified = any(b" ID (" in s for s in said)
        if b"OK [READ-WRITE]" in line and not identified:
            return line.split(b" ", 1)[0] + b" NO SELECT Unsafe Login. Please contact kefu@188.com for help\r\n"
        return line

    async with Proxy(dovecot.host, dovecot.imap_port, as_netease, client_line) as proxy:
        settings = imap_settings(dovecot, mail_user, "none")
        imap = ImapClient(ImapSettings(**{**settings.__dict__, "host": "127.0.0.1", "port": proxy.port}), "work")
        await imap.connect()
        try:
            selected = await imap.select("INBOX")
        finally:
            await imap.logout()
    assert selected.uidvalidity > 0
    (identified,) = [line for line in said if b" ID (" in line]
    assert identified.split(b" ", 1)[1] == f'ID ("name" "mailbag" "version" "{__version__}")\r\n'.encode()


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_connect_with_private_ca(dovecot, mail_user, security: Security) -> None:
    imap = ImapClient(imap_settings(dovecot, mail_user, security), "work")
    await imap.connect()
    assert "IMAP4REV1" in imap.capabilities
    assert "STARTTLS" not in imap.capabilities or security == "tls"
    assert "QRESYNC" in imap.enabled
    await imap.noop()
    await imap.logout()


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_untrusted_certificate_is_refused(dovecot, mail_user, security: Security) -> None:
    imap = ImapClient(imap_settings(dovecot, mail_user, security, ca=False), "work")
    with pytest.raises(ImapConnectionError, match="certificate"):
        await imap.connect()


async def test_wrong_password_is_a_server_refusal(dovecot, mail_user) -> None:
    settings = imap_settings(dovecot, mail_user)
    imap = ImapClient(ImapSettings(**{**settings.__dict__, "password": "wrong"}), "work")
    with pytest.raises(ImapError, match="login failed") as failure:
        await imap.connect()
    assert not isinstance(failure.value, ImapConnectionError)


async def test_list_folders_roles_counts_and_unicode_names(dovecot, mail_user, client) -> None:
    dovecot.deliver_many(mail_user.name, [make_message(i) for i in range(1, 4)])
    dovecot.deliver(mail_user.name, make_message(10), folder="Sent")
    dovecot.deliver(mail_user.name, make_message(11), folder="Projekte/Grüße & Co")
    folders = {f.name: f for f in await client.list_folders()}
    inbox = folders["INBOX"]
    assert (inbox.role, inbox.total, inbox.unread) == (FolderRole.INBOX, 3, 3)
    assert (folders["Sent"].role, folders["Sent"].total) == (FolderRole.SENT, 1)
    assert folders["Trash"].role is FolderRole.TRASH
    assert folders["Drafts"].role is FolderRole.DRAFTS
    nested = folders["Projekte/Grüße & Co"]
    assert (nested.leaf, nested.depth, nested.total) == ("Grüße & Co", 1, 1)
    status = await client.status("Projekte/Grüße & Co")
    assert status["MESSAGES"] == 1 and status["UIDNEXT"] == 2 and status["HIGHESTMODSEQ"] > 0
    selected = await client.select("Projekte/Grüße & Co", readonly=True)
    assert selected.exists == 1


async def test_fetch_summaries_of_5000_messages(dovecot, mail_user, client) -> None:
    count = 5000
    dovecot.deliver_many(mail_user.name, (make_message(i, attachment=i % 7 == 0,
                                                       thread_of=i - 1 if i % 10 == 0 else None)
                                          for i in range(1, count + 1)))
    selected = await client.select("INBOX")
    assert (selected.exists, selected.uidnext) == (count, count + 1)
    assert await client.all_uids() == list(range(1, count + 1))
    summaries = []
    batches = 0
    async for batch in client.fetch_summaries(FromUid(1)):
        batches += 1
        summaries.extend(batch)
    assert batches >= 10
    assert [s.uid for s in summaries] == list(range(1, count + 1))
    for i in (1, 7, 10, 4999, 5000):
        summary = summaries[i - 1]
        expected_subject = f"Re: {subject_of(i - 1)}" if i % 10 == 0 else subject_of(i)
        assert summary.subject == expected_subject
        assert summary.message_id == message_id(i)
        assert summary.has_attachment is (i % 7 == 0)
        assert summary.date is not None and summary.date.tzinfo is not None
        assert summary.from_ and summary.to[0].email.endswith("@example.test")
        assert summary.modseq > 0
    assert summaries[9].references == (message_id(9),)
    assert summaries[9].in_reply_to == message_id(9)

    # Newest first: ask for the top of the folder, then the rest.
    newest = [s.uid async for batch in client.fetch_summaries(FromUid(count - 99)) for s in batch]
    older = [s.uid async for batch in client.fetch_summaries(range(1, count - 99)) for s in batch]
    assert newest == list(range(count - 99, count + 1))
    assert len(older) == count - 100


async def test_stopping_early_leaves_the_connection_usable(dovecot, mail_user, client) -> None:
    dovecot.deliver_many(mail_user.name, [make_message(i) for i in range(1, 1201)])
    await client.select("INBOX")
    async for batch in client.fetch_summaries(FromUid(1), batch_size=100):
        assert len(batch) == 100
        break
    assert len(await client.all_uids()) == 1200


async def test_addresses_the_server_could_not_read_are_read_from_the_messages_own_fields(
        dovecot, mail_user, client) -> None:
    # Dovecot's ENVELOPE gives MISSING_MAILBOX@MISSING_DOMAIN for a From in raw ISO-2022-JP (its
    # letters' bytes hold "<" and "@") and user@MISSING_DOMAIN for a bare "root": the list showed them.
    name = "山田太郎".encode("iso2022_jp")
    dovecot.deliver(mail_user.name, b"From: " + name + b" <yamada@example.jp>\r\nTo: " + name
                    + b" <yamada@example.jp>, b@example.jp\r\nSubject: jis\r\nMessage-ID: <jis@x>\r\n\r\nhi\r\n")
    dovecot.deliver(mail_user.name, b"From: root\r\nTo: root\r\nSubject: cron\r\nMessage-ID: <cron@x>\r\n\r\nok\r\n")
    dovecot.deliver(mail_user.name, make_message(3))
    await client.select("INBOX")
    batches = [batch async for batch in client.fetch_summaries(FromUid(1))]
    summaries = {s.uid: s for batch in batches for s in batch}
    assert sorted(summaries) == [1, 2, 3] and sum(len(b) for b in batches) == 3  # each once
    jis, cron, plain = summaries[1], summaries[2], summaries[3]
    assert [(a.name, a.email) for a in jis.from_] == [("山田太郎", "yamada@example.jp")]
    assert [a.email for a in jis.to] == ["yamada@example.jp", "b@example.jp"]
    assert (jis.subject, jis.message_id) == ("jis", "<jis@x>")  # the rest as the server gave it
    assert [a.email for a in cron.from_] == ["root"]
    assert plain.from_ and "MISSING" not in plain.from_[0].email
    assert len(await client.all_uids()) == 3  # the connection goes on


async def test_a_message_whose_attachment_mutt_deleted_or_kept_on_a_site_has_no_attachment_mark(
        dovecot, mail_user, client) -> None:
    from tests.unit.test_parts_kept_elsewhere import MUTT_DELETED, ON_FTP

    for message in (MUTT_DELETED, ON_FTP, make_message(3, attachment=True)):
        dovecot.deliver(mail_user.name, message)
    await client.select("INBOX")
    summaries = [s async for batch in client.fetch_summaries(FromUid(1)) for s in batch]
    assert [(s.uid, s.has_attachment) for s in summaries] == [(1, False), (2, False), (3, True)]


async def test_condstore_changedsince_sees_flags_from_another_client(dovecot, mail_user, client) -> None:
    dovecot.deliver_many(mail_user.name, [make_message(i) for i in range(1, 6)])
    before = await client.select("INBOX")
    assert before.highestmodseq > 0

    def flag_two() -> None:
        other = other_client(dovecot, mail_user)
        other.select("INBOX")
        other.uid("STORE", "2", "+FLAGS", "(\\Flagged)")
        other.logout()

    await asyncio.to_thread(flag_two)
    changes = [c async for batch in client.fetch_flags(changedsince=before.highestmodseq) for c in batch]
    # The server may also push the change on its own while the command runs: same values.
    latest = {uid: (flags, modseq) for uid, flags, modseq in changes}
    assert list(latest) == [2]
    assert "\\Flagged" in latest[2][0] and latest[2][1] > before.highestmodseq


async def test_qresync_reports_expunges_by_another_client(dovecot, mail_user, client) -> None:
    dovecot.deliver_many(mail_user.name, [make_message(i) for i in range(1, 6)])
    known = await client.select("INBOX")
    await client.logout()

    def expunge_three() -> None:
        other = other_client(dovecot, mail_user)
        other.select("INBOX")
        other.uid("STORE", "3", "+FLAGS", "(\\Deleted)")
        other.uid("STORE", "4", "+FLAGS", "(\\Seen)")
        other.expunge()
        other.logout()

    await asyncio.to_thread(expunge_three)
    await client.connect()
    resynced = await client.select("INBOX", qresync=(known.uidvalidity, known.highestmodseq))
    assert resynced.vanished == (3,)
    assert [(uid, "\\Seen" in flags) for uid, flags, _m in resynced.changed] == [(4, True)]
    assert resynced.exists == 4

    stream = client.fetch_flags(changedsince=known.highestmodseq)
    changed = [c async for batch in stream for c in batch]
    assert stream.vanished == [3]
    assert [uid for uid, _f, _m in changed] == [4]


async def test_new_mail_shows_no_recent_flag_to_the_session_the_server_gives_it(
    dovecot, mail_user, client
) -> None:
    """The first session to select a folder after mail came gets \\Recent on it (RFC 3501): a
    flag of that session, not of the message, which is neither kept nor shown."""
    dovecot.deliver_many(mail_user.name, [make_message(1), make_message(2)])
    await client.select("INBOX")

    summaries = [s async for batch in client.fetch_summaries(FromUid(1)) for s in batch]
    flags = [c async for batch in client.fetch_flags() for c in batch]
    await client.store_flags([1], add=["\\Flagged"])
    after = [c async for batch in client.fetch_flags([1]) for c in batch]

    assert [s.flags for s in summaries] == [frozenset(), frozenset()]
    assert [f for _uid, f, _modseq in flags] == [frozenset(), frozenset()]
    assert [f for _uid, f, _modseq in after] == [{"\\Flagged"}]


async def test_fetch_body_and_store_flags(dovecot, mail_user, client) -> None:
    original = make_message(42, attachment=True)
    dovecot.deliver_many(mail_user.name, [make_message(41), original])
    await client.select("INBOX")
    body = await client.fetch_body(2)
    assert body.endswith(original.split(b"\r\n\r\n", 1)[1])
    assert b"Message-ID: " + message_id(42).encode() in body
    with pytest.raises(ImapError):
        await client.fetch_body(99)

    await client.store_flags([1, 2], add=["\\Seen", "\\Flagged", "$Later"])
    await client.store_flags([2], remove=["\\Flagged"])

    def flags_seen_elsewhere() -> bytes:
        other = other_client(dovecot, mail_user)
        other.select("INBOX", readonly=True)
        _typ, data = other.uid("FETCH", "1:2", "(FLAGS)")
        other.logout()
        return b" ".join(d for d in data if isinstance(d, bytes))

    seen = await asyncio.to_thread(flags_seen_elsewhere)
    first, second = seen.split(b") 2 (")[0], seen.split(b") 2 (")[1]
    assert b"\\Flagged" in first and b"$Later" in first and b"\\Seen" in first
    assert b"\\Flagged" not in second and b"\\Seen" in second
    with pytest.raises(ValueError):
        await client.store_flags([1], add=["bad flag)"])


async def test_server_drops_the_link(dovecot, mail_user, client) -> None:
    await client.select("INBOX")
    await asyncio.to_thread(dovecot.kick, mail_user.name)
    with pytest.raises(ImapConnectionError):
        for _ in range(50):
            await client.noop()
            await asyncio.sleep(0.05)
