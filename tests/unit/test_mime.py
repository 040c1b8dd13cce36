"""Rendering messages for the reader: body choice, HTML, charsets, attachments, hostile content."""

from __future__ import annotations

import base64

import pytest

from mailbag.domain.mime import extract_attachment, render_message, safe_filename


def msg(headers: str, body: str | bytes) -> bytes:
    head = headers.strip("\n").replace("\n", "\r\n").encode("utf-8") + b"\r\n\r\n"
    return head + (body.replace("\n", "\r\n").encode("utf-8") if isinstance(body, str) else body)


PLAIN = msg(
    """
From: =?utf-8?q?Ren=C3=A9e_M=C3=BCller?= <renee@example.org>
To: Bob <bob@example.org>, carol@example.org
Cc: "Dave, Jr." <dave@example.org>
Subject: =?utf-8?b?SGVsbG8g8J+Ri+S4lueVjA==?=
Date: Tue, 03 Mar 2026 10:15:00 +0100
Message-ID: <abc@example.org>
Content-Type: text/plain; charset=utf-8
""",
    "Hi Bob,\n\nsee you at 10.\n",
)


def test_plain_message_headers_and_body() -> None:
    rendered = render_message(PLAIN)
    assert rendered.subject == "Hello 👋世界"
    assert [(a.name, a.email) for a in rendered.from_] == [("Renée Müller", "renee@example.org")]
    assert [a.email for a in rendered.to] == ["bob@example.org", "carol@example.org"]
    assert [a.name for a in rendered.cc] == ["Dave, Jr."]
    assert rendered.date is not None and rendered.date.isoformat() == "2026-03-03T10:15:00+01:00"
    assert rendered.message_id == "<abc@example.org>"
    assert rendered.body == "Hi Bob,\n\nsee you at 10."
    assert not rendered.body_was_html and rendered.attachments == []


ALTERNATIVE = msg(
    """
Subject: alt
Content-Type: multipart/alternative; boundary="b1"
""",
    """--b1
Content-Type: text/plain; charset=us-ascii

The plain version.
--b1
Content-Type: text/html; charset=us-ascii

<p>The <b>HTML</b> version.</p>
--b1--
""",
)


def test_alternative_prefers_plain_text() -> None:
    rendered = render_message(ALTERNATIVE)
    assert rendered.body == "The plain version."
    assert not rendered.body_was_html
    assert rendered.attachments == []  # the unused HTML alternative is not an attachment


HTML_ONLY = msg(
    """
Subject: newsletter
Content-Type: text/html; charset=utf-8
""",
    """<html><head><style>p { color: red }</style><script>alert('x')</script></head>
<body><h1>News &amp; notes</h1>
<p>First   paragraph, see <a href="https://example.org/a?x=1&amp;y=2">our site</a>.</p>
<ul><li>one</li><li>two</li></ul>
<table><tr><th>Item</th><th>Price</th></tr><tr><td>Tea</td><td>&euro;3</td></tr></table>
<img src="https://tracker.example/p.gif"><img src="cid:logo" alt="Logo">
</body></html>""",
)


def test_html_only_becomes_readable_text() -> None:
    rendered = render_message(HTML_ONLY)
    assert rendered.body_was_html
    assert rendered.body == (
        "News & notes\n\n"
        "First paragraph, see our site[1].\n\n"
        "- one\n- two\n\n"
        "Item | Price\nTea  | €3\n\n"
        "[Logo]\n\n"
        "Links:\n[1] https://example.org/a?x=1&y=2"
    )
    assert "alert" not in rendered.body and "color" not in rendered.body
    assert "tracker" not in rendered.body  # nothing remote is referenced for images without alt


def attachment_part(headers: str, payload: bytes) -> str:
    encoded = base64.encodebytes(payload).decode("ascii")
    return f"{headers.strip()}\nContent-Transfer-Encoding: base64\n\n{encoded}"


PDF = b"%PDF-1.4 fake document " * 100

FORWARDED = "Subject: Forwarded one\r\nFrom: x@example.org\r\n\r\nInner body"

MIXED = msg(
    """
Subject: files
Content-Type: multipart/mixed; boundary="mix"
""",
    "--mix\nContent-Type: text/plain; charset=utf-8\n\nSee attached.\n"
    + "--mix\n"
    + attachment_part(
        'Content-Type: application/pdf\nContent-Disposition: attachment; filename="../../etc/passwd.pdf"',
        PDF,
    )
    + "--mix\n"
    + attachment_part(
        "Content-Type: image/png\nContent-Disposition: attachment;\n filename*=utf-8''%E2%80%AEgnp.exe%1B%5B31m.png",
        b"\x89PNG fake",
    )
    + "--mix\n"
    + attachment_part(
        'Content-Type: text/plain; name="/tmp/=?utf-8?q?r=C3=A9sum=C3=A9?=.txt"', b"plain attachment"
    )
    + "--mix\nContent-Type: message/rfc822\n\n" + FORWARDED.replace("\r\n", "\n") + "\n"
    + "--mix--\n",
)


