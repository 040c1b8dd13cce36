"""A move or copy of messages that have no Message-ID, its answer lost after the server did it:
the replay finds the copies by fingerprint (INTERNALDATE, size, header), never copies twice, and
knows where they went (so undo works)."""

from __future__ import annotations

import re

import pytest

from mailbag.domain.events import ActionApplied, RequestDone
from mailbag.domain.requests import MoveMessages
from mailbag.store.local import DONE
from tests.integration.journal_fixtures import CuttingProxy, proxied_account, server_headers
from tests.integration.test_live_triage import running, until
from tests.servers.messages import make_message, subject_of

pytestmark = pytest.mark.dovecot


def without_message_id(i: int) -> bytes:
    return re.sub(rb"Message-ID: [^\r\n]*\r\n", b"", make_message(i))


def server_subjects(dovecot, user, folder: str) -> list[str]:
    return server_headers(dovecot, user, folder, "Subject")


@pytest.mark.parametrize("copy", [False, True], ids=["move", "copy"])
async def test_a_cut_link_after_the_server_copied_messages_without_message_id_does_not_copy_twice(
    dovecot, mail_user, tmp_path, copy: bool
):
    db = tmp_path / "cache.sqlite3"
    for i in range(3):
        dovecot.deliver(mail_user.name, without_message_id(i))
    async with running(dovecot, mail_user, db) as (_account, store, _events):
        uids = store.uids("work", "INBOX")
        assert len(uids) == 3 and all(store.summary("work", "INBOX", u).message_id == "" for u in uids)
    word = b"UID COPY" if copy else b"UID MOVE"
    async with CuttingProxy(dovecot.imap_port, word) as proxy:
        async with proxied_account(dovecot, mail_user, db, proxy) as (account, store, events):
            await events.wait_for(lambda e: isinstance(e, RequestDone), 30)  # synced
            account.submit(MoveMessages(account="work", folder="INBOX", uids=(uids[0], uids[2]),
                                        target="Archive", copy=copy))
            await proxy.cut.wait()
            await events.wait_for(lambda e: isinstance(e, ActionApplied) and e.on_server, 30)
            (action,) = store.local.actions("work", None)
            await until(lambda: store.counts("work", "Archive")[0] == 2, 15)
    assert proxy.times_cut == 1
    assert sorted(server_subjects(dovecot, mail_user, "Archive")) == [subject_of(0), subject_of(2)]  # one copy each
    assert action.state == DONE and sorted(map(int, action.args["result"])) == [uids[0], uids[2]]
    inbox = [subject_of(0), subject_of(1), subject_of(2)] if copy else [subject_of(1)]
    assert sorted(server_subjects(dovecot, mail_user, "INBOX")) == inbox
