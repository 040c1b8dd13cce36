"""Drafts in the account's Drafts folder on the private Dovecot: each version saved replaces the
one before (the new one stored first), and a sent or discarded draft leaves none behind."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from mailbag.domain.compose import Draft
from mailbag.domain.events import RequestDone, RequestFailed
from mailbag.domain.outgoing import build_message
from mailbag.domain.requests import SaveDraft
from tests.integration.accounts import Recorder, imap_account_config, other_client
from tests.integration.test_journal_undo import service
from tests.integration.test_live_triage import until

pytestmark = pytest.mark.dovecot

DRAFT = Draft(
    account="work", from_="me@example.test", to="ann@example.test", subject="Plan", body="first\n",
    message_id="<draft-1@example.test>",
)


def drafts_on_server(dovecot, mail_user) -> list[tuple[int, bytes]]:
    """(uid, the whole message) of every message in Drafts, as another client sees them, read
    in one command: mailbag may be removing an old version meanwhile (a SEARCH and then a FETCH
    per message could miss one expunged between them)."""
    other = other_client(dovecot, mail_user)
    try:
        other.select("Drafts", readonly=True)
        _, data = other.uid("FETCH", "1:*", "(UID BODY.PEEK[])")
        return [
            (int(meta.split(b"UID ", 1)[1].split()[0].rstrip(b")")), raw)
            for meta, raw in (item for item in data if isinstance(item, tuple))
        ]
    finally:
        other.logout()


async def answered(events: Recorder, request_id: int) -> object:
    return await events.wait_for(
        lambda e: isinstance(e, (RequestDone, RequestFailed)) and e.request_id == request_id, 30
    )


async def test_a_new_version_replaces_the_old_one(dovecot, mail_user, tmp_path) -> None:
    dovecot.ensure_folder(mail_user.name, "Drafts")
    config = imap_account_config(dovecot, mail_user)
    now = datetime(2026, 3, 3, 10, 0, tzinfo=timezone.utc)
    async with service(config, tmp_path / "cache.sqlite3") as (mail, store, events):
        for body in ("first\n", "second\n", "third\n"):
            raw = build_message(DRAFT.with_(body=body), now=now, for_sending=False).message
            rid = mail.submit(SaveDraft(account="work", message_id=DRAFT.message_id, raw=raw))
            assert isinstance(await answered(events, rid), RequestDone)
            await until(lambda: len(drafts_on_server(dovecot, mail_user)) == 1)
            [(_, kept)] = drafts_on_server(dovecot, mail_user)
            assert b"\r\n\r\n" + body.strip().encode() + b"\r\n" in kept
        rid = mail.submit(SaveDraft(account="work", message_id=DRAFT.message_id, raw=None))
        assert isinstance(await answered(events, rid), RequestDone)
        await until(lambda: drafts_on_server(dovecot, mail_user) == [])

