"""Messages that parsers get wrong (tests/messages): what the reader shows of them and what their
attachment list holds, and big or hostile ones within the reader's limits."""

from __future__ import annotations

import base64

import pytest

from mailbag.domain.deadline import Deadline
from mailbag.domain.headers import decode_bytes, decode_words
from mailbag.domain.mime import extract_attachment, extract_part, render_message
from mailbag.domain.mime_structure import Limits, parse_params, read_structure
from mailbag.protocols.maildir import summary_of
from mailbag.ui.widgets.reader import header_text
from tests.messages import deep_nesting, hostile_headers, many_parts, path

PDF = b"%PDF-1.4 quarterly report\n" * 20


def test_an_outlook_express_boundary_with_equals_signs_is_split() -> None:
    raw = path("outlook-express.eml").read_bytes()
    rendered = render_message(raw)
    assert rendered.body == "Hello Bob,\n\nthe report is attached. Café at ten?\n\nAnn"
    assert [(a.filename, a.content_type, a.size) for a in rendered.attachments] == [
        ("report Q1.pdf", "application/pdf", len(PDF))
    ]
    assert extract_part(raw, rendered.attachments[0]) == ("report Q1.pdf", PDF)
    assert "Attach:  report Q1.pdf (520 B)" in header_text(rendered).plain


def test_of_two_content_types_the_one_whose_boundary_occurs_is_used() -> None:
    raw = path("two-content-types.eml").read_bytes()
    rendered = render_message(raw)
    assert rendered.body == "Two pages scanned at 300 dpi."
    assert [a.filename for a in rendered.attachments] == ["scan-001.pdf"]
    assert extract_part(raw, rendered.attachments[0])[1] == PDF
    reversed_order = raw.replace(b"Content-Type: text/plain; charset=us-ascii\r\nContent-Type: multipart", b"Content-Type: multipart", 1)
    reversed_order = reversed_order.replace(b'boundary="scan-7f3a"\r\n', b'boundary="scan-7f3a"\r\nContent-Type: text/plain\r\n', 1)
    assert [a.filename for a in render_message(reversed_order).attachments] == ["scan-001.pdf"]


def test_a_multipart_type_whose_boundary_never_occurs_loses_to_the_other() -> None:
    raw = (b"Subject: x\r\nContent-Type: multipart/mixed; boundary=nowhere\r\nContent-Type: text/plain\r\n\r\n"
           b"Just text.\r\n")
    rendered = render_message(raw)
    assert rendered.body == "Just text." and rendered.attachments == []


def test_a_stray_byte_keeps_the_valid_utf8_of_its_header_and_a_bare_cr_does_not_end_the_headers() -> None:
    rendered = render_message(path("header-bytes.eml").read_bytes())
    assert [a.name for a in rendered.from_] == ["Юни\ufffdя Иванова"]
    assert rendered.subject == "Report for March"  # the CR is a space, the fields after it are read
    assert [a.email for a in rendered.cc] == ["carol@example.org"]
    assert rendered.date is not None and rendered.body == "Body text."


def test_utf16_words_without_a_byte_order_mark_are_big_endian_and_backslashes_stay() -> None:
    rendered = render_message(path("encoded-words.eml").read_bytes())
    assert [a.name for a in rendered.from_] == ["Привет"]
    assert rendered.subject == "café in C:\\u0041\\new and \\x41"


def test_header_words_split_inside_a_character_and_8bit_letters_inside_a_word() -> None:
    euro = "€".encode()
    first, second = base64.b64encode(b"Price " + euro[:1]).decode(), base64.b64encode(euro[1:] + b"5").decode()
    assert decode_words(f"=?utf-8?b?{first}?= =?utf-8?b?{second}?=") == "Price €5"
    assert decode_words("=?iso-8859-1?q?Fr\u00f6sche?= und =?utf-7?q?Fr+APY-sche?=") == "Frösche und Frösche"
    assert decode_bytes("Ünïcode".encode("latin-1"), None) == "Ünïcode"  # legacy 8-bit text stays so


