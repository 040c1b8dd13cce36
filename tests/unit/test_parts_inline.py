"""Bounces, attached and forwarded messages, digests and calendar invitations shown in the body."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import pytest

from mailbag.domain.mime import render_message
from mailbag.domain.parts_inline import MAX_NESTED


@pytest.fixture(autouse=True)
def local_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """mailbag runs in UTC unless a test says otherwise (an invitation shows the time here too)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def msg(text: str) -> bytes:
    return text.lstrip("\n").replace("\n", "\r\n").encode("utf-8")


BOUNCE = msg(
    """
From: Mail Delivery System <MAILER-DAEMON@mx.example.org>
To: ann@example.org
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.org.
I'm sorry to have to inform you that your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org
Arrival-Date: Tue,  3 Mar 2026 10:15:00 +0100 (CET)

Final-Recipient: rfc822; bob@example.net
Original-Recipient: rfc822;bob@example.net
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.net
Diagnostic-Code: smtp; 550 5.1.1 <bob@example.net>: Recipient address
    rejected: User unknown in virtual mailbox table

Final-Recipient: rfc822; carol@example.com
Action: delayed
Status: 4.4.1
Diagnostic-Code: X-Postfix; connect to mx.example.com[192.0.2.7]:25: Connection
    timed out
Will-Retry-Until: Fri, 6 Mar 2026 10:15:00 +0100

--B
Content-Type: message/rfc822
Content-Disposition: inline

From: Ann <ann@example.org>
To: bob@example.net, carol@example.com
Date: Tue, 03 Mar 2026 10:14:58 +0100
Subject: Lunch on Friday?

Shall we meet at noon?

--B--
"""
)


def test_a_bounce_says_per_recipient_why_and_shows_the_returned_message() -> None:
    rendered = render_message(BOUNCE)
    assert rendered.body.split("\n\n[-- Attached message --]")[0].split("\n\n", 1)[1] == (
        "[-- Delivery report from mx.example.org --]\n"
        "bob@example.net: not delivered\n"
        "  Status: 5.1.1 (permanent failure: no such mailbox)\n"
        "  Diagnostic: 550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown in virtual mailbox table\n"
        "  Remote server: mx.example.net\n"
        "carol@example.com: delayed, still trying\n"
        "  Status: 4.4.1 (temporary failure: no answer from the server)\n"
        "  Diagnostic: connect to mx.example.com[192.0.2.7]:25: Connection timed out\n"
        "  Retrying until: Fri, 6 Mar 2026 10:15:00 +0100"
    )
    assert rendered.body.startswith("This is the mail system at host mx.example.org.\n")
    assert rendered.body.endswith(
        "[-- Attached message --]\n"
        "From: Ann <ann@example.org>\n"
        "To: bob@example.net, carol@example.com\n"
        "Date: Tue, 03 Mar 2026 10:14 +0100\n"
        "Subject: Lunch on Friday?\n"
        "\n"
        "Shall we meet at noon?\n"
        "[-- End of attached message --]"
    )
    # The report is text in the body, not an "attachment.bin"; the returned message can be saved.
    assert [(a.filename, a.content_type) for a in rendered.attachments] == [("Lunch on Friday_.eml", "message/rfc822")]


def test_a_bounce_with_the_returned_headers_only_shows_them() -> None:
    report = BOUNCE.replace(
        b"Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n", b"Content-Type: text/rfc822-headers\r\n"
    ).replace(b"\r\n\r\nShall we meet at noon?\r\n", b"\r\n")
    rendered = render_message(report)
    assert rendered.body.endswith(
        "[-- Headers of the returned message --]\n"
        "From: Ann <ann@example.org>\n"
        "To: bob@example.net, carol@example.com\n"
        "Date: Tue, 03 Mar 2026 10:14:58 +0100\n"
        "Subject: Lunch on Friday?"
    )
    assert rendered.attachments == []


