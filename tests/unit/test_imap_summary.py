"""FETCH items to MessageSummary: envelopes, encoded words, groups, BODYSTRUCTURE variants."""

from datetime import datetime, timedelta, timezone

from mailbag.domain.models import MessageSummary
from mailbag.protocols.imap.parser import pairs, parse_segments
from mailbag.protocols.imap.summary import has_attachment, summary_from_items
from mailbag.protocols.imap.summary_scan import summary_from_segments


def items_of(*segments: bytes) -> dict:
    return pairs(parse_segments(list(segments))[3])


def summary_of(items: dict) -> MessageSummary:
    """The summary of ``items``, which must hold a UID."""
    summary = summary_from_items(items)
    assert summary is not None
    return summary


def body(text: bytes):
    return parse_segments([text])[0]


def test_full_summary_with_literal_subject_and_group() -> None:
    subject = "Grüße aus Köln".encode()
    items = items_of(
        b'* 5 FETCH (UID 42 FLAGS (\\Seen \\Flagged) INTERNALDATE "02-Mar-2024 08:00:00 +0100" RFC822.SIZE 2048 '
        b'ENVELOPE ("Sat, 2 Mar 2024 07:59:00 +0100" {%d}' % len(subject),
        subject,
        b' (("=?utf-8?q?J=C3=BCrgen?=" NIL "j" "example.org")) NIL NIL '
        b'((NIL NIL "team" NIL)("Ann" NIL "ann" "x.org")(NIL NIL NIL NIL)("Bob \\"B\\"" NIL "bob" "y.org")) '
        b'NIL NIL "<parent@x>" "<self@x>") BODYSTRUCTURE ("text" "plain" ("charset" "utf-8") NIL NIL "8bit" 10 1 '
        b'NIL NIL NIL NIL) BODY[HEADER.FIELDS (REFERENCES)] {40}',
        b"References: <root@x>\r\n <parent@x>\r\n\r\n\r\n"[:40],
        b" MODSEQ (77))",
    )
    summary = summary_from_items(items)
    assert summary is not None
    assert summary.uid == 42
    assert summary.flags == frozenset({"\\Seen", "\\Flagged"})
    assert summary.subject == "Grüße aus Köln"
    assert [a.name for a in summary.from_] == ["Jürgen"]
    assert summary.from_[0].email == "j@example.org"
    # Sender and Reply-To are NIL here; reply_to stays empty.
    assert summary.reply_to == ()
    assert [(a.name, a.email) for a in summary.to] == [("Ann", "ann@x.org"), ('Bob "B"', "bob@y.org")]
    assert summary.in_reply_to == "<parent@x>"
    assert summary.message_id == "<self@x>"
    assert summary.references == ("<root@x>", "<parent@x>")
    assert summary.size == 2048
    assert summary.modseq == 77
    assert summary.date == datetime(2024, 3, 2, 6, 59, tzinfo=timezone.utc)
    assert summary.has_attachment is False


def test_encoded_word_subject_and_8bit_quoted() -> None:
    items = items_of(b'* 1 FETCH (UID 1 ENVELOPE (NIL "=?iso-8859-1?q?Caf=E9?= \x1b[31mred" NIL NIL NIL NIL NIL NIL NIL NIL))')
    summary = summary_of(items)
    assert summary.subject == "Café red"  # escape sequence stripped
    raw = items_of('* 1 FETCH (UID 2 ENVELOPE (NIL "Über" NIL NIL NIL NIL NIL NIL NIL NIL))'.encode())
    assert summary_of(raw).subject == "Über"


def test_8bit_latin1_written_raw_is_read_as_the_reader_reads_it() -> None:
    # GNU Mailutils' imap4d puts a header's raw bytes in the ENVELOPE's quoted strings.
    line = (b'* 19 FETCH (UID 21 ENVELOPE ("Wed, 17 May 2000 19:08:29 -0400" "Die Hasen und die Fr\xf6sche" '
            b'(("J\xfcrgen Schm\xfcrgen" NIL "j" "example.com")) NIL NIL NIL NIL NIL NIL NIL))')
    summary = summary_of(items_of(line))
    assert summary.subject == "Die Hasen und die Frösche"
    assert summary.from_[0].name == "Jürgen Schmürgen"
    scanned = summary_from_segments([line])
    assert scanned is not None and (scanned.subject, scanned.from_) == (summary.subject, summary.from_)


