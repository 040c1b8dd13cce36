"""Sending through the outbox over real servers: aiosmtpd delivering into Dovecot, and the
sender's account on Dovecot keeping the copy in Sent."""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from mailbag.domain.compose import Draft
from mailbag.domain.events import ErrorReported, Notice, OutboxChanged, RequestDone, RequestFailed
from mailbag.domain.outgoing import build_message
from mailbag.domain.requests import CancelOutgoing, SendMessage, SendOutgoingNow
from tests.integration.outbox_fixtures import (
    config_of,
    flags_in,
    mailbox,
    new_message,
    parsed,
    sending,
    sending_account,
)
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.dovecot_config import SPECIAL_FOLDERS
from tests.servers.smtp import SmtpServer

pytestmark = pytest.mark.dovecot


async def test_a_sent_message_arrives_and_one_copy_is_kept_in_sent(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, to, cc, hidden = (dovecot.add_user() for _ in range(4))
    message = new_message(me, [to.email], cc=[cc.email], subject="Lunch on Friday?")
    async with sending(config_of(sending_account(dovecot, me, smtp_server)), tmp_path) as s:
        await s.send(message, [to.email, cc.email, hidden.email])
        assert await s.outbox_settles() == []
        assert s.last_outbox().messages == ()
        # The status bar says it went (as mutt's "Mail sent."), once.
        told = [e.message for e in s.events.of(Notice)]
        assert told == [f'Sent "Lunch on Friday?" to {to.email} and 2 more']
    for user in (to, cc, hidden):
        (delivered,) = mailbox(dovecot, user)
        got = parsed(delivered)
        assert got["Subject"] == "Lunch on Friday?"
        assert "Bcc" not in got and hidden.email not in str(got["To"]) + str(got["Cc"])
        assert got["Message-ID"]  # added on the way out
    (copy,) = mailbox(dovecot, me, "Sent")
    assert parsed(copy)["Message-ID"] == got["Message-ID"]
    assert b"\\Seen" in flags_in(dovecot, me, "Sent")[0]
    (received,) = smtp_server.received
    assert hidden.email.encode() not in received.content  # in the envelope only
    assert sorted(received.rcpt_tos) == sorted([to.email, cc.email, hidden.email])
    assert received.tls and received.login == smtp_server.username
    assert received.mail_from == me.email


async def test_implicit_tls_carries_attachments_byte_for_byte(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, to = dovecot.add_user(), dovecot.add_user()
    blob = os.urandom(300_000) + b"\r\n.\r\n..\n.\rend"  # what would end DATA if not stuffed
    text = "Zoë's notes\n.\n..leading dots\n" * 3
    message = new_message(me, [to.email], body=text, attachments=[("data.bin", blob)])
    account = sending_account(dovecot, me, smtp_server, security="tls")
    async with sending(config_of(account), tmp_path) as s:
        await s.send(message, [to.email])
        await s.outbox_settles()
    for raw in mailbox(dovecot, to) + mailbox(dovecot, me, "Sent"):
        got = parsed(raw)
        (part,) = list(got.iter_attachments())
        assert part.get_content() == blob
        assert got.get_body().get_content().replace("\r\n", "\n") == text  # type: ignore[union-attr]


async def test_a_refused_recipient_holds_the_message_with_the_reason_and_leaves_no_copy(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, to = dovecot.add_user(), dovecot.add_user()
    smtp_server.refuse_rcpt["nobody@example.test"] = "550 5.1.1 <nobody@example.test>: no such user"
    message = new_message(me, [to.email, "nobody@example.test"])
    async with sending(config_of(sending_account(dovecot, me, smtp_server)), tmp_path) as s:
        outbox_id = await s.send(message, [to.email, "nobody@example.test"])
        (held,) = await s.outbox_settles()
        await s.events.wait_for(lambda e: isinstance(e, OutboxChanged) and e.messages == (held,))
        # Said in the status bar too, as mutt and aerc say a failed send.
        (told,) = [e for e in s.events.of(ErrorReported) if "(held in the outbox)" in e.message]
    assert (held.id, held.state) == (outbox_id, "held")
    assert "550" in held.reason and "nobody@example.test" in held.reason
    assert told.account == "work"
    assert told.message.startswith('"Hello from mailbag" not sent: ')
    assert told.message.endswith("550 5.1.1 <nobody@example.test>: no such user (held in the outbox)")
    assert mailbox(dovecot, to) == [] and mailbox(dovecot, me, "Sent") == []
    assert smtp_server.received == []


async def test_an_address_beyond_ascii_before_the_at_goes_with_smtputf8_and_arrives_as_written(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, jorg = dovecot.add_user(), dovecot.add_user()
    smtp_server.aliases["jörg@xn--bcher-kva.example"] = jorg.email  # his mailbox here
    draft = Draft(account="work", from_=me.email, to="Jörg <jörg@bücher.example>", subject="Grüße", body="Hallo\n")
    out = build_message(draft, now=datetime.now(timezone.utc))
    async with sending(config_of(sending_account(dovecot, me, smtp_server)), tmp_path) as s:
        await s.send(out.message, out.recipients)
        assert await s.outbox_settles() == []
    (received,) = smtp_server.received
    assert "SMTPUTF8" in received.mail_options
    assert received.rcpt_tos == ["jörg@xn--bcher-kva.example"]
    for raw in mailbox(dovecot, jorg) + mailbox(dovecot, me, "Sent"):
        lines = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8").splitlines()
        assert "To: Jörg <jörg@xn--bcher-kva.example>" in lines and "Subject: Grüße" in lines


async def test_without_smtputf8_an_address_beyond_ascii_is_held_with_the_reason(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me = dovecot.add_user()
    smtp_server.offer_smtputf8 = False
    out = build_message(Draft(account="work", from_=me.email, to="jörg@example.test", body="Hallo\n"),
                        now=datetime.now(timezone.utc))
    async with sending(config_of(sending_account(dovecot, me, smtp_server)), tmp_path) as s:
        await s.send(out.message, out.recipients)
        (held,) = await s.outbox_settles()
    assert held.state == "held"
    assert "an address has letters beyond ASCII, and the server does not offer SMTPUTF8" in held.reason
    assert smtp_server.received == [] and mailbox(dovecot, me, "Sent") == []


async def test_a_utf8_header_of_ascii_addresses_asks_for_smtputf8_only_where_it_is_offered(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    # A reply to a message whose id is beyond ASCII: its header is RFC 6532's, which SMTPUTF8 is
    # for; a server without it still takes it as 8-bit (as it took such headers before RFC 6532).
    me, to = dovecot.add_user(), dovecot.add_user()
    draft = Draft(account="work", from_=me.email, to=to.email, subject="Re: Grüße", body="Ja\n",
                  in_reply_to="<grüße.1@example.test>")
    out = build_message(draft, now=datetime.now(timezone.utc))
    async with sending(config_of(sending_account(dovecot, me, smtp_server)), tmp_path) as s:
        await s.send(out.message, out.recipients)
        assert await s.outbox_settles() == []
        smtp_server.offer_smtputf8 = False
        await s.send(out.message, out.recipients)
        assert await s.outbox_settles() == []
    offered, absent = smtp_server.received
    assert sorted(o for o in offered.mail_options if not o.startswith("SIZE=")) == ["BODY=8BITMIME", "SMTPUTF8"]
    assert [o for o in absent.mail_options if not o.startswith("SIZE=")] == ["BODY=8BITMIME"]
    for raw in mailbox(dovecot, to):
        assert "In-Reply-To: <grüße.1@example.test>" in raw.decode("utf-8").splitlines()


async def test_a_message_over_the_size_the_server_takes_is_held_before_it_goes_out(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    # RFC 1870: the server names its limit, and the message's size goes with MAIL FROM; it was
    # sent whole first, to be refused after the upload (552 from Postfix, at 10 MB by default).
    me, to = dovecot.add_user(), dovecot.add_user()
    small, big = new_message(me, [to.email], subject="small"), new_message(me, [to.email], body="x" * 3000 + "\n")
    smtp_server.size_limit = 2000
    async with sending(config_of(sending_account(dovecot, me, smtp_server)), tmp_path) as s:
        await s.send(small, [to.email])
        await s.send(big, [to.email])
        (held,) = await s.outbox_settles()
    assert held.state == "held" and f"; {smtp_server.host} takes at most 1 KB" in held.reason
    assert held.reason.startswith("the message is 3 KB")
    (received,) = smtp_server.received
    assert f"SIZE={len(received.content)}" in received.mail_options


async def test_a_refusal_of_the_message_holds_it_and_send_now_sends_it_once(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, to = dovecot.add_user(), dovecot.add_user()
    smtp_server.refuse_data.append("554 5.7.1 message rejected as spam")
    async with sending(config_of(sending_account(dovecot, me, smtp_server)), tmp_path) as s:
        outbox_id = await s.send(new_message(me, [to.email]), [to.email])
        (held,) = await s.outbox_settles()
        assert held.state == "held" and "554 5.7.1 message rejected as spam" in held.reason
        assert mailbox(dovecot, me, "Sent") == []
        s.service.submit(SendOutgoingNow(outbox_id=outbox_id))
        await s.events.wait_for(lambda e: isinstance(e, OutboxChanged) and not s.service.outbox_messages())
    assert len(mailbox(dovecot, to)) == 1 and len(mailbox(dovecot, me, "Sent")) == 1


async def test_with_the_smtp_server_down_the_message_waits_and_goes_once_when_it_is_back(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, to = dovecot.add_user(), dovecot.add_user()
    smtp_server.stop()
    async with sending(config_of(sending_account(dovecot, me, smtp_server)), tmp_path) as s:
        await s.send(new_message(me, [to.email]), [to.email])
        waiting = await s.events.wait_for(
            lambda e: isinstance(e, OutboxChanged)
            and any(m.state == "queued" and m.attempts >= 2 for m in e.messages)
        )
        (queued,) = waiting.messages  # type: ignore[attr-defined]
        assert f"{smtp_server.port}" in queued.reason
        (told,) = s.events.of(ErrorReported)  # once for its reason, not at every try
        assert '"Hello from mailbag" not sent yet: ' in told.message and f"{smtp_server.port}" in told.message
        assert told.message.endswith("(the outbox tries again)")
        assert mailbox(dovecot, to) == []
        smtp_server.start()
        await s.outbox_settles()
    assert len(mailbox(dovecot, to)) == 1
    assert len(mailbox(dovecot, me, "Sent")) == 1
    assert len(smtp_server.received) == 1


async def test_a_refusal_that_differs_only_in_its_numbers_is_told_once(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    # Servers put timings and session numbers in their answers: the same reason, said again.
    me, to = dovecot.add_user(), dovecot.add_user()
    smtp_server.refuse_data += ["451 4.3.0 busy, try later (0.001 secs)", "451 4.3.0 busy, try later (0.014 secs)"]
    async with sending(config_of(sending_account(dovecot, me, smtp_server)), tmp_path) as s:
        await s.send(new_message(me, [to.email]), [to.email])
        assert await s.outbox_settles(timeout=30) == []
        (told,) = s.events.of(ErrorReported)
    assert told.message == (
        '"Hello from mailbag" not sent yet: message refused: 451 4.3.0 busy, try later (0.001 secs) (the outbox tries again)'
    )
    assert len(mailbox(dovecot, to)) == 1


async def test_save_sent_false_leaves_the_copy_to_the_server(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, to = dovecot.add_user(), dovecot.add_user()
    account = sending_account(dovecot, me, smtp_server, save_sent=False)
    async with sending(config_of(account), tmp_path) as s:
        await s.send(new_message(me, [to.email]), [to.email])
        await s.outbox_settles()
    assert len(mailbox(dovecot, to)) == 1
    assert mailbox(dovecot, me, "Sent") == []


async def test_without_a_sent_folder_one_is_made_for_the_copy(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, to = dovecot.add_user(without=["Sent"]), dovecot.add_user()
    async with sending(config_of(sending_account(dovecot, me, smtp_server)), tmp_path) as s:
        await s.send(new_message(me, [to.email], subject="First"), [to.email])
        assert await s.outbox_settles() == []
        await s.send(new_message(me, [to.email], subject="Second"), [to.email])
        assert await s.outbox_settles() == []
    assert [parsed(m)["Subject"] for m in mailbox(dovecot, me, "Sent")] == ["First", "Second"]
    assert [parsed(m)["Subject"] for m in mailbox(dovecot, to)] == ["First", "Second"]
    assert len(smtp_server.received) == 2


async def test_when_no_sent_folder_can_be_made_the_copy_is_given_up_once_and_said(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, to = dovecot.add_user(without=SPECIAL_FOLDERS), dovecot.add_user()  # a bare server
    dovecot.refuse_new_folders(me)
    async with sending(config_of(sending_account(dovecot, me, smtp_server)), tmp_path) as s:
        for subject in ("First", "Second"):
            await s.send(new_message(me, [to.email], subject=subject), [to.email])
            assert await s.outbox_settles(timeout=30) == []  # nothing owed: no retry for ever
        # Once, not for every message (a try the loaded machine cut short is told on its own).
        said = [e for e in s.events.of(ErrorReported) if "no copy" in e.message]
        assert len(said) == 1, [e.message for e in said]
        (told,) = said
    assert told.account == "work" and "Sent, but no copy kept in Sent" in told.message
    assert "no Sent folder" in told.message and "Permission denied" in told.message
    assert [parsed(m)["Subject"] for m in mailbox(dovecot, to)] == ["First", "Second"]  # each sent once
    assert len(smtp_server.received) == 2


async def test_send_later_waits_and_cancel_takes_it_back(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me, to = dovecot.add_user(), dovecot.add_user()
    async with sending(config_of(sending_account(dovecot, me, smtp_server)), tmp_path) as s:
        later = await s.send(new_message(me, [to.email], subject="later"), [to.email], time.time() + 3600)
        now = await s.send(new_message(me, [to.email], subject="now"), [to.email])
        await s.events.wait_for(
            lambda e: isinstance(e, OutboxChanged) and [m.id for m in e.messages] == [later]
            and s.service.outbox_messages()[0].id == later and len(s.service.outbox_messages()) == 1
        )
        assert [parsed(m)["Subject"] for m in mailbox(dovecot, to)] == ["now"]
        cancel = CancelOutgoing(outbox_id=later)
        s.service.submit(cancel)
        await s.events.wait_for(
            lambda e: isinstance(e, RequestDone) and e.request_id == cancel.request_id
        )
        again = CancelOutgoing(outbox_id=now)
        s.service.submit(again)
        refused = await s.events.wait_for(
            lambda e: isinstance(e, RequestFailed) and e.request_id == again.request_id
        )
        assert "no longer in the outbox" in refused.error  # type: ignore[attr-defined]
        assert s.service.outbox_messages() == []


async def test_a_message_that_cannot_be_sent_as_it_is_is_refused_before_it_is_queued(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    me = dovecot.add_user()
    async with sending(config_of(sending_account(dovecot, me, smtp_server)), tmp_path) as s:
        bad = [
            SendMessage(account="work", message=b"Subject: x\rBcc: a@b.test\r\n\r\nhi", recipients=("a@b.test",)),
            SendMessage(account="work", message=b"Bcc: a@b.test\r\n\r\nhi", recipients=("a@b.test",)),
            SendMessage(account="work", message=b"Subject: hi\r\n\r\nhi", recipients=("a@b.test\r\nDATA",)),
            SendMessage(account="work", message=b"Subject: hi\r\n\r\nhi", recipients=()),
        ]
        for request in bad:
            assert isinstance(await s.answer(request), RequestFailed), request
        assert s.service.outbox_messages() == []
    assert smtp_server.received == []
