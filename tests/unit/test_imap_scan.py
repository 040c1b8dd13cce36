"""The fast reading of summary FETCH responses: same summaries as the general parser, or a fallback."""

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from mailbag.protocols.imap.parser import pairs, parse_segments
from mailbag.protocols.imap.scan import scan_fetch
from mailbag.protocols.imap.summary import summary_from_items
from mailbag.protocols.imap.summary_scan import (
    _common,
    attachment_in,
    envelope_fields,
    summary_from_scan,
    summary_from_segments,
)

PLAIN_BODY = b'("text" "plain" ("charset" "utf-8") NIL NIL "8bit" 10 1 NIL NIL NIL NIL)'


def general(segments: list[bytes]):
    return summary_from_items(pairs(parse_segments(segments)[3]))


def fetch(envelope: bytes, body: bytes = PLAIN_BODY, refs: bytes = b"", extra: bytes = b"") -> list[bytes]:
    """A response shaped like Dovecot's answer to the summary fetch."""
    return [b'* 7 FETCH (UID 7 FLAGS (\\Seen $Forwarded) INTERNALDATE "02-Mar-2024 08:00:00 +0100" '
            b"RFC822.SIZE 2048 MODSEQ (12) ENVELOPE " + envelope + b" BODYSTRUCTURE " + body + extra
            + b" BODY[HEADER.FIELDS (REFERENCES)] {%d}" % len(refs), refs, b")"]


ENVELOPE = (b'("Sat, 2 Mar 2024 07:59:00 +0100" "Hello" (("=?utf-8?q?J=C3=BCrgen?=" NIL "j" "example.org")) '
            b'(("=?utf-8?q?J=C3=BCrgen?=" NIL "j" "example.org")) NIL (("Ann" NIL "ann" "x.org")) NIL NIL '
            b'"<parent@x>" "<self@x>")')
REFS = b"References: <root@x>\r\n <parent@x>\r\n\r\n"


def assert_fast(segments: list[bytes]):
    """The fast path answers, and its summary is the general parser's."""
    fast = summary_from_segments(segments)
    assert fast is not None
    assert fast == general(segments)
    return fast


def test_common_response_is_read_fast_and_fully() -> None:
    segments = fetch(ENVELOPE, refs=REFS)
    assert _common(segments) is not None  # read by the one-pattern path
    summary = assert_fast(segments)
    assert summary.uid == 7
    assert summary.flags == frozenset({"\\Seen", "$Forwarded"})
    assert summary.subject == "Hello"
    assert [(a.name, a.email) for a in summary.from_] == [("Jürgen", "j@example.org")]
    assert [a.email for a in summary.to] == ["ann@x.org"]
    assert summary.references == ("<root@x>", "<parent@x>")
    assert (summary.size, summary.modseq, summary.has_attachment) == (2048, 12, False)
    assert summary.date is not None and summary.date.utcoffset().total_seconds() == 3600


@pytest.mark.parametrize("envelope", [
    # NIL everywhere: the date comes from INTERNALDATE
    b"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
    # an empty date string, escapes in the subject and in a name, several addresses
    (b'("" "a \\"quoted\\" \\\\ subject" (("Bob \\"B\\"" NIL "bob" "y.org")("Ann" NIL "ann" "x.org")) '
    b"NIL NIL NIL NIL NIL NIL NIL)"),
    # encoded words, control characters, raw 8-bit in a quoted string
    b'(NIL "=?iso-8859-1?q?Caf=E9?= \x1b[31mred" NIL NIL NIL NIL NIL NIL NIL NIL)',
    '(NIL "Über" (("Zoë" NIL "z" "x.org")) NIL NIL NIL NIL NIL NIL NIL)'.encode(),
    # group syntax (RFC 3501 7.4.2): markers dropped, members kept
    b'(NIL NIL NIL NIL NIL ((NIL NIL "team" NIL)("Ann" NIL "ann" "x.org")(NIL NIL NIL NIL)) NIL NIL NIL NIL)',
    # an unusual date form goes the long way
    b'("2 Mar 2024 07:59 GMT" NIL NIL NIL NIL NIL NIL NIL NIL NIL)',
])
def test_envelope_variants_match_the_general_parser(envelope: bytes) -> None:
    assert_fast(fetch(envelope))