def test_date_falls_back_to_internaldate_and_is_aware() -> None:
    items = items_of(b'* 1 FETCH (UID 3 INTERNALDATE " 7-Jul-2023 02:44:25 -0700" ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))')
    summary = summary_of(items)
    assert summary.date == datetime(2023, 7, 7, 9, 44, 25, tzinfo=timezone.utc)
    naive = items_of(b'* 1 FETCH (UID 3 ENVELOPE ("Fri, 7 Jul 2023 02:44:25" NIL NIL NIL NIL NIL NIL NIL NIL NIL))')
    date = summary_of(naive).date
    assert date is not None and date.tzinfo is not None


def test_a_date_zone_of_a_day_or_more_and_a_list_for_a_subject_leave_the_rest_read() -> None:
    # A spam's Date of "+3000" (no zone is a day off), and a server's list where a string belongs,
    # made the fetch of the folder's summaries fail at that message each time.
    refs = b"References: <r@x>\r\n\r\n"
    for date, subject in ((b'"Mon, 1 Jan 2024 10:00:00 +3000"', b'"Hi"'), (b'"Mon, 1 Jan 2024 10:00:00 +0000"', b'("Hi")')):
        line = (b'* 1 FETCH (UID 3 FLAGS (\\Seen) INTERNALDATE " 7-Jul-2023 02:44:25 -0700" RFC822.SIZE 10 '
                b"ENVELOPE (" + date + b" " + subject + b' (("Ann" NIL "ann" "example.org")) NIL NIL NIL NIL NIL NIL "<m@x>") '
                b'BODYSTRUCTURE ("text" "plain" NIL NIL NIL "7bit" 10 1 NIL NIL NIL NIL) '
                b"BODY[HEADER.FIELDS (REFERENCES)] {%d}" % len(refs))
        for summary in (summary_from_segments([line, refs, b")"]), summary_from_items(items_of(line, refs, b")"))):
            assert summary is not None
            assert (summary.uid, summary.from_[0].email, summary.message_id) == (3, "ann@example.org", "<m@x>")
            if b"+3000" in date:  # the arrival date instead
                assert summary.date == datetime(2023, 7, 7, 9, 44, 25, tzinfo=timezone.utc)
                assert summary.subject == "Hi"
            else:
                assert summary.date == datetime(2024, 1, 1, 10, 0, tzinfo=timezone.utc)


def test_odd_items_are_ignored() -> None:
    items = items_of(b"* 1 FETCH (UID 9 X-GM-LABELS (a b) ENVELOPE NIL BODYSTRUCTURE (garbage) FLAGS NIL)")
    summary = summary_of(items)
    assert summary.uid == 9 and summary.subject == "" and summary.flags == frozenset()
    assert summary_from_items(items_of(b"* 1 FETCH (FLAGS ())")) is None


SINGLE = b'("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 100 5 NIL NIL NIL NIL)'
MIXED = (b'(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 10 1 NIL NIL NIL NIL)'
         b'("application" "pdf" ("name" "r.pdf") NIL NIL "base64" 5000 NIL ("attachment" ("filename" "r.pdf")) NIL NIL)'
         b' "mixed" ("boundary" "b1") NIL NIL NIL)')
ALTERNATIVE = (b'(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 10 1 NIL NIL NIL NIL)'
               b'("text" "html" ("charset" "utf-8") NIL NIL "7bit" 20 1 NIL NIL NIL NIL) "alternative" ("boundary" "b2") NIL NIL NIL)')
RELATED = (b'((("text" "plain" NIL NIL NIL "7bit" 10 1 NIL NIL NIL NIL)("text" "html" NIL NIL NIL "7bit" 20 1 NIL NIL NIL NIL) "alternative")'
           b'("image" "png" ("name" "logo.png") "<logo@x>" NIL "base64" 300 NIL ("inline" ("filename" "logo.png")) NIL NIL)'
           b' "related" ("boundary" "b3") NIL NIL NIL)')
