"""Two mailbags on one machine (two terminals, one config) share the local store and the cache,
and each replays the account's journal: an action one of them is sending is left to it, and what
the other does meanwhile still reaches the server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from mailbag.domain.events import ActionApplied, ErrorReported, RequestDone, RequestFailed
from mailbag.domain.models import FLAGGED
from mailbag.domain.requests import MoveMessages, RenameFolder, SetFlags
from mailbag.services.imap_account import ImapAccount
from mailbag.services.journal import MoveOutcome
from mailbag.services.scheduler import Timings
from mailbag.store.store import Store
from tests.integration.accounts import Recorder, account_running, imap_account_config
from tests.integration.journal_fixtures import server_headers, synced
from tests.integration.test_live_triage import server_state, until
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.messages import make_message, message_id

pytestmark = pytest.mark.dovecot


@asynccontextmanager
async def sending(
    dovecot: DovecotServer, user: MailUser, db: Path, move: MoveMessages, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[asyncio.Event, Recorder]]:
    """A mailbag on the cache at ``db`` that has claimed ``move`` (in flight) and holds it, not
    yet sent, until the event it gives is set; and its events."""
    release, claimed = asyncio.Event(), asyncio.Event()
    events = Recorder()
    with Store.open(db) as store:
        first = ImapAccount(imap_account_config(dovecot, user), store, events)
        real_move = first.server_move

        async def move_when_released(*args: Any, **kwargs: Any) -> MoveOutcome:
            claimed.set()
            await release.wait()
            return await real_move(*args, **kwargs)

        monkeypatch.setattr(first, "server_move", move_when_released)
        try:
            async with account_running(first):
                await events.wait_for_one(RequestDone, timeout=30)  # the first sync
                first.submit(move)
                await asyncio.wait_for(claimed.wait(), 30)
                yield release, events
        finally:
            release.set()


async def test_a_copy_another_mailbag_is_sending_is_made_once_and_this_ones_actions_still_go(
    dovecot, mail_user, tmp_path, monkeypatch
):
    db = tmp_path / "cache.sqlite3"
    uid = await synced(dovecot, mail_user, db, 3)
    copy = MoveMessages(account="work", folder="INBOX", uids=(uid[0],), target="Archive", copy=True)
    tries: list[float] = []  # when the second mailbag tried to send its journal
    async with sending(dovecot, mail_user, db, copy, monkeypatch) as (release, first_events):
        with Store.open(db) as store:
            events = Recorder()
            second = ImapAccount(imap_account_config(dovecot, mail_user), store, events)
            real_replay = second.scheduler.journal.replay

            async def counted_replay() -> None:
                tries.append(time.monotonic())
                await real_replay()

            monkeypatch.setattr(second.scheduler.journal, "replay", counted_replay)
            async with account_running(second):  # replays the journal once connected
                await events.wait_for_one(RequestDone, timeout=30)
                second.submit(SetFlags(account="work", folder="INBOX", uids=(uid[1],),
                                       add=frozenset({FLAGGED})))
                await events.wait_for_one(ActionApplied, timeout=30)
                before = len(tries)
                # It tries again, later (a mailbag that sent it all, as before, does not).
                await until(lambda: len(tries) >= before + 2 or not store.local.actions("work"), 30)
                release.set()
                await first_events.wait_for_one(ActionApplied, lambda e: e.on_server, 30)
                await events.wait_for_one(ActionApplied, lambda e: e.on_server, 30)
                await until(lambda: store.local.actions("work") == [], 30)
    assert server_headers(dovecot, mail_user, "Archive", "Message-ID") == [message_id(0)]
    assert len(server_state(dovecot, mail_user)) == 3  # a copy: the Inbox keeps it
    assert FLAGGED.encode() in server_state(dovecot, mail_user)[message_id(1)]
    assert not events.of(ErrorReported)
    # It waited for the other mailbag, not in a loop: each try a while after the one before.
    gaps = [later - earlier for earlier, later in zip(tries[before:], tries[before + 1 :])]
    assert gaps and min(gaps) >= Timings().journal_busy_seconds * 0.9


async def test_a_folder_another_mailbag_is_moving_a_message_into_is_not_renamed_under_it(
    dovecot, mail_user, tmp_path, monkeypatch
):
    dovecot.deliver(mail_user.name, make_message(10), folder="Projects")
    db = tmp_path / "cache.sqlite3"
    uid = await synced(dovecot, mail_user, db, 2)
    move = MoveMessages(account="work", folder="INBOX", uids=(uid[0],), target="Projects")
    async with sending(dovecot, mail_user, db, move, monkeypatch) as (release, first_events):
        with Store.open(db) as store:
            events = Recorder()
            second = ImapAccount(imap_account_config(dovecot, mail_user), store, events)
            async with account_running(second):
                await events.wait_for_one(RequestDone, timeout=30)
                rename = RenameFolder(account="work", folder="Projects", new_name="Plans")
                second.submit(rename)
                refused = await events.wait_for_one(
                    RequestFailed, lambda e: e.request_id == rename.request_id, 30
                )
                release.set()
                await first_events.wait_for_one(ActionApplied, lambda e: e.on_server, 30)
    assert refused.error == (
        "Projects cannot be renamed yet: 1 action on its messages not done on the server"
        " (another mailbag is sending them: try again in a moment)"
    )
    assert set(server_state(dovecot, mail_user, "Projects")) == {message_id(10), message_id(0)}
    assert list(server_state(dovecot, mail_user)) == [message_id(1)]