def test_a_report_without_a_per_message_block_or_a_known_code_still_names_each_recipient() -> None:
    report = msg(
        """
Subject: Delivery Status Notification (Failure)
Content-Type: message/delivery-status

Final-Recipient: rfc822; dan@example.org
Action: failed
Status: 5.9.99
"""
    )
    assert render_message(report).body == (
        "[-- Delivery report --]\ndan@example.org: not delivered\n  Status: 5.9.99 (permanent failure)"
    )


def test_a_notice_labelled_as_a_report_but_holding_none_of_its_fields_is_shown_as_written() -> None:
    """Some servers label their prose notice message/delivery-status: its reason is shown,
    where "(empty)" hid the only words saying why the message bounced."""
    report = msg(
        """
Subject: Returned mail
Content-Type: message/delivery-status;

This Message was undeliverable due to the following reason:

<dan@example.org> has restricted SMS e-mail
"""
    )
    assert render_message(report).body == (
        "[-- Delivery report --]\nThis Message was undeliverable due to the following reason:\n\n"
        "<dan@example.org> has restricted SMS e-mail"
    )
    assert render_message(msg("\nSubject: r\nContent-Type: message/delivery-status\n\n\n")).body == (
        "[-- Delivery report (empty) --]"
    )


def forwarded(inner: str, disposition: str = "attachment") -> bytes:
    return msg(
        f"""
From: Bob <bob@example.org>
To: Ann <ann@example.org>
Subject: Fwd: the plan
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="F"

--F
Content-Type: text/plain

See below.
--F
Content-Type: message/rfc822
Content-Disposition: {disposition}

{inner}
--F--
"""
    )


PLAN = """From: =?utf-8?q?Ren=C3=A9e?= <renee@example.org>
To: Bob <bob@example.org>
Cc: "Dave, Jr." <dave@example.org>
Date: Mon, 02 Mar 2026 09:00:00 +0000
Subject: the plan
Content-Type: multipart/mixed; boundary="P"

--P
Content-Type: multipart/alternative; boundary="Q"

--Q
Content-Type: text/html

<p>Step <b>one</b>, then two.</p>
--Q--
--P
Content-Type: application/pdf; name="plan.pdf"
Content-Disposition: attachment; filename="plan.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--P--"""


def test_an_attached_message_shows_its_headers_body_and_attachments() -> None:
    rendered = render_message(forwarded(PLAN))
    assert rendered.body == (
        "See below.\n\n"
        "[-- Attached message --]\n"
        "From: Renée <renee@example.org>\n"
        "To: Bob <bob@example.org>\n"
        'Cc: "Dave, Jr." <dave@example.org>\n'
        "Date: Mon, 02 Mar 2026 09:00 +0000\n"
        "Subject: the plan\n"
        "Attach: plan.pdf\n"
        "\n"
        "Step one, then two.\n"
        "[-- End of attached message --]"
    )
    assert [a.filename for a in rendered.attachments] == ["the plan.eml"]


def nested(levels: int) -> str:
    """A message forwarded as an attachment ``levels`` times."""
    text = "From: origin@example.org\nSubject: level 0\n\nThe original words."
    for level in range(1, levels + 1):
        text = (
            f"From: hop{level}@example.org\nSubject: level {level}\nMIME-Version: 1.0\n"
            f'Content-Type: multipart/mixed; boundary="N{level}"\n\n'
            f"--N{level}\nContent-Type: text/plain\n\nForwarding, hop {level}.\n"
            f"--N{level}\nContent-Type: message/rfc822\n\n{text}\n--N{level}--"
        )
    return text


def test_nested_forwards_are_shown_to_a_depth_limit() -> None:
    shallow = render_message(msg(nested(3))).body
    assert shallow.count("[-- Attached message --]") == 3
    assert shallow.count("[-- End of attached message --]") == 3
    assert "Subject: level 0\n\nThe original words.\n[-- End of attached message --]" in shallow
    deep = render_message(msg(nested(MAX_NESTED + 3))).body
    assert deep.count("[-- Attached message --]") == MAX_NESTED
    hidden = MAX_NESTED + 3 - MAX_NESTED - 1
    assert f'[-- Attached message "level {hidden}" not shown: nested more than {MAX_NESTED} deep --]' in deep
    assert "The original words." not in deep


