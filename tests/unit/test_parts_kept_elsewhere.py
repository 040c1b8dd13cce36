"""Parts that are not the content they name: a part kept elsewhere (message/external-body: at a
URL, on an FTP site, or an attachment mutt deleted), a piece of a message sent in parts
(message/partial), and the Mac resource fork of a file sent as AppleDouble."""

from __future__ import annotations

import socket

import pytest

from mailbag.domain.mime import extract_part, render_message
from mailbag.protocols.maildir import summary_of


def mixed(part: bytes) -> bytes:
    return (b"From: a@example.org\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=O\r\n\r\n"
            b"--O\r\nContent-Type: text/plain\r\n\r\nthe text\r\n--O\r\n" + part + b"\r\n--O--\r\n")


def test_a_part_kept_at_a_url_says_where_and_is_neither_fetched_nor_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*_args: object) -> None:
        raise AssertionError("the reader reached for the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    raw = mixed(b'Content-Type: message/external-body; access-type=URL;\r\n URL="http://tracker.example/'
                b'\r\n pixel.png"\r\n\r\nContent-Type: image/png\r\nContent-ID: <p@x>\r\n\r\n')
    shown = render_message(raw)
    assert shown.body == ("the text\n\n[-- image/png is not in this message: it is kept at "
                          "http://tracker.example/pixel.png (not fetched) --]")
    assert shown.attachments == []  # was attachment.bin: the 40 bytes of its fields


def test_an_attachment_mutt_deleted_says_so_with_its_name_and_size() -> None:
    raw = mixed(b'Content-Type: message/external-body; access-type=x-mutt-deleted;\r\n\texpiration="Mon, 7 Dec 2026 '
                b'10:00:00 +0000"; length=12345\r\n\r\nContent-Type: application/pdf; name="report.pdf"\r\n'
                b'Content-Disposition: attachment; filename="report.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n')
    shown = render_message(raw)
    assert shown.body.endswith("\n[-- report.pdf (application/pdf, 12 KB) was deleted from this message --]")
    assert shown.attachments == []


def test_a_file_on_an_ftp_site_is_named_with_the_site_as_plain_text() -> None:
    raw = (b"From: a@example.org\r\nMIME-Version: 1.0\r\nContent-Type: message/external-body; access-type=ANON-FTP;"
           b' site="ftp.example.org"; directory="pub/\x1b[2Jdocs"; name="big.tar.gz";'
           b' expiration="Fri, 14 Jun 1991 19:13:14 -0400"\r\n\r\nContent-Type: application/gzip\r\n\r\n')
    assert render_message(raw).body == (
        "[-- big.tar.gz (application/gzip) is not in this message: it is kept by ANON-FTP on ftp.example.org:"
        " pub/docs/big.tar.gz until Fri, 14 Jun 1991 19:13:14 -0400 (not fetched) --]")


def test_a_piece_of_a_message_sent_in_parts_says_which_and_is_saved_under_its_number() -> None:
    raw = (b"From: a@example.org\r\nSubject: big (1/2)\r\nMIME-Version: 1.0\r\n"
           b'Content-Type: message/partial; id="abc@example.org"; number=1; total=2\r\n\r\n'
           b"From: z@example.org\r\nSubject: big\r\n\r\nthe first half\r\n")
    shown = render_message(raw)
    assert shown.body == ("[-- Part 1 of 2 of a message sent in parts (abc@example.org): saved in order,"
                          " its parts joined make the message --]")
    [piece] = shown.attachments
    assert piece.filename == "part 1 of 2.txt"
    assert extract_part(raw, piece)[1].endswith(b"the first half\r\n")


def test_a_file_sent_as_appledouble_is_listed_once_without_its_mac_resource_fork() -> None:
    raw = mixed(b"Content-Type: multipart/appledouble; boundary=I\r\n\r\n--I\r\n"
                b'Content-Type: application/applefile; name="report.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
                b"AAUWBwACAAA=\r\n--I\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\n"
                b'Content-Disposition: attachment; filename="report.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
                b"JVBERi0=\r\n--I--")
    [only] = render_message(raw).attachments
    assert extract_part(raw, only) == ("report.pdf", b"%PDF-")


MUTT_DELETED = mixed(b'Content-Type: message/external-body; access-type=x-mutt-deleted;\r\n\texpiration="Mon, 7 Dec 2026 '
                     b'10:00:00 +0000"; length=12345\r\n\r\nContent-Type: application/pdf; name="report.pdf"\r\n'
                     b'Content-Disposition: attachment; filename="report.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n')


ON_FTP = mixed(b'Content-Type: message/external-body; access-type=anon-ftp; site="ftp.example.org"; name="big.tar"'
               b"\r\n\r\nContent-Type: application/x-tar\r\n\r\n")


def test_a_message_whose_attachment_mutt_deleted_has_no_attachment_mark_in_the_list() -> None:
    # The list marked it "@" while the reader listed nothing to open.
    assert summary_of(MUTT_DELETED, 1, frozenset(), 0.0).has_attachment is False
    assert summary_of(ON_FTP, 1, frozenset(), 0.0).has_attachment is False
    kept = mixed(b'Content-Type: application/pdf; name="report.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBE')
    assert summary_of(kept, 1, frozenset(), 0.0).has_attachment is True
