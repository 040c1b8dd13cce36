"""Messages whose text is sealed from the reader: encrypted with OpenPGP (PGP/MIME, RFC 3156) or
S/MIME (RFC 8551), or signed with S/MIME in the opaque form, which keeps the text inside the
signature. mailbag decrypts nothing; instead of an empty page the reader says what the message
is and how to read it with the user's own tools (``|`` and a ``!`` command have the terminal,
for a passphrase prompt).
"""

from __future__ import annotations

from collections.abc import Iterable

from mailbag.domain.mime_structure import MimePart

_PKCS7 = ("application/pkcs7-mime", "application/x-pkcs7-mime")

PGP_ENCRYPTED = (
    "This message is encrypted with OpenPGP (PGP/MIME); mailbag does not decrypt mail. To read it,"
    " press | and type:  !gpg --decrypt | less"
)
SMIME_ENCRYPTED = (
    "This message is encrypted with S/MIME; mailbag does not decrypt mail. To read it, press | and"
    " type:  !openssl smime -decrypt -inkey YOUR-KEY.pem | less"
)
SMIME_OPAQUE = (
    "This message is signed with S/MIME in the form that keeps its text inside the signature,"
    " which mailbag does not open. To read it, press | and type:  !openssl smime -verify -noverify | less"
)
ENCRYPTED_OTHER = "This message is encrypted in a way mailbag does not know; its parts are listed above."


def sealed_text(parts: Iterable[MimePart]) -> str | None:
    """What the reader shows for a message with no text of its own and one of ``parts`` sealed
    (see the module's text); None when none is."""
    for part in parts:
        if part.content_type == "multipart/encrypted":
            protocol = part.params.get("protocol", "").strip().lower()
            return PGP_ENCRYPTED if protocol == "application/pgp-encrypted" else ENCRYPTED_OTHER
        if part.content_type in _PKCS7 or (part.filename or "").lower().endswith(".p7m"):
            kind = part.params.get("smime-type", "").strip().lower()
            return SMIME_OPAQUE if kind == "signed-data" else SMIME_ENCRYPTED
    return None