DIGEST = msg(
    """
From: python-list-request@example.org
To: python-list@example.org
Date: Mon, 02 Mar 2026 08:00:00 +0000
Subject: Python-list Digest, Vol 12, Issue 3
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="T"

--T
Content-Type: text/plain

Today's Topics:
   1. First post (Ann)
   2. Second post (Bob)

--T
Content-Type: multipart/digest; boundary="D"

--D

From: Ann <ann@example.org>
Subject: First post
Date: Tue, 3 Mar 2026 10:00:00 +0000

Hello list.

--D

From: Bob <bob@example.org>
Subject: Second post
Content-Type: text/html

<p>Hi <b>all</b></p>
--D--

--T--
"""
)


def test_each_message_of_a_digest_is_shown_with_its_headers() -> None:
    rendered = render_message(DIGEST)
    assert rendered.body == (
        "Today's Topics:\n   1. First post (Ann)\n   2. Second post (Bob)\n\n"
        "[-- Attached message --]\nFrom: Ann <ann@example.org>\nDate: Tue, 03 Mar 2026 10:00 +0000\n"
        "Subject: First post\n\nHello list.\n[-- End of attached message --]\n\n"
        "[-- Attached message --]\nFrom: Bob <bob@example.org>\nSubject: Second post\n\n"
        "Hi all\n[-- End of attached message --]"
    )
    assert [a.filename for a in rendered.attachments] == ["First post.eml", "Second post.eml"]


ICS = """BEGIN:VCALENDAR
PRODID:-//Example//Calendar//EN
VERSION:2.0
METHOD:{method}
BEGIN:VTIMEZONE
TZID:W. Europe Standard Time
BEGIN:STANDARD
DTSTART:16010101T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
UID:abc@example.org
SUMMARY:Quarterly planning
DTSTART;TZID=W. Europe Standard Time:20260310T100000
DTEND;TZID=W. Europe Standard Time:20260310T113000
LOCATION:Room 4\\, second floor
ORGANIZER;CN=Ann Example:mailto:ann@example.org
ATTENDEE;CN=Bob;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT:mailto:bob@example.org
ATTENDEE;PARTSTAT=ACCEPTED:mailto:carol@example.org
RRULE:FREQ=WEEKLY;COUNT=4
DESCRIPTION:Agenda:\\n1. budget\\n2. hiring
STATUS:{status}
END:VEVENT
END:VCALENDAR
"""


def invitation(method: str = "REQUEST", status: str = "CONFIRMED", ics: str | None = None) -> bytes:
    """An Outlook-style invitation: the calendar is an alternative to the text, and attached too."""
    calendar = ics if ics is not None else ICS.format(method=method, status=status)
    return msg(
        f"""
From: Ann Example <ann@example.org>
To: Bob <bob@example.org>
Subject: Invitation: Quarterly planning
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="M"

--M
Content-Type: multipart/alternative; boundary="A"

--A
Content-Type: text/plain; charset=utf-8

You have been invited to Quarterly planning.
--A
Content-Type: text/calendar; method={method}; charset=utf-8

{calendar}
--A--
--M
Content-Type: application/ics; name="invite.ics"
Content-Disposition: attachment; filename="invite.ics"

{calendar}
--M--
"""
    )


SUMMARY = (
    "What:      Quarterly planning\n"
    "When:      Tue 10 Mar 2026 10:00-11:30 (W. Europe Standard Time, UTC+01:00)\n"
    "Your time: Tue 10 Mar 2026 09:00-10:30 (UTC)\n"
    "Repeats:   every week, 4 times\n"
    "Where:     Room 4, second floor\n"
    "Organizer: Ann Example <ann@example.org>\n"
    "Attendees: Bob <bob@example.org> (not answered yet), carol@example.org (accepted)\n"
    "\n"
    "Agenda:\n1. budget\n2. hiring"
)


