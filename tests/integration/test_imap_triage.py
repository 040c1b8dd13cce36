"""Triage commands against the private Dovecot: move, copy, expunge, append, search, status_many."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

import pytest

from mailbag.protocols.imap import CopyResult, FromUid, ImapClient
from tests.integration import test_imap_dovecot
from tests.integration.test_imap_dovecot import other_client
from tests.servers.messages import make_message, subject_of

pytestmark = pytest.mark.dovecot
client = test_imap_dovecot.client  # a connected ImapClient (fixture)


def utf8_message(subject: str, body: str, sender: str = "alice@example.test") -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "user@example.test"
    message["Subject"] = subject
    message.set_content(body, charset="utf-8")
    return message.as_bytes().replace(b"\n", b"\r\n")


async def subjects(client: ImapClient, folder: str) -> list[str]:
    await client.select(folder)
    found: list[str] = []
    async for batch in client.fetch_summaries(FromUid(1)):
        found.extend(s.subject for s in batch)
    return found


async def test_move_returns_copyuid_and_moves_only_those(dovecot, mail_user, client) -> None:
    for i in range(1, 5):
        dovecot.deliver(mail_user.name, make_message(i))
    archive = await client.status("Archive")
    await client.select("INBOX")
    result = await client.move([3, 1], "Archive")
    assert result == CopyResult(archive["UIDVALIDITY"], (1, 3), (1, 2))
    assert await client.all_uids() == [2, 4]
    assert await subjects(client, "Archive") == [subject_of(1), subject_of(3)]


async def test_copy_keeps_the_source(dovecot, mail_user, client) -> None:
    for i in range(1, 4):
        dovecot.deliver(mail_user.name, make_message(i))
    dovecot.ensure_folder(mail_user.name, "Projects/Zoë")
    await client.select("INBOX")
    result = await client.copy([2, 3], "Projects/Zoë")
    assert result.mapping == {2: 1, 3: 2} and result.uidvalidity > 0
    assert await client.all_uids() == [1, 2, 3]
    assert await subjects(client, "Projects/Zoë") == [subject_of(2), subject_of(3)]


async def test_expunge_uids_leaves_other_deleted_messages(dovecot, mail_user, client) -> None:
    for i in range(1, 5):
        dovecot.deliver(mail_user.name, make_message(i))
    other = other_client(dovecot, mail_user)
    try:
        other.select("INBOX")
        other.uid("STORE", "2", "+FLAGS", "(\\Deleted)")  # marked by another client, not ours to remove
    finally:
        other.logout()
    await client.select("INBOX")
    await client.expunge_uids([3])
    assert await client.all_uids() == [1, 2, 4]
    assert await client.search("DELETED") == [2]


async def test_append_returns_the_new_uid(dovecot, mail_user, client) -> None:
    dovecot.deliver(mail_user.name, make_message(1), folder="Drafts")
    uidnext = (await client.status("Drafts"))["UIDNEXT"]
    raw = utf8_message("Entwurf über Größe", "Grüße aus Köln\n")
    when = datetime(2024, 2, 29, 23, 5, 9, tzinfo=timezone(timedelta(hours=1)))
    uid = await client.append("Drafts", raw, flags=["\\Draft", "\\Seen"], date=when)
    assert uid == uidnext
    await client.select("Drafts")
    assert await client.fetch_body(uid) == raw
    flags = [entry async for batch in client.fetch_flags([uid]) for entry in batch]
    assert flags[0][1] >= {"\\Draft", "\\Seen"}
    summaries = [s async for batch in client.fetch_summaries([uid]) for s in batch]
    assert summaries[0].subject == "Entwurf über Größe"


async def test_search_ascii_and_non_ascii(dovecot, mail_user, client) -> None:
    messages = [
        utf8_message("Größe der Dateien", "nothing special\n"),
        utf8_message("日本語のメール", "plain words\n", sender="kenji@example.test"),
        utf8_message("Weekly notes", "Treffen in der Straße am Markt, dann 東京\n"),
        utf8_message("Quarterly report", "numbers\n", sender="bob@example.test"),
    ]
    for raw in messages:
        dovecot.deliver(mail_user.name, raw)
    await client.select("INBOX")
    assert await client.search('SUBJECT "Größe"') == [1]
    assert await client.search("SUBJECT 日本語") == [2]
    assert await client.search('BODY "Straße"') == [3]
    assert await client.search("OR SUBJECT Größe (BODY 東京)") == [1, 3]
    assert await client.search('FROM "bob@example.test"') == [4]
    assert await client.search("SUBJECT report") == [4]
    assert await client.search('NOT SUBJECT "日本語"') == [1, 3, 4]


@pytest.mark.parametrize("list_status", [True, False], ids=["list-status", "pipelined-status"])
async def test_status_many(dovecot, mail_user, client, list_status: bool) -> None:
    dovecot.deliver(mail_user.name, make_message(1))
    dovecot.deliver(mail_user.name, make_message(2))
    dovecot.deliver(mail_user.name, make_message(3), folder="Sent")
    dovecot.deliver(mail_user.name, make_message(4), folder="Projects/Zoë")
    if not list_status:
        client.capabilities = client.capabilities - {"LIST-STATUS"}
    counts = await client.status_many(["INBOX", "Sent", "Projects/Zoë", "Trash", "Missing"])
    assert set(counts) == {"INBOX", "Sent", "Projects/Zoë", "Trash"}
    assert counts["INBOX"]["MESSAGES"] == 2 and counts["INBOX"]["UNSEEN"] == 2
    assert counts["Sent"]["MESSAGES"] == 1 and counts["Projects/Zoë"]["UIDNEXT"] == 2
    assert counts["Trash"]["MESSAGES"] == 0 and counts["Trash"]["UIDVALIDITY"] > 0