@pytest.mark.parametrize(
    ("label", "text", "codec"),
    [
        ("iso-8859-8-i", "שלום", "iso-8859-8"),  # Hebrew in logical order, as Outlook labels it
        ("windows-874", "สวัสดี", "cp874"),  # Thai, as Outlook labels it
        ("tis-620", "สวัสดี ฿", "cp874"),
        ("shift_jis", "①～", "cp932"),  # Windows' extensions under the standard name
        ("x-x-big5", "香港", "big5hkscs"),
        ("gb_2312-80", "镕", "gbk"),
        ("ks_c_5601-1989", "한국어", "cp949"),
        ("unicode-1-1-utf-8", "ünï", "utf-8"),
        ("cp-850", "café", "cp850"),
        ("iso-8859-9", "Ğüş ‘ok’", "cp1254"),  # a Turkish sender's Windows quotes
        ("iso-2022-kr", "한국어", "iso2022_kr"),  # old Korean mail (browsers refuse it; mail is text)
        ("ucs-2", "Ünï", "utf-16-be"),  # no byte-order mark: big-endian (RFC 2781)
    ],
)
def test_charset_labels_of_mail_in_the_wild_are_read_as_browsers_read_them(label: str, text: str, codec: str) -> None:
    data = text.encode(codec)
    assert decode_bytes(data, label) == text
    raw = f"From: a@example.org\r\nSubject: t\r\nContent-Type: text/plain; charset={label}\r\n\r\n".encode() + data
    assert render_message(raw).body == text
    if label != "iso-2022-kr":  # a header word of it would hold escape sequences
        assert decode_words(f"=?{label}?b?{base64.b64encode(data).decode()}?=") == text


def test_ten_thousand_parts_are_all_listed_and_each_is_extracted_alone() -> None:
    raw = many_parts(10_000)
    rendered = render_message(raw)
    assert rendered.body == "The scans are attached." and rendered.notices == ()
    assert [a.filename for a in rendered.attachments] == [f"scan-{i:05d}.pdf" for i in range(10_000)]
    last = rendered.attachments[-1]
    assert last.section == "10001" and raw[last.start : last.end].startswith(b"Content-Type: application/pdf")
    assert extract_part(raw, last) == ("scan-09999.pdf", b"%PDF-1.4\n%\xc7\xec")
    assert extract_attachment(raw, last.part_index) == ("scan-09999.pdf", b"%PDF-1.4\n%\xc7\xec")
    shown = header_text(rendered, width=80).plain
    assert "Attach:  scan-00000.pdf (12 B)," in shown and "more" in shown


def test_limits_are_said_in_the_reader() -> None:
    deep = render_message(deep_nesting(100))
    assert deep.notices == ("Parts nested deeper than 64 levels are not read.",)
    assert "Note:    Parts nested deeper than 64 levels are not read." in header_text(deep, width=100).plain
    few = render_message(many_parts(20), Limits(max_parts=10))
    assert len(few.attachments) == 8 and few.notices == ("This message has more than 10 parts: the rest are not listed.",)
    short = render_message(b"Subject: s\r\n\r\n" + b"x" * 3000, Limits(max_text_bytes=2048))
    assert len(short.body) == 2048 and short.notices == ("The text is cut at 2 KB: the rest is not shown.",)
    late = render_message(many_parts(5), deadline=Deadline(-1))
    assert late.subject == "10,000 scans" and late.notices and "took over" in late.notices[0]


def test_structure_sections_and_spans_of_nested_parts() -> None:
    raw = path("outlook-express.eml").read_bytes()
    structure = read_structure(raw)
    assert [(p.section, p.content_type) for p in structure.parts] == [
        ("", "multipart/mixed"),
        ("1", "multipart/alternative"),
        ("1.1", "text/plain"),
        ("1.2", "text/html"),
        ("2", "application/pdf"),
    ]
    html = structure.parts[3]
    assert raw[html.body_start : html.end].endswith(b"</HTML>\r\n")


def test_an_attachment_is_decoded_from_its_span_alone() -> None:
    raw = many_parts(3)
    last = render_message(raw).attachments[-1]
    blanked = b"\0" * last.start + raw[last.start : last.end] + b"\0" * (len(raw) - last.end)
    assert extract_part(blanked, last) == ("scan-00002.pdf", b"%PDF-1.4\n%\xc7\xec")  # nothing else was read


def test_hostile_header_blocks_are_read_whole() -> None:
    for name, raw in hostile_headers().items():
        rendered = render_message(raw)
        assert (rendered.subject, rendered.body, rendered.notices) == ("s", "The body.", ()), name
    folded = read_structure(hostile_headers()["a field folded over 100,000 lines"]).root
    assert folded.header("x-long") == "a" + " b" * 100_000 and folded.content_type == "text/plain"


