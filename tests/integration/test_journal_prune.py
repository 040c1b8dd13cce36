"""The journal does not grow for ever: finished actions no undo can reach are pruned when an
account starts and now and then as it runs, over a real Maildir account."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from mailbag.domain.config import AccountConfig
from mailbag.domain.events import ActionApplied
from mailbag.domain.models import FLAGGED
from mailbag.domain.requests import SetFlags
from mailbag.protocols.maildir import MaildirStore
from mailbag.services import journal
from mailbag.services.mail import MailService
from mailbag.store.local import FINISHED
from mailbag.store.store import Store
from tests.integration.accounts import Recorder
from tests.integration.test_journal_undo import service
from tests.integration.test_live_triage import until
from tests.servers.messages import make_message


def maildir_service(root: Path, db: Path) -> AbstractAsyncContextManager[tuple[MailService, Store, Recorder]]:
    """The mail service over one Maildir account "work" at ``root``, synced once."""
    return service(AccountConfig(name="work", email="me@example.test", maildir=root), db)


async def toggle_flag(mail: MailService, events: Recorder, uid: int, times: int) -> None:
    """Flag and unflag the message ``times`` times, each change sent to the Maildir."""
    for n in range(times):
        done = len([e for e in events.of(ActionApplied) if e.on_server])
        change = frozenset({FLAGGED})
        mail.submit(SetFlags(account="work", folder="INBOX", uids=(uid,),
                             add=change if n % 2 == 0 else frozenset(), remove=change if n % 2 else frozenset()))
        await events.wait_for(lambda e: len([a for a in events.of(ActionApplied) if a.on_server]) > done, 30)


def finished(store: Store) -> int:
    return len([a for a in store.local.actions("work", None) if a.state in FINISHED])


async def test_finished_actions_are_pruned_beyond_what_undo_can_reach(tmp_path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(journal, "KEEP_FINISHED", 4)
    monkeypatch.setattr(journal, "PRUNE_EVERY", 5)
    root, db = tmp_path / "Mail", tmp_path / "cache.sqlite3"
    maildir = MaildirStore(root, "work", create=True)
    uid = maildir.add("INBOX", make_message(1))

    async with maildir_service(root, db) as (mail, store, events):
        await toggle_flag(mail, events, uid, 12)
        assert finished(store) == 12  # every one can still be undone with u
        await toggle_flag(mail, events, uid, 50)
        # 50 undo steps reach back 50 actions: the 12 before them are gone (bar the newest kept)
        await until(lambda: finished(store) <= 50 + 4 + journal.PRUNE_EVERY, 15)
        assert finished(store) >= 50
        applied = len([e for e in events.of(ActionApplied) if e.on_server])
        for _ in range(50):  # u, 50 times: each takes its action back
            assert mail.undo() is not None
        # each undo is queued, recorded, then sent: wait for all 50 to reach the Maildir (an
        # empty journal alone is also seen between two of them)
        await events.wait_for(lambda e: len([a for a in events.of(ActionApplied) if a.on_server]) >= applied + 50, 30)
        await until(lambda: store.local.actions("work") == [], 30)
        assert not [e for e in events.events if "Nothing to undo" in getattr(e, "description", "")]
    assert maildir.flags("INBOX") == {uid: frozenset()}

    async with maildir_service(root, db) as (mail, store, events):
        await until(lambda: finished(store) == 4, 15)  # at start: no undo reaches any of them
        await toggle_flag(mail, events, uid, 1)
        assert mail.undo() == "Marked 1 message flagged"
        await until(lambda: maildir.flags("INBOX") == {uid: frozenset()}, 15)
