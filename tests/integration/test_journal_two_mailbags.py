"""Two mailbags on one machine (two terminals, one config) share the local store and the cache,
and each replays the account's journal: an action one of them is sending is left to it, and what
the other does meanwhile still reaches the server."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from mailbag.domain.events import ActionApplied, ErrorReported, RequestDone
from mailbag.domain.models import FLAGGED
from mailbag.domain.requests import MoveMessages, SetFlags
from mailbag.services.imap_account import ImapAccount
from mailbag.services.journal import MoveOutcome
from mailbag.services.scheduler import Timings
from mailbag.store.store import Store
from tests.integration.accounts import Recorder, account_running, imap_account_config
from tests.integration.journal_fixtures import server_headers, synced
from tests.integration.test_live_triage import server_state, until
from tests.servers.messages import message_id

pytestmark = pytest.mark.dovecot


async def test_a_copy_another_mailbag_is_sending_is_made_once_and_this_ones_actions_still_go(
    dovecot, mail_user, tmp_path, monkeypatch
):
    db = tmp_path / "cache.sqlite3"
    uid = await synced(dovecot, mail_user, db, 3)
    sending, release = asyncio.Event(), asyncio.Event()
    tries: list[float] = []  # when the second mailbag tried to send its journal
    with Store.open(db) as first_store, Store.open(db) as second_store:
        first_events, second_events = Recorder(), Recorder()
        first = ImapAccount(imap_account_config(dovecot, mail_user), first_store, first_events)
        second = ImapAccount(imap_account_config(dovecot, mail_user), second_store, second_events)
        real_move = first.server_move

        async def move_when_released(*args: Any, **kwargs: Any) -> MoveOutcome:
            sending.set()  # claimed (in flight), not sent yet
            await release.wait()
            return await real_move(*args, **kwargs)

        real_replay = second.scheduler.journal.replay

        async def counted_replay() -> None:
            tries.append(time.monotonic())
            await real_replay()

        monkeypatch.setattr(first, "server_move", move_when_released)
        monkeypatch.setattr(second.scheduler.journal, "replay", counted_replay)
        try:
            async with account_running(first):
                await first_events.wait_for_one(RequestDone, timeout=30)  # the first sync
                first.submit(MoveMessages(account="work", folder="INBOX", uids=(uid[0],),
                                          target="Archive", copy=True))
                await asyncio.wait_for(sending.wait(), 30)
                async with account_running(second):  # replays the journal once connected
                    await second_events.wait_for_one(RequestDone, timeout=30)
                    second.submit(SetFlags(account="work", folder="INBOX", uids=(uid[1],),
                                           add=frozenset({FLAGGED})))
                    await second_events.wait_for_one(ActionApplied, timeout=30)
                    before = len(tries)
                    # It tries again, later (a mailbag that sent it all, as before, does not).
                    await until(lambda: len(tries) >= before + 2 or not second_store.local.actions("work"), 30)
                    release.set()
                    await first_events.wait_for_one(ActionApplied, lambda e: e.on_server, 30)
                    await second_events.wait_for_one(ActionApplied, lambda e: e.on_server, 30)
                    await until(lambda: second_store.local.actions("work") == [], 30)
        finally:
            release.set()
    assert server_headers(dovecot, mail_user, "Archive", "Message-ID") == [message_id(0)]
    assert len(server_state(dovecot, mail_user)) == 3  # a copy: the Inbox keeps it
    assert FLAGGED.encode() in server_state(dovecot, mail_user)[message_id(1)]
    assert not second_events.of(ErrorReported)
    # It waited for the other mailbag, not in a loop: each try a while after the one before.
    gaps = [later - earlier for earlier, later in zip(tries[before:], tries[before + 1 :])]
    assert gaps and min(gaps) >= 0.9 * Timings().journal_busy_seconds
