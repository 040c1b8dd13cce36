"""Quirks of real senders' messages, read as a user expects (each seen in the wild): a file name
written without quotes, a name given on Content-Type as filename= or only by Content-Location, a
header line run into the Content-Type, and a Reply-To with no address, which a reply passes over."""

from __future__ import annotations

from mailbag.domain.compose import Identity, read_original, reply
from mailbag.domain.mime import render_message


def with_part(headers: bytes, body: bytes = b"data") -> bytes:
    return (b"From: a@example.org\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
            b"--B\r\nContent-Type: text/plain\r\n\r\nthe text\r\n--B\r\n" + headers + b"\r\n\r\n" + body + b"\r\n--B--\r\n")


def names(raw: bytes) -> list[str]:
    return [a.filename for a in render_message(raw).attachments]


def test_a_file_name_written_without_quotes_keeps_its_spaces() -> None:
    raw = with_part(b"Content-Type: application/pdf; name=Annual report 2026.pdf\r\n"
                    b"Content-Disposition: attachment; filename=Annual report 2026.pdf; size=4")
    assert names(raw) == ["Annual report 2026.pdf"]


def test_an_unquoted_charset_still_ends_at_a_space() -> None:
    raw = (b"From: a@example.org\r\nContent-Type: text/plain; charset=iso-8859-1 format=flowed\r\n\r\n"
           b"caf\xe9\r\n")
    assert render_message(raw).body == "café"


def test_a_name_on_content_type_as_filename_or_only_in_content_location_is_the_files_name() -> None:
    assert names(with_part(b'Content-Type: image/jpeg; filename="Photo 25.jpg"\r\nContent-Transfer-Encoding: base64',
                           b"AAAA")) == ["Photo 25.jpg"]
    assert names(with_part(b"Content-Type: image/jpeg\r\nContent-Location: https://example.org/pics/Photo%2026.jpg",
                           b"AAAA")) == ["Photo 26.jpg"]
    assert names(with_part(b"Content-Type: image/jpeg\r\nContent-Location: https://example.org/pics/",
                           b"AAAA")) == ["attachment.jpg"]


def test_a_header_line_run_into_the_content_type_leaves_the_type_readable() -> None:
    raw = (b"From: a@example.org\r\nContent-Type: text/html Content-Transfer-Encoding: 8bit\r\n\r\n"
           b"<p>Dear <b>customer</b>&nbsp;hello</p>\r\n")
    message = render_message(raw)
    assert message.body == "Dear customer hello" and message.body_was_html


def test_a_reply_to_without_an_address_is_passed_over_for_from() -> None:
    raw = (b'From: Shop <no-reply@shop.example>\r\nReply-To: "Sales Desk" <>\r\nSubject: your bid\r\n\r\nhello\r\n')
    draft = reply(read_original(raw), Identity("w", "me@example.org"))
    assert draft.to == "Shop <no-reply@shop.example>"


def test_an_address_written_as_the_name_is_the_name_and_a_reply_goes_to_the_address_alone() -> None:
    """``alice@example.com <bob@example.com>`` is bob's address under a name that looks like
    another (a spoofing trick): the email package made it two addresses, and a reply went to both."""
    raw = (b"From: alice@example.com <bob@example.com>\r\nReply-To: henry@example.com <ivan@example.com>\r\n"
           b"Subject: s\r\n\r\nhello\r\n")
    message = render_message(raw)
    assert [(a.name, a.email) for a in message.from_] == [("alice@example.com", "bob@example.com")]
    draft = reply(read_original(raw), Identity("w", "me@example.org"))
    assert draft.to == '"henry@example.com" <ivan@example.com>'


def test_text_labelled_base64_that_is_words_is_shown_as_written() -> None:
    raw = (b"From: a@example.org\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           b"ploozdect  nispplul swunkglap\r\nsmoorbrooft  pukstrooz\r\n")
    assert render_message(raw).body == "ploozdect  nispplul swunkglap\nsmoorbrooft  pukstrooz"
    real = b"From: a@example.org\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ=\r\n"
    assert render_message(real).body == "hello world"
