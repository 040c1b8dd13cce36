"""Decoding of header text: RFC 2047 encoded words, address lists, dates, and charsets."""

from __future__ import annotations

import binascii
import codecs
import email.utils
import functools
import re
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

import webencodings

from mailbag.domain.iso_2022_jp import decode_iso_2022_jp
from mailbag.domain.models import Address
from mailbag.domain.sanitize import clean_line


def decode_words(value: str | bytes | None) -> str:
    """Decode RFC 2047 encoded words (``=?utf-8?q?...?=``) and raw 8-bit text into clean text.

    Each encoded word is decoded with its own charset (unknown ones fall back as in
    ``decode_bytes``); adjacent words of one charset are joined before decoding, so a character
    split between two words survives. Text outside encoded words is kept as written
    (a literal ``\\u0041`` stays so); a malformed word keeps its raw text.
    """
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = decode_bytes(value, None)
    else:
        value = _raw_iso_2022(value)
    if "=?" in value:
        value = _decode_encoded_words(value)
    return clean_line(value)


def _raw_iso_2022(value: str) -> str:
    """A field written in raw ISO-2022-JP (Japanese mail of before MIME, still sent) as its
    text; any other as it is."""
    if "\x1b" in value and value.isascii():
        return decode_bytes(value.encode("ascii"), None)
    return value


_ENCODED_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/]")


def _decode_encoded_words(value: str) -> str:
    pieces: list[str] = []
    charset, data = "", b""  # the run of encoded words not decoded yet
    position = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        if not data or between.strip():  # white space between two encoded words is not text
            pieces.append(decode_bytes(data, charset) if data else "")
            pieces.append(between)
            charset, data = "", b""
        word_charset = match.group(1).lower()
        word = _word_bytes(match.group(2).lower(), match.group(3), word_charset)
        if word is None:  # not decodable: keep it as written
            pieces.append(decode_bytes(data, charset) if data else "")
            pieces.append(match.group())
            charset, data = "", b""
        elif data and word_charset != charset:
            pieces.append(decode_bytes(data, charset))
            charset, data = word_charset, word
        else:
            charset, data = word_charset, data + word
        position = match.end()
    pieces.append(decode_bytes(data, charset) if data else "")
    pieces.append(value[position:])
    return "".join(pieces)


