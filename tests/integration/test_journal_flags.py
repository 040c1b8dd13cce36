"""What the journal records of a flag change and puts back on undo: only flags a client can set,
never the \\Recent that Dovecot reports on new mail (which the cache does not keep either)."""

from __future__ import annotations

import pytest

from mailbag.domain.models import FLAGGED, RECENT, settable_flags
from mailbag.domain.requests import SetFlags
from mailbag.protocols.imap.client import _select_result
from mailbag.store.local import FLAGS
from mailbag.store.store import Store
from tests.integration.accounts import imap_account_config
from tests.integration.test_journal_undo import applied, service
from tests.integration.test_live_triage import server_state, uid_of, until
from tests.servers.messages import make_message, message_id


def flags_of(store: Store, uid: int) -> frozenset[str]:
    summary = store.summary("work", "INBOX", uid)
    assert summary is not None
    return summary.flags


@pytest.mark.dovecot
async def test_undo_of_a_flag_on_new_mail_records_and_restores_no_recent(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(2)))
    async with service(imap_account_config(dovecot, mail_user), tmp_path / "cache.sqlite3") as (
        mail, store, events
    ):
        uid = uid_of(store, "INBOX", 0)
        assert RECENT not in flags_of(store, uid)  # the server's flag of one session, never kept
        mail.submit(SetFlags(account="work", folder="INBOX", uids=(uid,), add=frozenset({FLAGGED})))
        await applied(events, "Marked 1 message flagged", on_server=True)
        assert mail.undo() == "Marked 1 message flagged"
        await applied(events, "Marked 1 message unflagged", on_server=True)
        await until(lambda: store.local.actions("work") == [], 15)
        recorded = [a.args["before"] for a in store.local.actions("work", None) if a.action == FLAGS]
        assert len(recorded) == 2
        assert all(RECENT not in flags for before in recorded for flags in before.values())
        assert FLAGGED not in flags_of(store, uid)
    assert server_state(dovecot, mail_user)[message_id(0)] == frozenset()


def test_permanentflags_bound_what_undo_may_set():
    select = _select_result([
        [b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Junk)"],
        [b"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)] Limited"],
        [b"* OK [UIDVALIDITY 7] Ok"],
    ])
    assert select.uidvalidity == 7
    assert select.permanentflags == frozenset({"\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"})
    had = {"\\Seen", "\\Recent", "$Junk"}
    assert settable_flags(had, select.permanentflags) == {"\\Seen"}
    assert settable_flags(had, frozenset({"\\Seen", "\\*"})) == {"\\Seen", "$Junk"}
    assert settable_flags(had) == {"\\Seen", "$Junk"}