def test_an_invitation_is_summarised_once_below_the_text_and_can_still_be_saved() -> None:
    rendered = render_message(invitation())
    assert rendered.body == (
        "You have been invited to Quarterly planning.\n\n[-- Calendar: invitation --]\n" + SUMMARY
    )
    assert [(a.filename, a.content_type) for a in rendered.attachments] == [
        ("attachment.ics", "text/calendar"),
        ("invite.ics", "application/ics"),
    ]


def test_a_cancellation_says_so() -> None:
    body = render_message(invitation("CANCEL", "CANCELLED")).body
    assert "[-- Calendar: event cancelled --]\nWhat:      Quarterly planning\nStatus:    cancelled\n" in body


def test_all_day_and_utc_events_and_an_unreadable_calendar() -> None:
    all_day = (
        "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:1\nSUMMARY:Offsite\nDTSTART;VALUE=DATE:20260401\n"
        "DTEND;VALUE=DATE:20260403\nEND:VEVENT\nBEGIN:VEVENT\nUID:2\nSUMMARY:Call\nDTSTART:20260401T150000Z\n"
        "DURATION:PT45M\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    assert render_message(invitation(ics=all_day)).body.split("\n\n", 1)[1] == (
        "[-- Calendar: event --]\n"
        "What:      Offsite\nWhen:      Wed 1 Apr 2026 - Thu 2 Apr 2026 (all day)\n\n"
        "What:      Call\nWhen:      Wed 1 Apr 2026 15:00-15:45 (UTC)"
    )
    broken = render_message(invitation(ics="BEGIN:VCALENDAR\nthis is not a calendar\n")).body
    assert broken.endswith("[-- Calendar: could not be read --]")


def test_an_attached_message_sent_base64_is_decoded_first() -> None:
    encoded = base64.encodebytes(PLAN.replace("\n", "\r\n").encode()).decode()
    rendered = render_message(
        forwarded(encoded.rstrip("\n"), "inline").replace(
            b"Content-Disposition: inline\r\n", b"Content-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n"
        )
    )
    assert "From: Renée <renee@example.org>\n" in rendered.body
    assert "Step one, then two.\n[-- End of attached message --]" in rendered.body


def test_hostile_reports_calendars_and_attached_messages_stay_inert_text() -> None:
    esc, rlo = "\x1b", "\u202e"
    report = BOUNCE.replace(b"Status: 5.1.1", f"Status: 5.1.1{esc}[2J".encode()).replace(
        b"Remote-MTA: dns; mx.example.net", f"Remote-MTA: dns; mx{esc}]0;owned\x07.example.net{rlo}".encode()
    ).replace(b"Subject: Lunch on Friday?", f"Subject: =?utf-8?q?Lunch=1B[31m?= {rlo}gnp.exe".encode())
    calendar = ICS.format(method="REQUEST", status="CONFIRMED").replace(
        "SUMMARY:Quarterly planning", f"SUMMARY:Quarterly{esc}[5m planning\\n{rlo}fake line"
    ).replace("LOCATION:Room 4\\, second floor", f"LOCATION:Room{esc}P1;2|x{esc}\\\\ 4")
    for raw in (report, invitation(ics=calendar)):
        body = render_message(raw).body
        assert esc not in body and rlo not in body and "\x07" not in body
        assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in body)
        assert not any(0x7F <= ord(ch) <= 0x9F for ch in body)
    assert "  Remote server: mx.example.net\n" in render_message(report).body
    assert "Subject: Lunch gnp.exe\n" in render_message(report).body
    summary = render_message(invitation(ics=calendar)).body
    assert "What:      Quarterly planning fake line\n" in summary  # one line: the summary cannot add rows
    assert "Where:     Room 4\n" in summary


def test_a_message_forwarded_thousands_of_times_shows_its_first_levels() -> None:
    raw = "From: origin@example.org\nSubject: level 0\n\nThe original words."
    for level in range(1, 3001):
        raw = f"From: hop{level}@example.org\nSubject: level {level}\nContent-Type: message/rfc822\n\n{raw}"
    rendered = render_message(msg(raw))
    assert rendered.body.count("[-- Attached message --]") == MAX_NESTED
    assert f'"level {3000 - MAX_NESTED - 1}" not shown: nested more than {MAX_NESTED} deep' in rendered.body
    assert [a.filename for a in rendered.attachments] == ["level 2999.eml"]


