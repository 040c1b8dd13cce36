"""What a real server will not do, played by a scripted one: the link dropped after the final
dot, STARTTLS left out or refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mailbag.domain.config import ServerConfig
from mailbag.domain.events import ErrorReported
from mailbag.domain.requests import SendOutgoingNow
from tests.integration.outbox_fixtures import config_of, mailbox, new_message, sending, sending_account
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.smtp_script import Script, ScriptedSmtp

pytestmark = pytest.mark.dovecot


def scripted_smtp(server: ScriptedSmtp, security: str) -> ServerConfig:
    return ServerConfig(
        host=server.host, port=server.port, security=security,  # type: ignore[arg-type]
        username="me", password_command="printf 'pw\\n'", ca_file=server.ca_file,
    )


@pytest.fixture
def scripted(dovecot: DovecotServer, request: pytest.FixtureRequest) -> Iterator[ScriptedSmtp]:
    script, tls = request.param
    server = ScriptedSmtp(dovecot, script, tls=tls).start()
    yield server
    server.stop()


@pytest.mark.parametrize("scripted", [(Script(after_dot="drop"), True)], indirect=True)
async def test_a_link_dropped_after_the_final_dot_leaves_the_message_uncertain_never_resent(
    dovecot: DovecotServer, mail_user: MailUser, scripted: ScriptedSmtp, tmp_path: Path
) -> None:
    account = sending_account(dovecot, mail_user, scripted_smtp(scripted, "tls"))
    async with sending(config_of(account), tmp_path) as s:
        first = await s.send(new_message(mail_user, ["a@example.test"], subject="first"), ["a@example.test"])
        await s.send(new_message(mail_user, ["a@example.test"], subject="second"), ["a@example.test"])
        (uncertain,) = await s.outbox_settles()  # the second went out after the first's verdict
        assert (uncertain.id, uncertain.state) == (first, "uncertain")
        assert "lost after the message was handed over" in uncertain.reason
        (told,) = [e for e in s.events.of(ErrorReported) if "may have been sent" in e.message]
        assert told.message.startswith('"first" may have been sent: ')
        assert told.message.endswith("(left in the outbox, not sent again)")
        assert len(scripted.seen.messages) == 2 and b"Subject: first" in scripted.seen.messages[0]
        (second_copy,) = mailbox(dovecot, mail_user, "Sent")  # none for the uncertain one
        assert b"Subject: second" in second_copy
        # The user decides: send it again.
        await s.answer(SendOutgoingNow(outbox_id=first))
        assert await s.outbox_settles() == []
    assert [b"Subject: first" in m for m in scripted.seen.messages] == [True, False, True]
    assert len(mailbox(dovecot, mail_user, "Sent")) == 2


@pytest.mark.parametrize(
    "scripted",
    [(Script(starttls="absent"), False), (Script(starttls="refuse"), False)],
    ids=["stripped", "refused"],
    indirect=True,
)
async def test_without_starttls_nothing_is_sent_in_plain_text(
    dovecot: DovecotServer, mail_user: MailUser, scripted: ScriptedSmtp, tmp_path: Path
) -> None:
    account = sending_account(dovecot, mail_user, scripted_smtp(scripted, "starttls"))
    async with sending(config_of(account), tmp_path) as s:
        await s.send(new_message(mail_user, ["a@example.test"]), ["a@example.test"])
        waiting = await s.events.wait_for(
            lambda e: any(m.attempts >= 2 for m in getattr(e, "messages", ()))
        )
    (queued,) = waiting.messages  # type: ignore[attr-defined]
    assert queued.state == "queued" and "nothing was sent in plain text" in queued.reason
    assert scripted.seen.count("AUTH") == scripted.seen.count("MAIL") == 0
    assert scripted.seen.messages == []
