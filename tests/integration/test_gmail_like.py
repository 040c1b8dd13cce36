"""Gmail's folders are labels: All Mail (``\\All``) holds every message, Starred (``\\Flagged``)
and Important views of some. Played by the private Dovecot behind a proxy that says what Gmail
says (X-GM-EXT-1, the ``\\All`` attribute): ``a`` archives into All Mail, and a message that
arrives in the Inbox, and so in All Mail too, is new mail once."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from mailbag.domain.events import ActionApplied, ErrorReported, NewMail
from mailbag.domain.models import FolderRole
from mailbag.domain.requests import MoveMessages
from mailbag.services.imap_account import ImapAccount
from mailbag.store.store import Store
from tests.integration.accounts import Recorder, account_running, imap_account_config
from tests.integration.proxy import Proxy
from tests.integration.test_live_triage import server_state, uid_of, until
from tests.servers.dovecot import DovecotServer
from tests.servers.messages import make_message, message_id

pytestmark = pytest.mark.dovecot

ALL_MAIL = "[Gmail]/All Mail"
_CAPABILITY = re.compile(rb"(CAPABILITY [^\]\r\n]*)")


def as_gmail(line: bytes) -> bytes:
    """What Gmail says where Dovecot says it otherwise: X-GM-EXT-1 among the capabilities, All
    Mail marked ``\\All``, and no folder marked ``\\Archive`` (the test server's Archive is
    a label like any other)."""
    line = _CAPABILITY.sub(rb"\1 X-GM-EXT-1", line)
    if not line.startswith(b"* LIST ("):
        return line
    end = line.index(b")")
    attributes = [a for a in line[len(b"* LIST (") : end].split() if a.lower() != rb"\archive"]
    if b'"[Gmail]/All Mail"' in line[end:]:
        attributes.append(rb"\All")
    return b"* LIST (" + b" ".join(attributes) + line[end:]


async def test_archive_is_all_mail_and_mail_arriving_there_too_is_new_mail_once(
    dovecot: DovecotServer, mail_user, tmp_path: Path
) -> None:
    dovecot.deliver_many(mail_user.name, [make_message(1)])
    dovecot.deliver_many(mail_user.name, [make_message(1)], folder=ALL_MAIL)
    config = imap_account_config(dovecot, mail_user, security="none")
    assert config.imap is not None
    async with Proxy(dovecot.host, dovecot.imap_port, as_gmail) as proxy:
        config = dataclasses.replace(config, imap=dataclasses.replace(config.imap, host="127.0.0.1", port=proxy.port))
        with Store.open(tmp_path / "c.db") as store:
            events = Recorder()
            account = ImapAccount(config, store, events)
            async with account_running(account):
                await until(lambda: store.counts("work", ALL_MAIL)[0] == 1, 30)
                roles = {f.name: f.role for f in store.folders("work")}
                assert roles[ALL_MAIL] is FolderRole.ARCHIVE
                account.submit(MoveMessages(account="work", folder="INBOX", uids=(uid_of(store, "INBOX", 1),),
                                            target_role=FolderRole.ARCHIVE))
                await events.wait_for(lambda e: isinstance(e, ActionApplied) and e.on_server, 30)

                # New mail, as Gmail shows it: in the Inbox, and in All Mail.
                dovecot.deliver_many(mail_user.name, [make_message(2)])
                dovecot.deliver_many(mail_user.name, [make_message(2)], folder=ALL_MAIL)
                news = await events.wait_for(lambda e: isinstance(e, NewMail), 30)
                await until(lambda: store.counts("work", ALL_MAIL)[0] == 3, 30)  # All Mail synced too
                assert not events.of(ErrorReported)
    assert isinstance(news, NewMail) and news.folder == "INBOX"
    assert [e.folder for e in events.of(NewMail)] == ["INBOX"]
    assert roles["Archive"] is FolderRole.NONE  # a label, not where `a` files
    assert message_id(1) in server_state(dovecot, mail_user, ALL_MAIL)
    assert server_state(dovecot, mail_user, "Archive") == {}
    assert set(server_state(dovecot, mail_user)) == {message_id(2)}
