"""The summaries' own header reading gives what the email package gives, field for field and
address for address, on hand-made oddities and on every message of the corpus (where it
cannot, it hands the block to the email package)."""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
import io
import re

import pytest

from mailbag.domain import header_fields
from mailbag.domain.header_fields import content_type, first_fields
from mailbag.domain.headers import decode_words, parse_address_list
from mailbag.domain.mime import render_message
from mailbag.domain.models import Address
from mailbag.domain.sanitize import clean_line
from mailbag.protocols import maildir
from tests.unit.test_corpus import FILES

BLOCKS = [
    "Subject: hello\nFrom: a@b.example\n",
    "Subject: first\r\nsubject: second\r\n",
    "From sender@example.org Mon Jan  1 00:00:00 2024\nSubject: mbox\n",
    "Subject: x\nFrom someone in the body\n",
    "Subject: x\nFrom misplaced\nTo: c@d.example\n",
    "  leading continuation\nSubject: kept\n",
    ":no name\nSubject: after\n",
    "Subject: x\njunk line without a colon\nTo: never@read.example\n",
    "Content-Type: Multipart/Mixed; boundary=x\n",
    "Content-Type: text/plain/extra\n",
    "Content-Type: \n",
    "X-Empty:\nSubject:\t tabs first\n",
    "Subject: caf\u00e9 8-bit\n",
    "",
    "\n",
]


def _email_package(text: str) -> tuple[dict[str, str], str]:
    parsed = email.parser.HeaderParser(policy=email.policy.compat32).parsestr(text)
    return {name.lower(): str(parsed.get(name)) for name in parsed.keys()}, parsed.get_content_type()


@pytest.mark.parametrize("text", BLOCKS)
def test_fields_are_the_email_packages(text: str) -> None:
    fields = first_fields(text)
    assert fields is not None
    assert (fields, content_type(fields)) == _email_package(text)


@pytest.mark.parametrize("text", ["Subject: a\rb\n", "Subject: a\r\n", "Subject: a\r", "To: x\n continued\n"])
def test_a_lone_cr_or_a_continuation_goes_to_the_email_package(text: str) -> None:
    if text == "Subject: a\r\n":
        assert first_fields(text) == {"subject": "a"}
    else:
        assert first_fields(text) is None


ADDRESSES = [
    "a@b.example",
    "Jane Doe <jane@example.org>",
    "Jane   Doe\t<jane@example.org>, bob@example.net,<c@d.example>",
    "Dr. J. Smith <j.smith@mail.example.com>",
    "=?utf-8?q?J=C3=B6rg?= <j@example.de>",
    "J\u00f6rg Raw <j@example.de>",
    "Name<tight@example.org>",
    '"Doe, Jane" <jane@example.org>',
    "jane@example.org (Jane)",
    "undisclosed-recipients:;",
    "a@b.example,",
    "<@route:a@b.example>",
    "a@[192.0.2.1]",
    "no-at-sign",
    "Non\u00a0breaking <a@b.example>",
]


@pytest.mark.parametrize("value", ADDRESSES)
def test_addresses_are_the_email_packages(value: str) -> None:
    expected = tuple(
        Address(name=decode_words(name), email=clean_line(addr))
        for name, addr in email.utils.getaddresses([value])
        if name or addr
    )
    assert parse_address_list(value) == expected


@pytest.mark.parametrize(
    ("value", "read"),
    [
        ("Name a@b.example", (Address("Name", "a@b.example"),)),
        ("tim@x.example concierge@x.example", (Address("", "tim@x.example"), Address("", "concierge@x.example"))),
        ("Ann <a@x.example> Bob <b@x.example>", (Address("Ann", "a@x.example"), Address("Bob", "b@x.example"))),
    ],
)
def test_a_list_the_grammar_reads_into_unusable_addresses_is_read_by_their_look(
    value: str, read: tuple[Address, ...]
) -> None:
    """Where the email package gives ``@x.example`` or ``Name a@b.example`` for an address (a
    missing comma, a bare address after a name), the addresses are taken as they look, the
    words before each as its name."""
    assert parse_address_list(value) == read


def test_every_corpus_message_summarises_as_the_email_package_reads_it() -> None:
    assert FILES, "the corpus is missing"
    for path in FILES:
        raw = path.read_bytes()
        block = maildir._header_block(io.BytesIO(raw))
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError:
            text = block.decode("latin-1")
        text = header_fields._FOLD.sub("", text)
        fields = first_fields(text)
        if fields is None:
            continue
        if _BLANK_BEFORE_COLON.search(text):  # the email package ends the header there; the reader does not
            summary = maildir.summary_of(raw, 1, frozenset(), 0.0)
            rendered = render_message(raw)
            assert (summary.subject, summary.from_) == (rendered.subject, rendered.from_), path.name
        else:
            assert (fields, content_type(fields)) == _email_package(text), path.name


_BLANK_BEFORE_COLON = re.compile(r"^[\041-\071\073-\176]+[ \t]+:", re.MULTILINE)


@pytest.mark.parametrize("body", [
    b"--b\r\nx\r\n--b--\r\n",
    b"pre--b\n--b \t\r\n--bb\n --b\n--b--x\n--b-- \n",
    b"--b\r\r\n--b--",
    b"--b--\n--b\n",
    b"",
])
def test_multipart_delimiters_are_the_lines_rfc_2046_names(body: bytes) -> None:
    """A delimiter is a whole line: ``--boundary``, ``--`` more when it closes, then only blanks."""
    pattern = re.compile(rb"^--b(--)?[ \t]*\r?$", re.M)
    expected = [(m.start(), m.end(), bool(m.group(1))) for m in pattern.finditer(body)]
    assert maildir._delimiter_lines(body, b"--b") == expected


def test_a_name_with_blanks_before_its_colon_is_a_field_for_the_list_as_for_the_reader() -> None:
    """RFC 5322 4.5's obsolete syntax, which the email package takes for the end of the header:
    the list (the summary) reads it as the reader does, so that both show the same sender."""
    text = "Subject : obsolete syntax\nFrom  : Ann <ann@example.org>\nTo: b@example.org\n"
    assert first_fields(text) == {"subject": "obsolete syntax", "from": "Ann <ann@example.org>", "to": "b@example.org"}
    summary = maildir.summary_of((text + "\nbody\n").encode(), 1, frozenset(), 0.0)
    rendered = render_message((text + "\nbody\n").encode())
    assert summary.subject == rendered.subject == "obsolete syntax"
    assert summary.from_ == rendered.from_ == (Address("Ann", "ann@example.org"),)