RFC822 = (b'(("text" "plain" NIL NIL NIL "7bit" 10 1 NIL NIL NIL NIL)'
          b'("message" "rfc822" NIL NIL NIL "7bit" 500 (NIL "Fwd" NIL NIL NIL NIL NIL NIL NIL NIL) '
          b'("text" "plain" NIL NIL NIL "7bit" 10 1 NIL NIL NIL NIL) 20 NIL NIL NIL NIL) "mixed")')
NAMED_LEAF = (b'(("text" "plain" NIL NIL NIL "7bit" 10 1)'
              b'("application" "octet-stream" ("name" "data.bin") NIL NIL "base64" 30) "mixed")')
TEXT_ATTACHMENT = (b'(("text" "plain" NIL NIL NIL "7bit" 10 1 NIL NIL NIL NIL)'
                   b'("text" "csv" ("name" "t.csv") NIL NIL "7bit" 10 1 NIL ("attachment" ("filename" "t.csv")) NIL NIL) "mixed")')


def test_bodystructure_variants() -> None:
    assert has_attachment(body(SINGLE)) is False
    assert has_attachment(body(MIXED)) is True
    assert has_attachment(body(ALTERNATIVE)) is False
    assert has_attachment(body(RELATED)) is False
    assert has_attachment(body(RFC822)) is True
    assert has_attachment(body(NAMED_LEAF)) is True
    assert has_attachment(body(TEXT_ATTACHMENT)) is True
    assert has_attachment(None) is False
    assert has_attachment(body(b"(NIL)")) is False


def test_envelope_dates_in_common_and_odd_forms() -> None:
    from mailbag.protocols.imap.summary import envelope_date

    expected = datetime(2024, 3, 2, 14, 59, tzinfo=timezone.utc)
    for raw in (b"Sat, 2 Mar 2024 07:59:00 -0700", b"2 Mar 2024 07:59:00 -0700 (MST)",
                b"Sat, 02 Mar 2024 07:59:00 -0700", b"Sat,  2 Mar 2024 07:59 -0700",
                b"2024-03-02T14:59:00Z", b"2024-03-02 07:59:00-07:00"):  # ISO 8601, as some programs write it
        assert envelope_date(raw) == expected, raw
    assert envelope_date(b"not a date") is None
    assert envelope_date(b"Sat, 31 Feb 2024 07:59:00 +0000") is None


def test_envelope_date_bytes_fast_path_agrees_with_the_text_path() -> None:
    from mailbag.protocols.imap.summary import envelope_date

    for raw in (b"Sat, 2 Mar 2024 07:59:00 +0530", b" Sat, 2 Mar 2024 07:59:00 +0530 ", b"2 Mar 2024 07:59:00 +0530\t",
                b"Sat, 2 Mar 2024 07:59:00 +0530 (IST)", "Sat, 2 Mar 2024 07:59:00 +0530\xa0".encode()):
        got = envelope_date(raw)
        assert got == envelope_date(bytearray(raw))  # not bytes: the long way
        assert got == datetime(2024, 3, 2, 2, 29, tzinfo=timezone.utc), raw
        assert got is not None and got.utcoffset() == timedelta(hours=5, minutes=30)
    assert envelope_date(b"Sat, 2 Foo 2024 07:59:00 +0000") is None
    assert envelope_date(b"Sat, 2 Mar 2024 25:59:00 +0000") is None


def test_a_server_placeholder_is_found_in_any_address_and_a_look_alike_is_not_one() -> None:
    from mailbag.domain.models import Address, MessageSummary
    from mailbag.protocols.imap.summary import addresses_unread

    def summary(*emails: str) -> MessageSummary:
        return MessageSummary(uid=1, flags=frozenset(), date=None, size=1, subject="", from_=(Address("", emails[0]),),
                              to=tuple(Address("", e) for e in emails[1:]), cc=(), reply_to=())

    assert not addresses_unread(summary("MISSING.PERSONS@example.org", "ann@example.org"))
    assert addresses_unread(summary("MISSING.PERSONS@example.org", "MISSING_MAILBOX@MISSING_DOMAIN"))
    assert addresses_unread(summary("root@MISSING_DOMAIN"))
    assert addresses_unread(summary("ann@example.org", "bob@.MISSING-HOST-NAME."))