@pytest.mark.parametrize("envelope", [
    # addresses separated by spaces, a short envelope, an atom where a string belongs
    b'(NIL NIL (("A" NIL "a" "x.org") ("B" NIL "b" "x.org")) NIL NIL NIL NIL NIL NIL NIL)',
    b'(NIL "short")',
    b"(NIL Subject NIL NIL NIL NIL NIL NIL NIL NIL)",
])
def test_envelope_off_the_pattern_is_read_by_the_general_parser(envelope: bytes) -> None:
    segments = fetch(envelope)
    assert envelope_fields(envelope[:])  # the local fallback answers too
    assert_fast(segments)


def test_items_in_another_order_are_read_item_by_item() -> None:
    segments = [b'* 7 FETCH (MODSEQ (12) UID 7 RFC822.SIZE 2048 ENVELOPE ' + ENVELOPE + b" BODYSTRUCTURE "
                + PLAIN_BODY + b' FLAGS (\\Seen) INTERNALDATE "02-Mar-2024 08:00:00 +0100" '
                b"BODY[HEADER.FIELDS (REFERENCES)] {%d}" % len(REFS), REFS, b" X-EXTRA NIL)"]
    assert _common(segments) is None
    items = scan_fetch(segments)
    assert items is not None
    assert summary_from_scan(items) == assert_fast(segments)
    # The usual order without MODSEQ (no CONDSTORE) is read in one piece as well.
    no_modseq = fetch(ENVELOPE, refs=REFS)
    no_modseq[0] = no_modseq[0].replace(b" MODSEQ (12)", b"")
    assert assert_fast(no_modseq).modseq == 0


def test_8bit_literal_in_the_envelope_reads_as_a_string() -> None:
    subject = "Grüße aus Köln".encode()
    segments = [b'* 5 FETCH (UID 42 ENVELOPE ("Sat, 2 Mar 2024 07:59:00 +0100" {%d}' % len(subject), subject,
                b" NIL NIL NIL NIL NIL NIL NIL NIL) BODYSTRUCTURE " + PLAIN_BODY + b")"]
    assert assert_fast(segments).subject == "Grüße aus Köln"


@pytest.mark.parametrize("segments", [
    # a literal holding a quote cannot become a quoted string
    [b"* 5 FETCH (UID 1 ENVELOPE (NIL {3}", b'a"b', b" NIL NIL NIL NIL NIL NIL NIL NIL))"],
    # a repeated item, extra spaces, lower case, brackets inside a list, nesting deeper than the pattern
    [b"* 5 FETCH (UID 1 UID 2 ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))"],
    [b"* 5 FETCH (UID 1  ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))"],
    [b"* 5 fetch (UID 1 ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))"],
    [b"* 5 FETCH (UID 1 X (a[b) c]) ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))"],
    [b"* 5 FETCH (UID 1 X " + b"(" * 12 + b")" * 12 + b" ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))"],
    # references given as a list, trailing garbage, a literal of the wrong size
    [b"* 5 FETCH (UID 1 ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) BODY[HEADER.FIELDS (REFERENCES)] ())"],
    [b"* 5 FETCH (UID 1 ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)) x"],
    [b"* 5 FETCH (UID 1 BODY[HEADER.FIELDS (REFERENCES)] {5}", b"ab\r\n", b" ENVELOPE NIL)"],
])
def test_unusual_responses_fall_back_to_the_general_parser(segments: list[bytes]) -> None:
    assert summary_from_segments(segments) is None
    assert general(segments) is not None  # which still reads them


def test_a_pushed_fetch_without_envelope_is_left_to_the_general_path() -> None:
    assert summary_from_segments([b"* 3 FETCH (UID 9 FLAGS (\\Seen) MODSEQ (5))"]) is None
    items = scan_fetch([b"* 3 FETCH (UID 9 FLAGS (\\Seen) MODSEQ (5))"])
    assert items is not None
    assert items.values == {b"UID": b"9"}
    assert items.lists == {b"FLAGS": b"(\\Seen)", b"MODSEQ": b"(5)"}


def test_unknown_items_and_scalar_forms_are_read_like_the_general_parser() -> None:
    segments = [(b'* 1 FETCH (X-GM-LABELS (\\Inbox "a b") UID "8" RFC822.SIZE NIL MODSEQ 9 FLAGS NIL '
                b"ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) BODYSTRUCTURE NIL "
                b'BODY[HEADER.FIELDS (REFERENCES)] "References: <r@x>")')]
    summary = assert_fast(segments)
    assert (summary.uid, summary.size, summary.modseq, summary.flags) == (8, 0, 9, frozenset())
    assert summary.references == ("<r@x>",)


