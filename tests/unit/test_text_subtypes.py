"""Text parts of any subtype are text (RFC 2046 4.1.4: an unknown text subtype is read as
text/plain): a patch, a table or a note of a subtype mailbag has no reading of is shown in the
body and still listed, to be saved; a named text part is shown too where its sender asks for it
inline (as mutt does), and only listed where it does not."""

from __future__ import annotations

from mailbag.domain.mime import render_message


def mixed(*parts: bytes) -> bytes:
    body = b"".join(b"--B\r\n" + part + b"\r\n" for part in parts)
    return b"From: a@example.org\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" + (
        body + b"--B--\r\n"
    )


def listed(raw: bytes) -> list[tuple[str, str]]:
    return [(a.filename, a.content_type) for a in render_message(raw).attachments]


def test_text_of_an_unknown_subtype_is_shown_and_listed() -> None:
    raw = mixed(b"Content-Type: text/plain\r\n\r\nthe table:", b"Content-Type: text/csv\r\n\r\nname,count\r\nfig,3")
    assert render_message(raw).body == "the table:\n\nname,count\nfig,3"
    assert listed(raw) == [("attachment.csv", "text/csv")]


def test_a_named_text_part_is_shown_where_it_is_asked_for_inline() -> None:
    patch = (b"Content-Type: text/x-diff; charset=utf-8\r\nContent-Disposition: inline; filename=fix.patch\r\n\r\n"
             b"--- a/x\r\n+++ b/x\r\n-old\r\n+new")
    note = b'Content-Type: text/plain; name="notes.txt"\r\nContent-Disposition: attachment\r\n\r\nnot shown'
    named = b'Content-Type: text/plain; name="named.txt"\r\n\r\nnot shown either'
    raw = mixed(b"Content-Type: text/plain\r\n\r\nsee the patch", patch, note, named)
    assert render_message(raw).body == "see the patch\n\n--- a/x\n+++ b/x\n-old\n+new"
    assert listed(raw) == [("fix.patch", "text/x-diff"), ("notes.txt", "text/plain"), ("named.txt", "text/plain")]


def test_plain_text_is_preferred_to_an_alternative_of_another_subtype_which_is_not_listed() -> None:
    raw = (b"From: a@example.org\r\nSubject: alt\r\nMIME-Version: 1.0\r\n"
           b'Content-Type: multipart/alternative; boundary="A"\r\n\r\n--A\r\n'
           b"Content-Type: text/plain\r\n\r\nplain words\r\n--A\r\n"
           b"Content-Type: text/markdown\r\n\r\n**rich** words\r\n--A--\r\n")
    message = render_message(raw)
    assert message.body == "plain words" and message.attachments == []


def test_a_message_of_only_unknown_text_parts_is_read() -> None:
    raw = mixed(b"Content-Type: text/x-one\r\n\r\nBlah", b"Content-Type: text/x-two\r\n\r\nMore")
    assert render_message(raw).body == "Blah\n\nMore"
