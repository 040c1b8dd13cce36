"""Quirks of real senders' messages, read as a user expects (each seen in the wild): a file name
written without quotes, a name given on Content-Type as filename= or only by Content-Location, a
header line run into the Content-Type, a Reply-To with no address, which a reply passes over, and
Japanese text in raw ISO-2022-JP."""

from __future__ import annotations

import base64

from mailbag.domain.compose import Identity, read_original, reply
from mailbag.domain.mime import render_message
from mailbag.protocols.imap.summary import text
from mailbag.protocols.maildir import summary_of


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


def test_a_reply_to_a_name_holding_a_broken_encoded_word_is_built_for_that_one_address() -> None:
    """Found by fuzzing: the email package reads ``=?...?=`` inside a quoted name as an encoded
    word; one in no charset it knows, beside a letter beyond ASCII, ended the build with a
    UnicodeEncodeError (and another went out unquoted, its ``<`` read as an address's start)."""
    import email
    import email.policy
    from datetime import datetime, timezone

    from mailbag.domain.outgoing import build_message

    name = '"=?iIn-Reply-To: <so-8859-1?Q?J=FCrgen?= Schmürgen" <j@example.org>'
    raw = f"From: {name}\r\nSubject: s\r\n\r\nhi\r\n".encode()
    draft = reply(read_original(raw), Identity("w", "me@example.org"))
    built = build_message(draft, now=datetime(2026, 12, 7, tzinfo=timezone.utc))
    sent = email.message_from_bytes(built.message, policy=email.policy.default)
    [address] = sent["To"].addresses
    assert address.addr_spec == "j@example.org" and "Schm" in address.display_name


def test_a_close_delimiter_with_the_epilogue_begun_on_its_line_still_closes() -> None:
    raw = (b"From: a@example.org\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
           b"--b\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n--b-- This is already the epilogue.\r\n"
           b"More epilogue, never shown.\r\n")
    assert render_message(raw).body == "first part"


def test_an_attached_message_whose_subject_holds_a_slash_keeps_all_of_it_in_its_file_name() -> None:
    raw = with_part(b"Content-Type: message/rfc822", b"Subject: Re: 34Mbit/s link\r\n\r\ninner\r\n")
    assert names(raw) == ["Re_ 34Mbit_s link.eml"]


def test_a_date_with_a_fraction_of_a_second_and_an_unsigned_zone_is_read() -> None:
    from datetime import datetime, timezone

    raw = b"From: a@example.org\r\nDate: Tue, 17 Jul 2012 22:23:35.882 0000\r\nSubject: s\r\n\r\nx\r\n"
    assert render_message(raw).date == datetime(2012, 7, 17, 22, 23, 35, tzinfo=timezone.utc)


JIS_SUBJECT = "会議の件".encode("iso2022_jp")
JIS_NAME = "山田太郎".encode("iso2022_jp")
JIS_BODY = "明日の会議は10時からです。\r\nよろしく。".encode("iso2022_jp")


def test_japanese_mail_in_raw_iso_2022_jp_without_a_charset_is_read_as_japanese() -> None:
    # Japanese mail of before MIME, still sent so: the escapes were dropped as terminal controls
    # and their letters left (the subject showed as "2q5D$N7o", the name split the From in two).
    raw = (b"From: " + JIS_NAME + b" <yamada@example.jp>\r\nTo: b@example.jp\r\nSubject: " + JIS_SUBJECT
           + b"\r\nDate: Mon, 7 Dec 2026 10:00:00 +0900\r\n\r\n" + JIS_BODY + b"\r\n")
    summary = summary_of(raw, 1, frozenset(), 0.0)
    assert summary.subject == "会議の件"
    assert [(a.name, a.email) for a in summary.from_] == [("山田太郎", "yamada@example.jp")]
    shown = render_message(raw)
    assert shown.subject == "会議の件" and shown.body == "明日の会議は10時からです。\nよろしく。"
    assert reply(read_original(raw), Identity("Me", "me@example.org")).subject == "Re: 会議の件"


def test_iso_2022_jp_under_a_charset_no_one_knows_or_ascii_is_read_as_japanese() -> None:
    for label in (b"_iso-2022-jp$ESC", b"us-ascii"):  # Outlook's label, and a mislabel
        raw = (b"From: a@example.jp\r\nSubject: =?" + label + b"?B?" + base64.b64encode(JIS_SUBJECT) + b"?=\r\n"
               b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"" + label + b"\"\r\n\r\n" + JIS_BODY + b"\r\n")
        shown = render_message(raw)
        assert (shown.subject, shown.body) == ("会議の件", "明日の会議は10時からです。\nよろしく。"), label


def test_an_envelope_with_a_raw_iso_2022_jp_subject_lists_it_in_japanese() -> None:
    assert text(JIS_SUBJECT) == "会議の件"
    assert text(b"plain \x1b[31m red") == "plain  red"  # any other escape is still taken out


def test_microsofts_iso_2022_jp_with_circled_numbers_and_sets_switched_within_is_read() -> None:
    # Outlook's ISO-2022-JP (CP50220) has NEC's row 13, ① and №, which Python's codec refuses:
    # the subject showed its bytes ("-!-\" No.-b5") with the escapes taken out.
    subject = b"\x1b$B-!-\"\x1b(B No.\x1b$B-b\x1b(B5"
    raw = (b"From: a@example.jp\r\nSubject: =?iso-2022-jp?B?" + base64.b64encode(subject) + b"?=\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=iso-2022-jp\r\n\r\n" + subject + b" \x1b(I12\x1b(B "
           + "会議".encode("iso2022_jp") + b"\r\n")
    shown = render_message(raw)
    assert shown.subject == "①② No.№5"
    assert shown.body == "①② No.№5 ｱｲ 会議"  # half-width katakana too


def test_a_message_whose_only_text_is_an_attached_text_file_shows_it() -> None:
    # A log or a report sent with no words around it showed an empty page (mutt and Thunderbird
    # show such a file by default); it stays in the list, to be saved.
    raw = (b"From: cron@example.org\r\nSubject: nightly log\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=P\r\n\r\n"
           b"--P\r\nContent-Type: text/plain; name=\"backup.log\"\r\nContent-Disposition: attachment; filename=\"backup.log\"\r\n\r\n"
           b"02:00 backup done\r\n--P\r\nContent-Type: image/png; name=chart.png\r\nContent-Disposition: attachment\r\n\r\nPNG\r\n--P--\r\n")
    shown = render_message(raw)
    assert shown.body == "02:00 backup done"
    assert [a.filename for a in shown.attachments] == ["backup.log", "chart.png"]