@pytest.mark.parametrize(("body", "expected"), [
    (PLAIN_BODY, False),
    # a PDF named only by its Content-Type parameter, and one by its disposition
    ((b'(("text" "plain" NIL NIL NIL "7bit" 1 1 NIL NIL NIL NIL)("application" "pdf" ("name" "a.pdf") NIL NIL '
     b'"base64" 10 NIL NIL NIL NIL) "mixed" ("boundary" "x") NIL NIL NIL)'), True),
    ((b'(("text" "plain" NIL NIL NIL "7bit" 1 1 NIL NIL NIL NIL)("application" "octet-stream" NIL NIL NIL '
     b'"base64" 10 NIL ("ATTACHMENT" NIL) NIL NIL) "mixed" NIL NIL NIL NIL)'), True),
    # a text part with a file name is no attachment; an inline image of an HTML body neither
    (b'("text" "plain" ("name" "notes.txt") NIL NIL "7bit" 1 1 NIL NIL NIL NIL)', False),
    ((b'(("text" "html" NIL NIL NIL "7bit" 1 1 NIL NIL NIL NIL)("image" "png" ("name" "logo.png") "<l>" NIL '
     b'"base64" 10 NIL ("inline" ("filename" "logo.png")) NIL NIL) "related" NIL NIL NIL NIL)'), False),
    # a forwarded message
    ((b'("message" "rfc822" NIL NIL NIL "7bit" 10 ("Mon, 1 Jan 2024 00:00:00 +0000" NIL NIL NIL NIL NIL NIL NIL '
     b'NIL NIL) ("text" "plain" NIL NIL NIL "7bit" 1 1 NIL NIL NIL NIL) 1 NIL NIL NIL NIL)'), True),
    # an attachment disposition on a text part (after its line count), in upper case
    (b'("TEXT" "PLAIN" ("charset" "us-ascii") NIL NIL "7BIT" 10 2 NIL ("ATTACHMENT" ("filename" "a.txt")) NIL NIL)',
     True),
    # the word in a parameter value is no disposition
    (b'("text" "plain" ("name" "attachment") NIL NIL "7bit" 10 2 NIL ("inline" NIL) NIL NIL)', False),
    ((b'(("text" "plain" ("x-note" "see attachment") NIL NIL "7bit" 10 2 NIL NIL NIL NIL)("text" "html" NIL NIL '
     b'NIL "7bit" 1 1 NIL NIL NIL NIL) "alternative" NIL NIL NIL NIL)'), False),
    # an escape hides the word from a byte search; the parser still sees it
    (b'("application" "zip" NIL NIL NIL "base64" 10 NIL ("att\\achment" NIL) NIL NIL)', True),
])
def test_attachment_from_raw_bodystructure(body: bytes, expected: bool) -> None:
    assert attachment_in(body) is expected
    assert assert_fast(fetch(ENVELOPE, body=body)).has_attachment is expected


def test_hostile_lines_give_no_summary() -> None:
    lines = [b"* 1 FETCH (X (" + b'"a" (' * 9 + b'"b" ' * 200_000 + b")",
             b"* 1 FETCH (X " + b'("' * 100_000,
             b"* 1 FETCH (" + b"X 1 " * 100_000]
    for line in lines:  # how fast: python -m bench.parsing
        assert summary_from_segments([line]) is None


@pytest.mark.parametrize("written", [b"Fri, 1 Jan 3609 10:00:00 +0000", b"Sat, 1 Jan 2100 10:00:00 +0000"])
def test_a_message_dated_years_ahead_is_listed_by_its_arrival(written: bytes) -> None:
    # Spam dated years ahead (or a mistyped year) sat at the top of a list sorted by date.
    summary = assert_fast(fetch(b'("' + written + b'" "Win" NIL NIL NIL NIL NIL NIL NIL NIL)'))
    assert summary.date == datetime(2024, 3, 2, 8, 0, tzinfo=timezone(timedelta(hours=1)))  # INTERNALDATE


def test_a_sender_clock_a_few_hours_fast_is_believed() -> None:
    ahead = (datetime.now(timezone.utc) + timedelta(hours=3)).replace(microsecond=0)
    written = format_datetime(ahead).encode()
    summary = assert_fast(fetch(b'("' + written + b'" "Soon" NIL NIL NIL NIL NIL NIL NIL NIL)'))
    assert summary.date == ahead
