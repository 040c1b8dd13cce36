"""A message made ready for the outbox, and its bytes as DATA carries them."""

from __future__ import annotations

import pytest

from mailbag.domain.envelope import EnvelopeError, envelope_address, message_id_of, prepare
from mailbag.protocols.smtp.wire import data_payload, utf8_header


def test_recipients_come_from_to_cc_and_bcc_and_bcc_is_taken_out() -> None:
    raw = (
        b"From: Me <me@example.org>\nTo: a@example.org, \"B, Bee\" <b@example.org>\n"
        b"Cc: =?utf-8?q?Zo=C3=AB?= <z@example.org>\nBcc: hidden@example.org,\n a@example.org\n"
        b"Subject: =?utf-8?q?caf=C3=A9?=\n\nbody\n.\n"
    )
    ready = prepare(raw, domain="fallback.test", strip_bcc=True)
    assert ready.recipients == ("a@example.org", "b@example.org", "z@example.org", "hidden@example.org")
    assert ready.sender == "me@example.org" and ready.subject == "café"
    assert b"hidden@example.org" not in ready.raw and b"Bcc" not in ready.raw
    assert ready.message_id.endswith("@example.org>") and message_id_of(ready.raw) == ready.message_id
    assert b"\nDate: " in ready.raw
    assert ready.raw.endswith(b"\r\n\r\nbody\r\n.\r\n") and b"\n" not in ready.raw.replace(b"\r\n", b"")


def test_a_message_id_added_is_on_the_ascii_form_of_the_from_domain() -> None:
    # On the domain as written, a From on bücher.example gave the message an 8-bit Message-ID.
    ready = prepare("From: me@bücher.example\nTo: a@example.org\n\nx".encode(), domain="fallback.test")
    assert ready.message_id.endswith("@xn--bcher-kva.example>")
    ready = prepare("To: a@example.org\n\nx".encode(), domain="bücher.example")
    assert ready.message_id.endswith("@xn--bcher-kva.example>")


def test_the_envelope_carries_a_domain_in_ascii_and_a_local_part_as_it_is() -> None:
    assert envelope_address("jörg@bücher.example") == "jörg@xn--bcher-kva.example"
    assert envelope_address("a@example.org") == "a@example.org"
    assert envelope_address("a@ex\u00adample..org") == "a@ex\u00adample..org"  # IDNA cannot write it: as it is


def test_a_header_in_8_bit_bytes_of_an_older_mailer_is_read_as_text() -> None:
    # Read as UTF-8 with surrogates, its subject could not be stored: `mailbag send` of a
    # message from a script writing Latin-1 ended in a traceback, and nothing was queued.
    raw = b"From: Ren\xe9 <rene@example.org>\nTo: a@example.org\nSubject: caf\xe9\nMessage-ID: <id\xe9@example.org>\n\nx"
    ready = prepare(raw, domain="d.test")
    assert (ready.subject, ready.message_id, ready.sender) == ("café", "<idé@example.org>", "rene@example.org")
    assert ready.raw.startswith(b"From: Ren\xe9 <rene@example.org>\r\n")  # sent as it was written
    assert prepare("Subject: Grüße\nTo: a@example.org\n\nx".encode(), domain="d.test").subject == "Grüße"


def test_a_message_given_its_envelope_must_not_carry_bcc() -> None:
    with pytest.raises(EnvelopeError, match="Bcc"):
        prepare(b"To: a@example.org\nBcc: b@example.org\n\nx", domain="d.test")


@pytest.mark.parametrize(
    "raw, problem",
    [
        (b"To: a@example.org\nSubject: x\rBcc: e@example.org\n\nx", "bare CR"),
        (b"To: a@example.org\nSubject: x\x00\n\nx", "NUL"),
        (b"To: a@example.org\nnot a field\n\nx", "not a header field"),
        (b"To: a@example.org, evil\n\nx", "not an email address"),
        (b"To: <a b@example.org>\n\nx", "not an email address"),
    ],
)
def test_what_could_inject_a_header_or_a_command_is_refused(raw: bytes, problem: str) -> None:
    with pytest.raises(EnvelopeError, match=problem):
        prepare(raw, domain="d.test", strip_bcc=True)


def test_data_is_dot_stuffed_with_crlf_line_ends_and_ends_with_the_final_dot() -> None:
    assert data_payload(b".start\nmid\r\n..two\r.\nend") == (
        b"..start\r\nmid\r\n...two\r\n..\r\nend\r\n.\r\n"
    )
    assert data_payload(b"x\r\n") == b"x\r\n.\r\n"


def test_a_header_is_one_for_smtputf8_when_its_8_bit_bytes_are_utf8() -> None:
    assert utf8_header("Subject: Grüße\r\n\r\nbody".encode())
    assert not utf8_header(b"Subject: caf\xe9\r\n\r\nbody")  # an older mailer's Latin-1
    assert not utf8_header("Subject: hi\r\n\r\nGrüße".encode())  # 8-bit in the body only


def test_an_address_among_comments_nested_thousands_deep_is_read() -> None:
    # The email package reads comments recursively: `mailbag send` ended in a RecursionError.
    raw = b"From: " + b"(" * 5000 + b"x" + b")" * 5000 + b" a@example.org\nTo: b@example.org\n\nx"
    assert prepare(raw, domain="d.test").sender == "a@example.org"