def test_parameters_are_read_as_neomutt_reads_them() -> None:
    value = ('multipart/mixed; novalue; name="a \\"quoted\\" C:\\temp\\x.pdf"; boundary=----=_Next Part; '
             "filename*0*=utf-8''%E2%82%AC; filename*1=.pdf; title*=iso-8859-1'fr'caf%E9")
    assert parse_params(value) == {
        "name": 'a "quoted" C:\\temp\\x.pdf',
        "boundary": "----=_Next",
        "filename": "€.pdf",
        "title": "café",
    }


def test_an_address_with_invisible_characters_shows_them_in_the_reader_and_the_list() -> None:
    """A zero-width joiner (or space, or a soft hyphen) makes ``pay\u200dpal.example`` look like
    ``paypal.example``: the reader and the list write it out, a display name keeps its emoji."""
    from mailbag.domain.headers import parse_address_list
    from mailbag.domain.models import Address

    raw = ("From: Pay Pal <service@pay\u200dpal.example>\r\nTo: bob@example.test,"
           " =?utf-8?q?Family_=F0=9F=91=A8=E2=80=8D=F0=9F=91=A9?= <fam@example.test>\r\n"
           "Subject: hi\r\n\r\nbody\r\n").encode()
    shown = header_text(render_message(raw), width=100).plain
    assert "From:    Pay Pal <service@pay<U+200D>pal.example>" in shown
    assert "Family \U0001F468\u200d\U0001F469 <fam@example.test>" in shown
    (sender,) = parse_address_list("bi\u200bll@ex\u00adample.test")
    assert sender.display() == "bi<U+200B>ll@ex<U+00AD>ample.test"
    assert Address("", "bill@example.test").display() == "bill@example.test"


def test_an_html_part_without_a_charset_is_read_in_the_one_its_meta_names() -> None:
    head = b"From: a@example.org\r\nSubject: t\r\nContent-Type: text/html\r\n\r\n"
    styled = b"<html><head><style>" + b"p { margin: 0 }\n" * 100 + b"</style>"
    for meta in (b'<meta charset="windows-1251">', b'<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=koi8-r">'):
        codec = "cp1251" if b"1251" in meta else "koi8-r"
        body = styled + meta + b"</head><body><p>" + "Привет, мир".encode(codec) + b"</p></body></html>"
        assert render_message(head + body).body == "Привет, мир"
    # the part's Content-Type wins over its <meta>; a UTF-16 <meta> (in ASCII bytes) is UTF-8
    labelled = head.replace(b"text/html", b"text/html; charset=utf-8")
    assert render_message(labelled + b'<meta charset="koi8-r"><p>' + "Grüße".encode() + b"</p>").body == "Grüße"
    assert render_message(head + b'<meta charset="utf-16"><p>' + "Grüße".encode() + b"</p>").body == "Grüße"


def test_a_lone_surrogate_that_utf7_encodes_is_shown_as_a_replacement_character() -> None:
    # UTF-7 can encode half a surrogate pair; no text can hold one (a reply quoting it could not
    # be written as UTF-8, and failed to build).
    assert decode_bytes(b"a +2AA-x", "utf-7") == "a \ufffdx"
    assert decode_words("=?utf-7?q?a_+2AA-x?=") == "a \ufffdx"
    raw = b"From: a@example.org\r\nSubject: =?utf-7?q?+2AA-?=\r\nContent-Type: text/plain; charset=utf-7\r\n\r\nhi +2AA-\r\n"
    rendered = render_message(raw)
    (rendered.subject + rendered.body).encode("utf-8")


def test_a_from_among_comments_nested_thousands_deep_is_read_in_the_list_and_the_reader() -> None:
    # The email package reads comments recursively: the summary raised RecursionError (the
    # message left out of a Maildir folder's list) and the reader showed no sender.
    raw = b"From: " + b"(" * 5000 + b"x" + b")" * 5000 + b" Ann <ann@example.org>\r\nSubject: s\r\n\r\nhi\r\n"
    assert [a.email for a in summary_of(raw, 0, frozenset(), 0).from_] == ["ann@example.org"]
    assert [a.email for a in render_message(raw).from_] == ["ann@example.org"]


def test_addresses_in_groups_nested_thousands_deep_are_read() -> None:
    raw = b"From: " + b"g:" * 5000 + b"ann@example.org, bob@example.org" + b";" * 5000 + b"\r\nSubject: s\r\n\r\nhi\r\n"
    assert [a.email for a in summary_of(raw, 0, frozenset(), 0).from_] == ["ann@example.org", "bob@example.org"]
    assert [a.email for a in render_message(raw).from_] == ["ann@example.org", "bob@example.org"]
