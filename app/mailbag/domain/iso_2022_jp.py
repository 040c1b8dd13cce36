"""Japanese text in ISO-2022-JP as senders write it, which Python's strict codecs refuse.

RFC 1468's ISO-2022-JP has JIS X 0208; Microsoft's (CP50220, what Outlook sends) adds NEC's row
13 (①-⑳, №, ㈱...) and IBM's extensions, and senders switch to JIS X 0212, JIS X 0213 or
half-width katakana within one text. Each run of two-byte letters is read through its EUC form with
JIS X 0213's map, which holds JIS X 0208 and those rows at the same places; a letter no map has
shows as U+FFFD, and the rest of the text is kept.
"""

from __future__ import annotations

import re

#: The escape sequences that switch sets (ISO 2022 designations to G0).
_ESCAPE = re.compile(rb"(\x1b(?:\$[@B]|\$\([@BDOPQ]|\([BJIH]))")
#: What each switches to: the EUC codec and prefix of its two-byte letters, or a one-byte set.
_SETS: dict[bytes, tuple[str, bytes]] = {
    b"\x1b$@": ("euc_jis_2004", b""),  # JIS C 6226-1978, read as JIS X 0208
    b"\x1b$B": ("euc_jis_2004", b""),  # JIS X 0208 (with Microsoft's rows)
    b"\x1b$(@": ("euc_jis_2004", b""),
    b"\x1b$(B": ("euc_jis_2004", b""),
    b"\x1b$(O": ("euc_jis_2004", b""),  # JIS X 0213 plane 1
    b"\x1b$(Q": ("euc_jis_2004", b""),
    b"\x1b$(P": ("euc_jis_2004", b"\x8f"),  # JIS X 0213 plane 2
    b"\x1b$(D": ("euc_jp", b"\x8f"),  # JIS X 0212
}
_KATAKANA = b"\x1b(I"
_TWO_BYTE = re.compile(rb"[\x21-\x7e]{2}")


def decode_iso_2022_jp(data: bytes) -> str:
    """``data`` (ISO-2022-JP in any of its variants) as text; never raises."""
    pieces: list[str] = []
    current: tuple[str, bytes] | None = None  # None: ASCII (or JIS-Roman)
    katakana = False
    for piece in _ESCAPE.split(data):
        if piece in _SETS:
            current, katakana = _SETS[piece], False
        elif piece.startswith(b"\x1b") and _ESCAPE.fullmatch(piece):
            current, katakana = None, piece == _KATAKANA
        elif katakana:  # JIS X 0201 katakana: 0x21-0x5F are U+FF61-U+FF9F
            pieces.append("".join(chr(0xFF61 + b - 0x21) if 0x21 <= b <= 0x5F else chr(b) for b in piece))
        elif current is not None:
            codec, prefix = current
            euc = _TWO_BYTE.sub(lambda pair: prefix + bytes(b | 0x80 for b in pair.group()), piece)
            pieces.append(euc.decode(codec, "replace"))
        else:
            pieces.append(piece.decode("ascii", "replace"))
    return "".join(pieces)