def test_a_digest_of_thousands_of_messages_shows_them_all() -> None:
    posts = "".join(f"--D\n\nFrom: p{n}@example.org\nSubject: post {n}\n\nbody {n}\n" for n in range(3000))
    rendered = render_message(msg(f"Subject: big digest\nContent-Type: multipart/digest; boundary=D\n\n{posts}--D--\n"))
    assert rendered.body.count("[-- Attached message --]") == 3000
    assert rendered.body.endswith("Subject: post 2999\n\nbody 2999\n[-- End of attached message --]")
    assert len(rendered.attachments) == 3000


def test_a_read_receipt_says_what_became_of_the_message() -> None:
    receipt = msg(
        """
From: Bob <bob@example.org>
To: Ann <ann@example.org>
Subject: Read: Lunch on Friday?
MIME-Version: 1.0
Content-Type: multipart/report; report-type=disposition-notification; boundary="R"

--R
Content-Type: text/plain

This is a receipt for the mail you sent.
--R
Content-Type: message/disposition-notification

Reporting-UA: bob-laptop.example.org; Thunderbird 128.3
Original-Recipient: rfc822;bob@example.org
Final-Recipient: rfc822;bob@example.org
Original-Message-ID: <lunch-1@example.org>
Disposition: manual-action/MDN-sent-manually; displayed

--R--
"""
    )
    rendered = render_message(receipt)
    assert rendered.body == (
        "This is a receipt for the mail you sent.\n\n"
        "[-- Read receipt from bob-laptop.example.org; Thunderbird 128.3 --]\n"
        "bob@example.org: opened (shown to the recipient)\n"
        "  Message: <lunch-1@example.org>"
    )
    assert rendered.attachments == []
    deleted = receipt.replace(b"manual-action/MDN-sent-manually; displayed", b"automatic-action/MDN-sent-automatically; deleted")
    assert render_message(deleted).body.endswith(
        "bob@example.org: deleted without being read\n"
        "  Sent automatically by the recipient's mail program\n"
        "  Message: <lunch-1@example.org>"
    )


def test_an_invitation_gives_the_time_where_mailbag_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "EST5EDT,M3.2.0,M11.1.0")  # New York, without the tz database
    time.tzset()
    assert "Your time: Tue 10 Mar 2026 05:00-06:30 (EDT)\n" in render_message(invitation()).body
    utc = (
        "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:2\nSUMMARY:Call\nDTSTART:20260101T030000Z\n"
        "DTEND:20260101T040000Z\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    assert render_message(invitation(ics=utc)).body.endswith(
        "When:      Thu 1 Jan 2026 03:00-04:00 (UTC)\nYour time: Wed 31 Dec 2025 22:00-23:00 (EST)"
    )


def test_an_abuse_report_says_what_kind_and_about_what_then_shows_the_message_reported() -> None:
    report = msg(
        """
From: abuse@mail.example.net
To: postmaster@example.org
Subject: FW: Cheap watches
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="F"

--F
Content-Type: text/plain

A user marked this message as spam.
--F
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ExampleFeedback/2.0
Version: 1
Source-IP: 192.0.2.7
Original-Rcpt-To: <ann@mail.example.net>
Reported-Domain: example.org

--F
Content-Type: message/rfc822

From: list@example.org
Subject: Cheap watches

Buy now.
--F--
"""
    )
    rendered = render_message(report)
    assert rendered.body == (
        "A user marked this message as spam.\n\n"
        "[-- Abuse report: abuse --]\n"
        "  Reported by: ExampleFeedback/2.0\n"
        "  Source IP: 192.0.2.7\n"
        "  Recipient: <ann@mail.example.net>\n"
        "  Domain: example.org\n\n"
        "[-- Attached message --]\nFrom: list@example.org\nSubject: Cheap watches\n\nBuy now.\n"
        "[-- End of attached message --]"
    )
    assert [a.filename for a in rendered.attachments] == ["Cheap watches.eml"]  # was also attachment.bin