def test_attachments_are_listed_with_safe_names_and_sizes() -> None:
    rendered = render_message(MIXED)
    assert rendered.body == (  # the attached message is shown too, as NeoMutt does
        "See attached.\n\n[-- Attached message --]\nFrom: x@example.org\nSubject: Forwarded one\n\n"
        "Inner body\n[-- End of attached message --]"
    )
    listed = [(a.filename, a.content_type, a.size) for a in rendered.attachments]
    assert listed == [
        ("passwd.pdf", "application/pdf", len(PDF)),
        ("gnp.exe.png", "image/png", len(b"\x89PNG fake")),
        ("résumé.txt", "text/plain", len(b"plain attachment")),
        ("Forwarded one.eml", "message/rfc822", len(FORWARDED)),  # the size of the .eml it saves as
    ]


def test_extract_attachment_returns_payload_for_listed_part() -> None:
    rendered = render_message(MIXED)
    pdf, png, text, inner = rendered.attachments
    assert extract_attachment(MIXED, pdf.part_index) == ("passwd.pdf", PDF)
    assert extract_attachment(MIXED, png.part_index)[1] == b"\x89PNG fake"
    assert extract_attachment(MIXED, text.part_index) == ("résumé.txt", b"plain attachment")
    name, data = extract_attachment(MIXED, inner.part_index)
    assert name == "Forwarded one.eml"
    assert b"Subject: Forwarded one" in data and b"Inner body" in data
    with pytest.raises(ValueError):
        extract_attachment(MIXED, 99)
    with pytest.raises(ValueError):
        extract_attachment(MIXED, 0)  # the multipart container itself


def test_a_message_whose_lines_end_in_cr_alone_is_read_line_by_line() -> None:
    # Classic Mac OS wrote CR alone at each line's end; read as one line, such a message had an
    # empty body, and one From field that held every other field and the text.
    raw = (
        b"From: Old Mac <old@example.org>\rTo: you@example.org\rSubject: CR only\r"
        b"Date: Mon, 01 Jan 1996 10:00:00 +0000\r\rHello there,\rthis is line two.\r"
    )
    rendered = render_message(raw)
    assert (rendered.subject, rendered.from_[0].email, [a.email for a in rendered.to]) == (
        "CR only", "old@example.org", ["you@example.org"]
    )
    assert rendered.date is not None and rendered.date.year == 1996
    assert rendered.body == "Hello there,\nthis is line two."
    mixed = (
        b"From: old@example.org\rSubject: files\rMIME-Version: 1.0\r"
        b"Content-Type: multipart/mixed; boundary=b1\r\r--b1\rContent-Type: text/plain\r\rSee attached.\r"
        b"--b1\rContent-Type: application/octet-stream; name=data.bin\rContent-Transfer-Encoding: base64\r\r"
        + base64.b64encode(b"\x00\x01binary\xff") + b"\r--b1--\r"
    )
    rendered = render_message(mixed)
    assert rendered.body == "See attached."
    (attached,) = rendered.attachments
    assert extract_attachment(mixed, attached.part_index) == ("data.bin", b"\x00\x01binary\xff")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("/absolute/path/report.pdf", "report.pdf"),
        ("C:\\Users\\me\\evil.exe", "evil.exe"),
        ("..", "attachment"),
        ("", "attachment"),
        (None, "attachment"),
        (".bashrc", "bashrc"),
        ("-rf.txt", "rf.txt"),
        ("a\x00b\x1b[31mc.txt", "abc.txt"),
        ("inv\u202eoice.pdf", "invoice.pdf"),
        ("CON.txt", "_CON.txt"),
        ("nul", "_nul"),
        ('what?<x>|"y".doc', "what__x___y_.doc"),
        ("trailing dots...", "trailing dots"),
        ("日本語の資料.xlsx", "日本語の資料.xlsx"),
    ],
)
def test_safe_filename(name: str | None, expected: str) -> None:
    assert safe_filename(name) == expected


def test_safe_filename_caps_length_and_keeps_extension() -> None:
    name = safe_filename("x" * 500 + ".tar.gz")
    assert name.endswith("x.gz") and len(name.encode()) <= 200
    long_cjk = safe_filename("資" * 300 + ".pdf")
    assert long_cjk.endswith(".pdf") and len(long_cjk.encode()) <= 200
    assert safe_filename("../", fallback="../fallback.bin") == "fallback.bin"


