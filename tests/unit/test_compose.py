"""Replies, forwards and the bytes that are sent: on messages of the shared corpus and our own."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timezone
from pathlib import Path

import pytest

from mailbag.domain.compose import (
    Draft,
    DraftAttachment,
    Identity,
    draft_from_message,
    forward_attached,
    forward_inline,
    new_draft,
    read_original,
    reply,
    reply_subject,
    forward_subject,
    send_time,
)
from mailbag.domain.mime import render_message
from mailbag.domain.outgoing import ComposeError, build_message
from tests.unit.test_corpus import CORPUS

ME = Identity(account="work", email="me@example.org", name="Me Example", signature="Me\nexample.org")
NOW = datetime(2026, 3, 3, 10, 12, tzinfo=timezone.utc)


def corpus(name: str) -> bytes:
    path = CORPUS / "stalwart-mail-parser" / name
    if not path.is_file():
        pytest.fail(f"corpus message {name} not found under {CORPUS}")
    return path.read_bytes()


def parsed(raw: bytes) -> email.message.EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


MAIL = (
    b"From: Ann Example <ann@example.org>\r\n"
    b"To: Me Example <me@example.org>, bob@example.org\r\n"
    b"Cc: Carol <carol@example.org>, ME@EXAMPLE.ORG\r\n"
    b"Subject: RE: Aw: Re[2]: lunch\r\n"
    b"Date: Tue, 03 Mar 2026 09:30:00 +0100\r\n"
    b"Message-ID: <m2@example.org>\r\n"
    b"References: <m0@example.org> <m1@example.org>\r\n"
    b"\r\n"
    b"Shall we?\r\n> earlier words\r\n"
)


def test_reply_quotes_with_attribution_and_threads() -> None:
    draft = reply(read_original(MAIL), ME)
    assert draft.to == "Ann Example <ann@example.org>"
    assert draft.cc == ""
    assert draft.subject == "Re: lunch"
    assert draft.in_reply_to == "<m2@example.org>"
    assert draft.references == ("<m0@example.org>", "<m1@example.org>", "<m2@example.org>")
    assert draft.body.startswith("On Tue, 3 Mar 2026 at 09:30, Ann Example wrote:\n> Shall we?\n>> earlier words\n")
    assert draft.body.endswith("\n-- \nMe\nexample.org\n")
    assert draft.from_ == "Me Example <me@example.org>"


def test_reply_all_leaves_out_own_addresses_and_duplicates() -> None:
    draft = reply(read_original(MAIL), ME, "all")
    assert draft.to == "Ann Example <ann@example.org>"
    assert draft.cc == "bob@example.org, Carol <carol@example.org>"


def test_reply_to_own_message_goes_to_its_recipients() -> None:
    sent = MAIL.replace(b"From: Ann Example <ann@example.org>", b"From: me@example.org").replace(
        b"To: Me Example <me@example.org>, bob@example.org", b"To: bob@example.org"
    )
    assert reply(read_original(sent), ME).to == "bob@example.org"


def test_list_reply_and_reply_to_on_a_real_list_message() -> None:
    original = read_original(corpus("thirdparty/014.eml"))
    listed = reply(original, ME, "list")
    assert listed.to == "shapelib@lists.maptools.org"
    assert listed.subject == "Re: [Shapelib] need some help"
    assert listed.in_reply_to == "<325993.29502.qm@web28416.mail.ukl.yahoo.com>"
    # Reply-To wins over From for a plain reply.
    assert reply(original, ME).to == "Shapelib Development <shapelib@lists.maptools.org>"


def test_reply_to_html_only_message_quotes_its_text_rendering() -> None:
    raw = corpus("thirdparty/016.eml")
    draft = reply(read_original(raw), ME)
    text = render_message(raw).body
    assert text.strip() and "<" not in text.split("\n")[0]
    first_line = next(line for line in text.split("\n") if line.strip())
    assert f"> {first_line}" in draft.body
    assert "<html" not in draft.body.lower() and "<p" not in draft.body.lower()


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("lunch", "Re: lunch"),
        ("Re: lunch", "Re: lunch"),
        ("RE: re: Lunch", "Re: Lunch"),
        ("Aw: lunch", "Re: lunch"),
        ("Re[2]: lunch", "Re: lunch"),
        ("Re: Fwd: lunch", "Re: Fwd: lunch"),
        ("Reply needed", "Re: Reply needed"),
        ("", "Re: "),
    ],
)
def test_reply_subject_never_stacks(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [("lunch", "Fwd: lunch"), ("Fwd: FW: lunch", "Fwd: lunch"), ("WG: lunch", "Fwd: lunch"), ("Re: x", "Fwd: Re: x")],
)
def test_forward_subject_never_stacks(subject: str, expected: str) -> None:
    assert forward_subject(subject) == expected


def test_forward_inline_carries_text_and_attachments() -> None:
    raw = corpus("thirdparty/019.eml")
    rendered = render_message(raw)
    assert rendered.attachments
    draft = forward_inline(read_original(raw), ME)
    assert draft.subject == "Fwd: " + rendered.subject
    assert "---------- Forwarded message ----------" in draft.body
    assert [a.filename for a in draft.attachments] == [a.filename for a in rendered.attachments]
    assert draft.to == "" and draft.in_reply_to == ""


def test_forward_as_attachment_round_trips_the_original() -> None:
    raw = corpus("thirdparty/014.eml")
    draft = forward_attached(read_original(raw), ME).with_(to="bob@example.org")
    sent = parsed(build_message(draft, now=NOW).message)
    parts = [p for p in sent.iter_attachments()]
    assert len(parts) == 1 and parts[0].get_content_type() == "message/rfc822"
    inner = parts[0].get_content()
    assert inner["Message-ID"] == "<325993.29502.qm@web28416.mail.ukl.yahoo.com>"
    assert parts[0].get_filename() == "Shapelib need some help.eml"


def test_sent_message_has_ids_date_and_no_bcc() -> None:
    draft = Draft(
        account="work",
        from_="Me Example <me@example.org>",
        to="Ann <ann@example.org>",
        cc="carol@example.org",
        bcc="secret@example.org, ann@example.org",
        subject="Grüße",
        body="Hallo, schöne Grüße\n",
        in_reply_to="<m2@example.org>",
        references=("<m1@example.org>", "<m2@example.org>"),
    )
    out = build_message(draft, now=NOW)
    assert b"\r\n" in out.message and b"\n" not in out.message.replace(b"\r\n", b"")
    assert b"secret@" not in out.message and b"Bcc" not in out.message
    assert out.recipients == ("ann@example.org", "carol@example.org", "secret@example.org")
    sent = parsed(out.message)
    assert sent["Subject"] == "Grüße"
    assert sent["Message-ID"] == out.message_id and out.message_id.endswith("@example.org>")
    assert sent["Date"] == "Tue, 03 Mar 2026 10:12:00 +0000"
    assert sent["In-Reply-To"] == "<m2@example.org>"
    assert sent["References"] == "<m1@example.org> <m2@example.org>"
    body = sent.get_body(("plain",))
    assert body is not None and body.get_content().replace("\r\n", "\n") == "Hallo, schöne Grüße\n"
    assert out.message.isascii()  # any server takes it, 8BITMIME or not
    kept = parsed(build_message(draft, now=NOW, for_sending=False).message)
    assert kept["Bcc"] == "secret@example.org, ann@example.org"


def test_attachments_round_trip_byte_for_byte(tmp_path: Path) -> None:
    data = bytes(range(256)) * 4000
    path = tmp_path / "Übersicht März.pdf"
    path.write_bytes(data)
    csv = tmp_path / "data.csv"
    csv.write_bytes(b"a,b\r\n1,2\n")
    draft = Draft(account="work", from_="me@example.org", to="ann@example.org", body="see\n",
                  attachments=(DraftAttachment(path=str(path)), DraftAttachment(path=str(csv))))
    raw = build_message(draft, now=NOW).message
    assert b"filename*=utf-8''%C3%9Cbersicht%20M%C3%A4rz.pdf" in raw
    parts = list(parsed(raw).iter_attachments())
    assert [p.get_content_type() for p in parts] == ["application/pdf", "text/csv"]
    assert parts[0].get_filename() == "Übersicht März.pdf"
    assert parts[0].get_payload(decode=True) == data
    assert parts[1].get_payload(decode=True) == b"a,b\r\n1,2\n"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("to", "ann@example.org\r\nBcc: evil@example.org"),
        ("to", "ann@example.org\nX-Evil: 1"),
        ("cc", "x@example.org\rBcc: evil@example.org"),
        ("bcc", "x@example.org\x00"),
        ("subject", "hello\r\nBcc: evil@example.org"),
        ("subject", "hello\nX-Evil: 1"),
        ("from_", "me@example.org\r\nBcc: evil@example.org"),
        ("in_reply_to", "<a@b>\r\nBcc: evil@example.org"),
    ],
)
def test_header_injection_is_refused(field: str, value: str) -> None:
    draft = Draft(account="work", from_="me@example.org", to="ann@example.org", subject="s", body="b")
    with pytest.raises(ComposeError):
        build_message(draft.with_(**{field: value}), now=NOW)


def test_replied_subject_with_line_breaks_is_folded_safely() -> None:
    hostile = MAIL.replace(b"Subject: RE: Aw: Re[2]: lunch", b"Subject: =?utf-8?q?lunch=0D=0ABcc=3A_evil=40example=2Eorg?=")
    draft = reply(read_original(hostile), ME)
    assert "\r" not in draft.subject and "\n" not in draft.subject
    raw = build_message(draft, now=NOW).message
    sent = parsed(raw)
    assert sent["Bcc"] is None and "evil@example.org" not in build_message(draft, now=NOW).recipients


@pytest.mark.parametrize(
    "value", ["ann", "ann@", "ann@example.org, bob", "ann@@example.org", "a b@example.org", "ann@example..org",
              "Ann <ann@example.<org>"],
)
def test_bad_addresses_are_refused(value: str) -> None:
    draft = Draft(account="work", from_="me@example.org", to=value, body="b")
    with pytest.raises(ComposeError) as raised:
        build_message(draft, now=NOW)
    assert raised.value.field == "To"


def test_a_domain_beyond_ascii_goes_out_in_idna() -> None:
    draft = Draft(account="work", from_="me@example.org", to="Jürgen <j@bücher.example>", body="b")
    out = build_message(draft, now=NOW)
    assert out.recipients == ("j@xn--bcher-kva.example",)
    assert parsed(out.message)["To"].addresses[0].addr_spec == "j@xn--bcher-kva.example"
    assert out.message.isascii()  # nothing in it needs SMTPUTF8


def test_a_from_address_on_a_domain_beyond_ascii_gets_a_message_id_in_ascii() -> None:
    # The Message-ID was made on the domain as typed: writing the message failed (a traceback
    # where a message was to be saved or sent).
    out = build_message(Draft(account="work", from_="Jö <me@bücher.example>", to="bob@example.org", body="b"),
                        now=NOW)
    assert out.message_id.endswith("@xn--bcher-kva.example>")
    assert out.message.isascii()
    assert parsed(out.message)["From"].addresses[0].addr_spec == "me@xn--bcher-kva.example"


def test_a_local_part_beyond_ascii_makes_a_utf8_header() -> None:
    draft = Draft(account="work", from_="me@example.org", to='"Ülla, Chefin" <ülla@bücher.example>, bob@example.org',
                  subject="Grüße", body="b")
    out = build_message(draft, now=NOW)
    assert out.recipients == ("ülla@xn--bcher-kva.example", "bob@example.org")
    head = out.message.split(b"\r\n\r\n", 1)[0].decode("utf-8")  # RFC 6532: raw UTF-8, no encoded words
    assert 'To: "Ülla, Chefin" <ülla@xn--bcher-kva.example>, bob@example.org' in head.splitlines()
    assert "Subject: Grüße" in head.splitlines()
    shown = render_message(out.message).to  # as mailbag's reader shows it
    assert [(a.name, a.email) for a in shown] == [("Ülla, Chefin", "ülla@xn--bcher-kva.example"),
                                                  ("", "bob@example.org")]


def test_a_reply_to_a_message_of_utf8_addresses_and_ids_carries_them_as_they_were() -> None:
    # Its header read as Latin-1 by the email package's compat32 reading, the ids were U+FFFD,
    # and the address was refused.
    raw = ("From: Jörg <jörg@bücher.example>\r\nTo: me@example.org\r\nSubject: Grüße\r\n"
           "Message-ID: <grüße.1@bücher.example>\r\nReferences: <a@example.org> <\xff@x>\r\n\r\nhallo\r\n"
           ).encode("utf-8").replace(b"\xc3\xbf", b"\xff")  # one id holding a byte that is not UTF-8
    original = read_original(raw)
    assert original.message_id == "<grüße.1@bücher.example>"
    assert original.references == ("<a@example.org>",)  # not one that would name another message
    draft = reply(original, Identity(account="work", email="me@example.org", name="Me"))
    out = build_message(draft, now=NOW)
    assert out.recipients == ("jörg@xn--bcher-kva.example",)
    lines = out.message.split(b"\r\n\r\n", 1)[0].decode("utf-8").splitlines()
    assert "In-Reply-To: <grüße.1@bücher.example>" in lines
    assert "References: <a@example.org> <grüße.1@bücher.example>" in lines
    resumed = draft_from_message(build_message(draft, now=NOW, for_sending=False).message, "work")
    assert (resumed.to, resumed.in_reply_to, resumed.subject) == (
        "Jörg <jörg@xn--bcher-kva.example>", "<grüße.1@bücher.example>", "Re: Grüße")


@pytest.mark.parametrize("subject", ["literal =?utf-8?q?hi?= typed", "Re: =?UTF-8?B?44GT44KT?broken", "Grüße =?x " + "word " * 20])
def test_a_subject_holding_what_looks_like_an_encoded_word_arrives_as_written(subject: str) -> None:
    # The email package took such words for ones to decode: "literal hi typed" went out, and a
    # broken one (kept from a reply to a message that had it) made the message fail to build.
    draft = Draft(account="work", from_="me@example.org", to="bob@example.org", subject=subject, body="b")
    assert parsed(build_message(draft, now=NOW).message)["Subject"] == subject


def test_a_message_forwarded_as_an_attachment_goes_byte_for_byte_whatever_its_headers_hold() -> None:
    # 8-bit header bytes (as old mailers wrote them) in a line long enough to be folded again, a
    # broken encoded word: written again by the email package, such a message failed to build.
    original = (
        b"From: Doug <doug@example.com>\r\nSubject: Die Hasen und die =?iso-8859-1?Q?Fr=F6sche?= (Netscape"
        b" Com\xadunicator 4.7) and more words to make the line long =?utf-8?b?////?=\r\n"
        b"Message-ID: <h@example.com>\r\n\r\nK\xf6rper\r\n"
    )
    draft = forward_attached(read_original(original), ME).with_(to="bob@example.org")
    with_file = draft.with_(attachments=(*draft.attachments, DraftAttachment(data=b"%PDF", filename="a.pdf")))
    for sent in (build_message(draft, now=NOW).message, build_message(with_file, now=NOW).message):
        assert original in sent
        inner = [p for p in parsed(sent).iter_attachments() if p.get_content_type() == "message/rfc822"]
        assert len(inner) == 1 and inner[0]["Content-Transfer-Encoding"] == "8bit"


def test_no_recipient_is_refused_for_sending_but_kept_as_draft() -> None:
    draft = new_draft(ME)
    with pytest.raises(ComposeError):
        build_message(draft, now=NOW)
    assert build_message(draft, now=NOW, for_sending=False).message


def test_draft_from_drafts_folder_resumes_whole() -> None:
    raw = corpus("thirdparty/019.eml")
    draft = forward_inline(read_original(raw), ME).with_(
        to="Ann <ann@example.org>", bcc="secret@example.org", message_id="<d1@example.org>"
    )
    kept = build_message(draft, now=NOW, for_sending=False).message
    resumed = draft_from_message(kept, "work")
    assert resumed.to == draft.to and resumed.bcc == draft.bcc and resumed.subject == draft.subject
    assert resumed.message_id == "<d1@example.org>"
    assert resumed.body.rstrip("\n") == draft.body.rstrip("\n")
    assert [(a.filename, a.data) for a in resumed.attachments] == [(a.filename, a.data) for a in draft.attachments]


def test_empty_draft_is_only_the_signature() -> None:
    draft = new_draft(ME)
    assert draft.is_empty()
    assert not draft.with_(body="hi\n" + draft.body).is_empty()
    assert not draft.with_(to="ann@example.org").is_empty()


@pytest.mark.parametrize(
    "path", sorted((CORPUS / "stalwart-mail-parser").rglob("*.eml")), ids=lambda p: str(p.relative_to(CORPUS))
)
def test_every_corpus_message_can_be_replied_to_and_forwarded(path: Path) -> None:
    original = read_original(path.read_bytes())
    for draft in (reply(original, ME, "all"), forward_inline(original, ME), forward_attached(original, ME)):
        out = build_message(draft.with_(to="ann@example.org"), now=NOW)
        assert parsed(out.message)["Subject"] == draft.subject


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+30m", datetime(2026, 3, 3, 10, 42, tzinfo=timezone.utc)),
        ("+2h", datetime(2026, 3, 3, 12, 12, tzinfo=timezone.utc)),
        ("+1d", datetime(2026, 3, 4, 10, 12, tzinfo=timezone.utc)),
        ("14:30", datetime(2026, 3, 3, 14, 30, tzinfo=timezone.utc)),
        ("9:05", datetime(2026, 3, 4, 9, 5, tzinfo=timezone.utc)),  # passed today: tomorrow
        ("2026-12-24 09:00", datetime(2026, 12, 24, 9, 0, tzinfo=timezone.utc)),
    ],
)
def test_send_later_times(text: str, expected: datetime) -> None:
    assert send_time(text, NOW) == expected


@pytest.mark.parametrize("text", ["soon", "25:00", "2026-02-30 10:00", "2025-01-01 10:00", "+m"])
def test_send_later_refuses_what_is_not_a_time_to_come(text: str) -> None:
    with pytest.raises(ValueError):
        send_time(text, NOW)


def test_reply_leaves_the_signature_out_of_the_quote() -> None:
    signed = MAIL.replace(
        b"Shall we?\r\n> earlier words\r\n",
        b"Shall we?\r\n> earlier words\r\n\r\n-- \r\nAnn Example\r\nTeam lead, Example Org\r\n",
    )
    draft = reply(read_original(signed), ME)
    assert draft.body.startswith(
        "On Tue, 3 Mar 2026 at 09:30, Ann Example wrote:\n> Shall we?\n>> earlier words\n\n\n-- \nMe\n"
    )
    assert "Team lead" not in draft.body and "> --" not in draft.body


def test_reply_quotes_a_dash_line_that_opens_no_signature() -> None:
    quoted = MAIL.replace(b"Shall we?\r\n", b"Shall we?\r\n--\r\n" + b"more words\r\n" * 20)
    draft = reply(read_original(quoted), ME)
    assert "> --\n> more words\n" in draft.body and draft.body.count("> more words") == 20


def test_a_long_list_of_recipients_is_sent_to_each_once_in_the_order_written() -> None:
    many = [f'"Person {n}, Example" <person{n}@example.org>' for n in range(3000)]
    draft = Draft(account="work", from_="me@example.org", to=", ".join(many[:10]),
                  cc=", ".join(many) + ", PERSON5@EXAMPLE.ORG", bcc="person7@example.org, x@example.org", body="b")
    out = build_message(draft, now=NOW)
    assert out.recipients == tuple(f"person{n}@example.org" for n in range(3000)) + ("x@example.org",)
    assert len(parsed(out.message)["Cc"].addresses) == 3001
    with pytest.raises(ComposeError):  # a piece that is no address, however long the list
        build_message(draft.with_(cc=", ".join(many) + ", Person 3000 Example"), now=NOW)


def test_a_reply_to_a_message_with_a_subject_of_a_megabyte_takes_its_beginning() -> None:
    # Written whole, its header took the email package half a minute (quadratic in its length).
    raw = b"From: spam@example.org\r\nSubject: " + b"win " * 250_000 + b"\r\nMessage-ID: <s@example.org>\r\n\r\nx\r\n"
    draft = reply(read_original(raw), Identity(account="work", email="me@example.org"))
    assert len(draft.subject) == len("Re: ") + 1000 and draft.subject.startswith("Re: win win ")
    assert draft.subject.endswith("…")
    assert forward_subject("win " * 250_000).endswith("win…")
    assert parsed(build_message(draft, now=NOW).message)["Subject"] == draft.subject


def test_a_message_with_a_content_type_of_thousands_of_parameters_resumes_as_a_draft() -> None:
    # The body is its first plain text part that is no attachment, blank lines kept; read in one
    # pass (the email package took seconds over these parameters each time they were asked for).
    params = b"".join(b"filename*%d*=utf-8''%%C3%%A9; " % i for i in range(5000))
    raw = (b"From: me@example.org\r\nTo: a@example.org\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; " + params + b"boundary=Q\r\n\r\n--Q\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
           b"Gr=C3=BC=C3=9Fe,\r\n\r\n\r\nAnn\r\n--Q\r\nContent-Type: text/plain\r\nContent-Disposition: attachment;"
           b" filename=notes.txt\r\n\r\nnot the body\r\n--Q--\r\n")
    draft = draft_from_message(raw, "work")
    assert draft.body == "Grüße,\n\n\nAnn"  # as written: its blank lines kept
    assert draft.subject == "s" and draft.to == "a@example.org"