def _word_bytes(encoding: str, text: str, charset: str) -> bytes | None:
    """The bytes an encoded word stands for. Raw 8-bit letters inside the word (not allowed, but
    sent) are taken as letters of the word's charset."""
    if text.isascii():
        encoded = text.encode("ascii")
    else:
        try:
            encoded = text.encode(_codec(charset) or "utf-8")
        except (UnicodeEncodeError, LookupError):
            encoded = text.encode("utf-8", "surrogateescape")
    try:
        if encoding == "q":
            return binascii.a2b_qp(encoded, header=True)
        data = _NOT_BASE64.sub(b"", encoded)
        if len(data) % 4 == 1:
            data = data[:-1]
        return binascii.a2b_base64(data + b"=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        return None


# A plain address (``local@domain``), alone or in angle brackets after a phrase of plain words:
# what most mail holds. A value made only of these is read here; anything else (quotes, comments,
# groups, routes, domain literals) by the email package, which reads these the same way.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDR_SPEC = rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
# A word of the phrase before an address in angle brackets may hold "@": an address written as
# the name (``alice@example.com <bob@example.com>``) is one address, bob's, as mutt reads it; the
# email package would make it two, and a reply would go to the name.
_WORD = r"[^()<>,:;\\\"\[\]\s]+"
_PLAIN_ADDRESS = re.compile(
    rf"[ \t]*(?:(?:({_WORD}(?:[ \t]+{_WORD})*)[ \t]*)?<({_ADDR_SPEC})>|({_ADDR_SPEC}))[ \t]*"
)
_BLANKS = re.compile(r"[ \t]+")


def _plain_addresses(value: str) -> list[tuple[str, str]] | None:
    """``(phrase, address)`` of each item of a list of plain addresses, as ``getaddresses``
    gives them; None when an item is anything else."""
    found: list[tuple[str, str]] = []
    for item in value.split(","):
        match = _PLAIN_ADDRESS.fullmatch(item)
        if match is None:
            return None
        phrase, bracketed, bare = match.groups()
        found.append((_BLANKS.sub(" ", phrase) if phrase else "", bracketed or bare))
    return found


def address_pairs(value: str) -> list[tuple[str, str]]:
    """``email.utils.getaddresses`` of one field's value: ``(phrase, address)`` of each address.
    The email package reads comments and groups recursively: a value whose comments nest
    thousands deep (a hostile message) is read with its comments left out, in one pass; one
    whose groups do, as the addresses in it."""
    try:
        return email.utils.getaddresses([value])
    except RecursionError:
        pass
    try:
        return email.utils.getaddresses([_without_comments(value)])
    except RecursionError:
        return [("", found) for found in _LOOSE_ADDR_SPEC.findall(value)]


_LOOSE_ADDR_SPEC = re.compile(r'[^\s<>(),;:"@]+@[^\s<>(),;:"@]+')


def _without_comments(value: str) -> str:
    """``value`` less what is between parentheses, however deep they nest."""
    kept: list[str] = []
    depth = 0
    for char in value:
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif not depth:
            kept.append(char)
    return "".join(kept)


def _unusable(address: str) -> bool:
    """An address the grammar made of words it could not place (``@host`` left of two addresses
    with no comma between them, ``Big Bug bb@bug.com`` whole)."""
    return not address or address.startswith("@") or address.endswith("@") or any(c.isspace() for c in address)


def _loose_pairs(value: str) -> list[tuple[str, str]]:
    """``(phrase, address)`` of each address found in ``value`` by its look alone, the plain
    words before it (after the one before) as its phrase: how a field the grammar cannot read is
    read, as other mail programs read it."""
    pairs: list[tuple[str, str]] = []
    start = 0
    for match in _LOOSE_ADDR_SPEC.finditer(value):
        phrase = _BLANKS.sub(" ", value[start : match.start()].strip(" \t,;<>\"'"))
        pairs.append((phrase, match.group()))
        start = match.end()
    return pairs


def parse_address_list(value: str | None) -> tuple[Address, ...]:
    """Parse a To/From/Cc header value into decoded addresses. One the RFC's grammar reads into
    unusable addresses (two with no comma, a bare address after a name) is read by the look of
    its addresses."""
    if not value:
        return ()
    value = _raw_iso_2022(value)  # its letters' bytes may be any specials (<, @, ", ...)
    result = []
    pairs = _plain_addresses(value)
    if pairs is None:
        pairs = address_pairs(value)
        if any(_unusable(addr) for _name, addr in pairs) and (loose := _loose_pairs(value)):
            pairs = loose
    for name, addr in pairs:
        name, addr = decode_words(name), clean_line(addr)
        if name or addr:
            result.append(Address(name=name, email=addr))
    return tuple(result)


#: How far past the present a message's Date may lie and still be the date it is listed by: a
#: sender's clock a little fast is believed; spam dated years ahead, or a mistyped year, would
#: stay at the top of a list sorted by date, so such a message is listed by its arrival.
FUTURE_SLACK = timedelta(days=1)


def too_far_ahead(date: datetime) -> bool:
    """Whether a message's Date is more than :data:`FUTURE_SLACK` after now."""
    try:
        return date > datetime.now(timezone.utc) + FUTURE_SLACK
    except TypeError:  # a date without its zone
        return date > datetime.now() + FUTURE_SLACK


def parse_date(value: str | None) -> datetime | None:
    """Parse an RFC 5322 date into an aware datetime (UTC when the zone is missing); one that
    some programs write in ISO 8601 (``2024-01-01T10:00:00Z``) is read too."""
    if not value:
        return None
    parsed: datetime | None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        parsed = _iso_date(value) or _mended_date(value)
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


_FRACTION = re.compile(r"(\d\d:\d\d:\d\d)[.,]\d+")
_UNSIGNED_ZONE = re.compile(r"(\d\d:\d\d(?::\d\d)?)\s+(\d{4})\s*$")


def _mended_date(value: str) -> datetime | None:
    """A date some programs write almost as RFC 5322 says: seconds with a fraction
    (``22:23:35.882``), a zone without its sign (``0000``)."""
    mended = _UNSIGNED_ZONE.sub(r"\1 +\2", _FRACTION.sub(r"\1", value))
    if mended == value:
        return None
    try:
        return email.utils.parsedate_to_datetime(mended)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _iso_date(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


# Codecs whose bytes are better read with a superset codec (as browsers do).
_CODEC_UPGRADE = {
    "latin_1": "cp1252",
    "iso8859_1": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
}
_CODEC_REFUSED = frozenset({"unicode_escape", "raw_unicode_escape", "punycode", "idna"})
#: What the Encoding Standard names but mail is better off without: its "replacement" (for
#: ISO-2022-KR, HZ..., which Python reads) and a private byte map.
_WEB_LEFT_OUT = frozenset({"replacement", "x-user-defined"})
_CODE_PAGE = re.compile(r"(?:cp|ibm|windows)[-_ ]?(\d+)")


@functools.lru_cache(maxsize=256)
def _codec(label: str | None) -> str | None:
    """The Python codec for a MIME charset label, or None when unknown or not a text encoding.

    Labels are read as the WHATWG Encoding Standard reads them (``webencodings``), as mail in the
    wild is labelled as web pages are (``iso-8859-8-i``, ``windows-874``, ``ks_c_5601-1987``,
    ``x-x-big5``; ``shift_jis`` read as Windows' cp932); the Unicode ones, ASCII (see
    :func:`decode_bytes`) and what it does not name are Python's (``utf-7``, ``iso-2022-kr``,
    ``hz-gb-2312``...)."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    python = _python_codec(label)
    if python is not None and (python.startswith("utf") or python == "ascii"):
        return python
    web = webencodings.lookup(label)
    if web is not None and web.name not in _WEB_LEFT_OUT:
        if web.name.startswith("utf-16"):  # ucs-2, unicode...: in mail, big-endian without a BOM
            return "utf-16"
        name: str = web.codec_info.name
        return _CODEC_UPGRADE.get(name.replace("-", "_"), name)
    return python


def _python_codec(label: str) -> str | None:
    """The codec Python's own names give ``label`` (``x-`` left out, ``cp-850`` read as
    ``cp850`` where that is needed), or None."""
    page = _CODE_PAGE.fullmatch(label)
    for name in (label, label[2:] if label.startswith("x-") else "", f"cp{page.group(1)}" if page else ""):
        if not name:
            continue
        try:
            info = codecs.lookup(name)
        except (LookupError, ValueError):
            continue
        codec = info.name.replace("-", "_")
        if not getattr(info, "_is_text_encoding", True) or codec in _CODEC_REFUSED:
            return None
        return _CODEC_UPGRADE.get(codec, info.name)
    return None


_BYTE_ORDER_MARKS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode text: the declared charset, then UTF-8, then Windows-1252. Never raises."""
    codec = _codec(charset)
    if codec == "ascii":
        codec = None  # 8-bit bytes under an ASCII label: guess as if undeclared
    if codec in ("utf-16", "utf-32") and not data.startswith(_BYTE_ORDER_MARKS):
        codec = f"{codec}-be"  # no byte-order mark: big-endian (RFC 2781)
    if codec is None and _ISO_2022_JP.search(data):
        codec = "iso2022_jp"
    if codec:
        try:
            return _without_lone_surrogates(data.decode(codec))
        except (UnicodeDecodeError, LookupError, ValueError):
            if codec.startswith("iso2022_jp"):  # Microsoft's additions, sets switched within
                return decode_iso_2022_jp(data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if codec in ("utf-8", None):
        # Damaged UTF-8 stays UTF-8 (its valid text kept, a stray byte shown as U+FFFD); text
        # with no valid multi-byte sequence, labelled UTF-8 or not, is 8-bit legacy.
        text = data.decode("utf-8", errors="replace")
        if any(ord(char) > 0x7F and char != "\ufffd" for char in text):
            return text
    elif codec and codec != "cp1252":
        try:
            return _without_lone_surrogates(data.decode(codec, errors="replace"))
        except (LookupError, ValueError):
            pass
    return data.decode("cp1252", errors="replace")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
#: The escape sequences that switch 7-bit text into JIS X 0208 (RFC 1468), which only ISO-2022-JP
#: text holds: Japanese mail sent with no charset, an unknown one (Outlook's ``_iso-2022-jp$ESC``)
#: or ASCII's is read as what it is, where the escapes would be dropped and their letters left.
_ISO_2022_JP = re.compile(rb"\x1b\$[@B]|\x1b\$\([@BDOPQ]")


def _without_lone_surrogates(text: str) -> str:
    """``text`` with each lone surrogate (which UTF-7 can encode, and no text can hold: it could
    not be written as UTF-8) as U+FFFD."""
    return text if text.isascii() else _LONE_SURROGATE.sub("\ufffd", text)


# --- addresses ----------------------------------------------------------------------------------

_SPECIALS = re.compile(r'[()<>@,;:\\".\[\]]')


def format_address(address: Address) -> str:
    """``Name <user@host>`` (the name quoted when it holds RFC 5322 specials), or the bare address."""
    if not address.name:
        return address.email
    name = address.name
    if _SPECIALS.search(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{address.email}>"


def format_addresses(addresses: Iterable[Address]) -> str:
    """Addresses as ``format_address`` writes them, comma-separated."""
    return ", ".join(format_address(a) for a in addresses)