@pytest.mark.parametrize(
    ("charset", "payload", "expected"),
    [
        ("iso-8859-1", "Grüße".encode("latin-1"), "Grüße"),
        ("utf-8", "Grüße".encode("latin-1"), "Grüße"),  # mislabelled legacy text
        ("utf-8", "Grüße ".encode() + b"\xff", "Grüße \ufffd"),  # damaged UTF-8 stays UTF-8
        ("x-unknown-charset", "Grüße".encode(), "Grüße"),
        ("base64", "Grüße".encode(), "Grüße"),  # a codec but not a text encoding
        ("us-ascii", "“quoted” – dash".encode("cp1252"), "“quoted” – dash"),
        ("gb2312", "中文".encode("gb18030"), "中文"),
        ("", "Grüße".encode(), "Grüße"),
    ],
)
def test_charsets(charset: str, payload: bytes, expected: str) -> None:
    declared = f"; charset={charset}" if charset else ""
    raw = msg(f"Subject: c\nContent-Type: text/plain{declared}\nContent-Transfer-Encoding: 8bit", payload)
    assert render_message(raw).body == expected


def test_eight_bit_headers_are_decoded() -> None:
    raw = "Subject: Grüße aus Köln\r\nFrom: Jörg <j@example.org>\r\n\r\nx".encode("latin-1")
    rendered = render_message(raw)
    assert rendered.subject == "Grüße aus Köln"
    assert rendered.from_[0].name == "Jörg"


HOSTILE = msg(
    """
Subject: =?utf-8?q?pay_=1B]52;c;Y3VybCBldmlsLnNofHNo=07now_=E2=80=AEfdp.exe?=
From: "[bold red]Bank[/] \x1b[2J" <bank@example.org>
Content-Type: text/plain; charset=utf-8
""",
    "Dear [b]customer[/b],\n\x1b]52;c;Y3VybCBldmlsLnNofHNo\x07"
    "\x1b[31mred\x1b[0m \x1bP1$qm\x1b\\ \u202eevil\u202c \x9b31m 8-bit CSI\x00\x07\x08 done",
)


def test_hostile_content_is_inert() -> None:
    rendered = render_message(HOSTILE)
    everything = [rendered.subject, rendered.body] + [a.name for a in rendered.from_]
    for text in everything:
        assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in text)
        assert not any(0x7F <= ord(ch) <= 0x9F for ch in text)
        assert not any(ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069" for ch in text)
        assert "52;c;" not in text
    assert rendered.subject == "pay now fdp.exe"
    assert rendered.from_[0].name == "[bold red]Bank[/]"  # markup stays literal text
    assert rendered.body == "Dear [b]customer[/b],\nred  evil  8-bit CSI done"


def test_hostile_html_is_inert() -> None:
    raw = msg(
        "Subject: h\nContent-Type: text/html; charset=utf-8",
        "<p>&#27;[31mred &#x202E;x&#x85; <a href='javascript:alert(1)'>click</a>&#0;</p>",
    )
    # HTML maps &#x85; to U+2026 and &#0; to U+FFFD; the ESC and the bidi override are gone.
    assert render_message(raw).body == "[31mred x… click\ufffd"


def test_format_flowed_is_joined() -> None:
    raw = msg(
        "Subject: f\nContent-Type: text/plain; charset=utf-8; format=flowed",
        "This is a long \nparagraph.\n> quoted \n> on two lines\n-- \nsig",
    )
    assert render_message(raw).body == "This is a long paragraph.\n> quoted on two lines\n-- \nsig"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage",
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n",
        b"Content-Type: text/plain; charset=\"\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64",
        b"Subject: =?bogus-charset?q?x?= =?utf-8?b?####?=\r\nFrom: <<<@@@>>>\r\nDate: 99 Foo 1\r\n\r\nx",
        b"Content-Type: multipart/mixed; boundary=a\r\n\r\n"
        + b"--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n" * 300,
    ],
)
def test_broken_input_never_raises(raw: bytes) -> None:
    rendered = render_message(raw)
    assert isinstance(rendered.body, str)


def test_long_lines_are_kept() -> None:
    line = "word " * 2000
    raw = msg("Subject: l\nContent-Type: text/plain; charset=utf-8", line)
    assert render_message(raw).body == line.strip()


def test_200kb_body_renders_whole() -> None:
    # How fast: python -m bench.parsing
    body = ("Lorem ipsum dolor sit amet, Grüße 世界 — consectetur adipiscing elit.\n" * 3000).encode()
    assert len(body) > 200_000
    raw = msg("Subject: big\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit", body)
    rendered = render_message(raw)
    assert rendered.body.count("\n") == 2999


def test_large_attachments_are_listed_without_decoding() -> None:
    payload = bytes(range(256)) * 4096 * 10  # 10 MiB
    parts = "".join(
        "--m\n" + attachment_part(f'Content-Type: application/octet-stream; name="blob{i}.bin"', payload)
        for i in range(2)
    )
    raw = msg('Subject: big\nContent-Type: multipart/mixed; boundary="m"', parts + "--m--\n")
    rendered = render_message(raw)  # how fast: python -m bench.parsing
    assert [(a.filename, a.size) for a in rendered.attachments] == [
        ("blob0.bin", len(payload)),
        ("blob1.bin", len(payload)),
    ]
