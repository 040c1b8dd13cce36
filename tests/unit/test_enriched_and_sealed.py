"""text/enriched and text/richtext are read as text (RFC 1896, RFC 1341); a message encrypted
with OpenPGP or S/MIME, or S/MIME-signed with its text inside the signature, is told for what it
is, and nothing of that telling goes into a reply or the search index."""

from __future__ import annotations

import pytest

from mailbag.domain.compose import Identity, read_original, reply
from mailbag.domain.enriched_text import enriched_to_text
from mailbag.domain.links import message_links
from mailbag.domain.mime import render_message
from mailbag.domain.sealed_parts import PGP_ENCRYPTED, SMIME_ENCRYPTED, SMIME_OPAQUE
from mailbag.store.search import body_text

ENRICHED = (
    b"From: Ann <ann@example.org>\r\nSubject: enriched\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/enriched; charset=us-ascii\r\n\r\n"
    b"<bold>Now</bold> is the time for <italic>all</italic> good men\r\n"
    b"<smaller>(and <<women>)</smaller> to\r\n<ignoreme>come</ignoreme>\r\n\r\n"
    b"to the aid of their\r\n\r\n\r\n<color><param>red</param>beloved</color> country.\r\n"
    b"<nofill>  kept\r\n    as is\r\n</nofill>See https://example.org/enriched\r\n"
)
PGP_MIME = (
    b"From: Ann <ann@example.org>\r\nSubject: sealed\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="XX"\r\n\r\n'
    b"This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n--XX\r\n"
    b"Content-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--XX\r\n"
    b'Content-Type: application/octet-stream; name="encrypted.asc"\r\n'
    b'Content-Disposition: inline; filename="encrypted.asc"\r\n\r\n'
    b"-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA1234\r\n-----END PGP MESSAGE-----\r\n\r\n--XX--\r\n"
)


def smime(kind: str) -> bytes:
    return (
        b"From: Ann <ann@example.org>\r\nSubject: smime\r\nMIME-Version: 1.0\r\n"
        b'Content-Disposition: attachment; filename="smime.p7m"\r\n'
        b"Content-Type: application/x-pkcs7-mime; smime-type=" + kind.encode() + b'; name="smime.p7m"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nMIIGIgYJKoZIhvcNAQcCoIIGEzCCBg8CAQExDzANBglghkgBZQMEAgEFADBABgkq\r\n"
    )


def test_enriched_text_is_read_as_text_and_is_no_attachment() -> None:
    message = render_message(ENRICHED)
    assert message.body == (
        "Now is the time for all good men (and <women>) to come\nto the aid of their\n\nbeloved country."
        "   kept\n    as is\nSee https://example.org/enriched"
    )
    assert message.attachments == [] and message.sealed == ""
    assert "good men" in body_text(ENRICHED)
    assert "https://example.org/enriched" in [link.target for link in message_links(ENRICHED)]


def test_plain_text_is_preferred_to_its_enriched_alternative_which_is_not_listed() -> None:
    raw = (
        b"From: a@example.org\r\nSubject: alt\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="A"\r\n\r\n--A\r\n'
        b"Content-Type: text/plain\r\n\r\nplain words\r\n--A\r\n"
        b"Content-Type: text/enriched\r\n\r\n<bold>rich</bold> words\r\n--A--\r\n"
    )
    message = render_message(raw)
    assert message.body == "plain words" and message.attachments == []


def test_richtext_breaks_lines_where_it_says() -> None:
    assert enriched_to_text("Hello<nl>world <lt>tag> and\r\nmore<np>page", richtext=True) == (
        "Hello\nworld <tag> and more\n\npage"
    )


def test_enriched_text_is_read_in_one_pass_however_it_nests() -> None:
    deep = "<bold>" * 100_000 + "x" + "</bold>" * 100_000 + "\r\n" * 3 + "<param>" * 50_000 + "hidden"
    assert enriched_to_text(deep) == "x\n\n"


@pytest.mark.parametrize(
    ("raw", "said"),
    [(PGP_MIME, PGP_ENCRYPTED), (smime("enveloped-data"), SMIME_ENCRYPTED), (smime("signed-data"), SMIME_OPAQUE)],
    ids=["pgp-mime", "smime-encrypted", "smime-opaque-signed"],
)
def test_a_sealed_message_says_what_it_is_and_how_to_read_it(raw: bytes, said: str) -> None:
    message = render_message(raw)
    assert message.sealed == said and message.body == ""
    assert message.attachments  # its parts can be saved
    assert "decrypt" not in body_text(raw) and "openssl" not in body_text(raw)
    draft = reply(read_original(raw), Identity("me", "me@example.org"))
    assert "mailbag" not in draft.body and "openssl" not in draft.body


def test_a_signed_message_whose_text_is_readable_is_not_sealed() -> None:
    raw = (
        b"From: a@example.org\r\nSubject: signed\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="S"\r\n\r\n'
        b"--S\r\nContent-Type: text/plain\r\n\r\nsigned words\r\n--S\r\n"
        b'Content-Type: application/pkcs7-signature; name="smime.p7s"\r\n'
        b'Content-Disposition: attachment; filename="smime.p7s"\r\n\r\nMIAG\r\n--S--\r\n'
    )
    message = render_message(raw)
    assert message.body == "signed words" and message.sealed == ""
