"""The MIME structure of a message, read straight from its bytes.

Every part records where it lies in the message (``start``, ``body_start``, ``end``), so one part
can be decoded alone, later, from the same bytes, without parsing the rest again. Boundaries are
found with ``bytes.find``; only header blocks are read line by line, so a message of 10,000 parts
costs little more than its headers.

Leniency follows NeoMutt: an unquoted parameter value runs to the next ``;`` or space (so the
Outlook Express ``boundary=----=_NextPart_...`` is read whole); of two Content-Type fields the one
that makes sense of the body wins; a bare CR inside a header does not end the header block. A
message whose lines all end in CR alone (as classic Mac OS wrote them: no LF anywhere in it) is
read as if each CR were an LF, which keeps every offset.
Limits on depth, part count and time are kept, and what they cut is reported in ``limits_hit``.
"""

from __future__ import annotations

import binascii
import email
import email.policy
import re
import urllib.parse
from dataclasses import dataclass, field

from mailbag.domain.deadline import Deadline
from mailbag.domain.headers import decode_bytes, decode_words

_FIELD_NAME = re.compile(rb"[!-9;-~]+[ \t]*:")
_FOLD = re.compile(rb"\r?\n(?=[ \t])")
_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")
_CONTAINERS = frozenset({"message/rfc822", "message/global"})


@dataclass(frozen=True, slots=True)
class Limits:
    """How far the reader goes into one message (how long: ``mailbag.domain.deadline``)."""

    max_depth: int = 64  # a multipart nested deeper is kept whole, as data
    max_parts: int = 50_000  # parts past this are not read
    max_text_bytes: int = 16 * 1024 * 1024  # body text shown, in bytes of the decoded source


DEFAULT_LIMITS = Limits()


@dataclass(eq=False, slots=True)
class MimePart:
    """One part of a message: its header fields and where it lies in the message's bytes.

    ``index`` numbers the parts depth-first (the root is 0); ``section`` is the IMAP section
    number ("1.2"; "" for the root). Attached messages (message/rfc822) are one part: read
    their own structure with ``inner()``.
    """

    source: bytes
    start: int
    body_start: int
    end: int
    fields: list[tuple[str, bytes]]
    content_type: str = "text/plain"
    params: dict[str, str] = field(default_factory=dict)
    index: int = 0
    section: str = ""
    depth: int = 0
    children: list[MimePart] = field(default_factory=list)
    _disposition: tuple[str, dict[str, str]] | None = None  # read once, when first asked for
    _first: dict[str, bytes] | None = None  # the first field of each name

    def header(self, name: str) -> str | None:
        """The first field called ``name`` (lower case), unfolded and decoded, not RFC 2047 decoded."""
        if self._first is None:
            self._first = {}
            for key, value in self.fields:
                self._first.setdefault(key, value)
        found = self._first.get(name)
        return None if found is None else header_value(found)

    @property
    def maintype(self) -> str:
        return self.content_type.partition("/")[0]

    @property
    def subtype(self) -> str:
        return self.content_type.partition("/")[2]

    @property
    def disposition(self) -> str:
        """``attachment``, ``inline`` or "" (none given)."""
        return self._disposition_field()[0]

    def _disposition_field(self) -> tuple[str, dict[str, str]]:
        if self._disposition is None:
            value = self.header("content-disposition") or ""
            self._disposition = (value.split(";", 1)[0].strip().lower(), parse_params(value))
        return self._disposition

    @property
    def charset(self) -> str | None:
        return self.params.get("charset")

    @property
    def filename(self) -> str | None:
        """The file name from Content-Disposition, else Content-Type (RFC 2231 and 2047 decoded)."""
        name = self._disposition_field()[1].get("filename")
        if name is None:
            name = self.params.get("name", self.params.get("filename"))  # filename= there: some do
        return None if name is None else decode_words(name)

    @property
    def transfer_encoding(self) -> str:
        return (self.header("content-transfer-encoding") or "").strip().lower()

    def body(self) -> bytes:
        """The body as it lies in the message (still transfer-encoded)."""
        return self.source[self.body_start : self.end]

    def payload(self) -> bytes:
        """The body decoded from its transfer encoding (lenient: damaged data decodes as far as it can)."""
        return decode_transfer(self.body(), self.transfer_encoding)

    def raw(self) -> bytes:
        """The whole part as it lies in the message, header fields included."""
        return self.source[self.start : self.end]

    def inner(self, limits: Limits = DEFAULT_LIMITS, deadline: Deadline | None = None) -> Structure | None:
        """The structure of an attached message (message/rfc822), or None for other parts;
        ``deadline`` is the enclosing message's, when it is being read."""
        if self.content_type not in _CONTAINERS:
            return None
        data = self.source if self.transfer_encoding in ("", "7bit", "8bit", "binary") else self.payload()
        start, end = (self.body_start, self.end) if data is self.source else (0, len(data))
        return read_structure(data, limits, start, end, deadline)

    def encoded_size(self) -> int:
        """The decoded size, estimated from the encoded body (nothing is decoded)."""
        declared = self._disposition_field()[1].get("size", "")
        if declared.isdigit():
            return int(declared)
        length = self.end - self.body_start
        if self.transfer_encoding == "base64":
            body = self.body()
            stripped = length - body.count(b"\n") - body.count(b"\r") - body.count(b" ") - body.count(b"=")
            return max(0, stripped * 3 // 4)
        if self.transfer_encoding == "quoted-printable":
            body = self.body()
            return max(0, length - 2 * body.count(b"=") - body.count(b"\r"))
        return max(0, length)


@dataclass(slots=True)
class Structure:
    """The parts of one message in depth-first order, and the limits its reading hit."""

    root: MimePart
    parts: list[MimePart]
    limits_hit: list[str] = field(default_factory=list)


# --- header fields ---------------------------------------------------------------------------------


def header_value(value: bytes) -> str:
    """A field's value unfolded, its bytes decoded (UTF-8 where valid, per run of bytes)."""
    if value.isascii() and b"\n" not in value:
        return value.decode("ascii").strip()
    return decode_bytes(_FOLD.sub(b"", value), None).strip()


def _read_fields(data: bytes, start: int, end: int) -> tuple[list[tuple[str, bytes]], int]:
    """The header fields from ``start`` and where the body starts.

    Lines end at LF (a CR alone is part of the line). The block ends at an empty line, or at a
    line that is neither a field nor a continuation (that line then starts the body). A field's
    value is the slice from its name to the end of its last continuation line (still folded).
    """
    spans: list[tuple[str, int, int]] = []  # name, where the value starts, where it ends
    position = start
    body_start = end
    while position < end:
        newline = data.find(b"\n", position, end)
        line_end = end if newline < 0 else newline + 1
        first = data[position : position + 1]
        if first in (b" ", b"\t") and spans:
            name, value_start, _ = spans[-1]
            spans[-1] = (name, value_start, line_end)
        elif first in (b"\r", b"\n") and not data[position:line_end].strip(b"\r\n"):
            body_start = line_end
            break
        else:
            match = _FIELD_NAME.match(data, position, line_end)
            if match is None:
                if not (position == start and data.startswith(b"From ", position)):  # an mbox separator
                    body_start = position
                    break
            else:
                name = match.group().rstrip(b": \t").decode("ascii").lower()
                spans.append((name, match.end(), line_end))
        position = line_end
    return [(name, data[begin:stop].rstrip(b"\r\n")) for name, begin, stop in spans], body_start


# --- parameters (RFC 2045, RFC 2231) ----------------------------------------------------------------

_SECTION = re.compile(r"^(.+?)\*(\d+)(\*?)$")
# name=value, the value quoted or running to the next ";" or space, then what follows up to the
# next ";"; anything else up to the next ";". One alternative always matches up to the next ";"
# or the end, so the scan never starts again inside text it has read (a pattern that could fail
# there took quadratic time): linear.
_PARAM = re.compile(r'\s*([^=;\s]+)\s*=\s*("(?:\\.|[^"\\])*"?|[^;\s]*)([^;]*)(?:;|$)|[^;]*(?:;|$)')
#: Parameters whose unquoted value may hold spaces (``name=This is a test.txt``, as some mailers
#: write it): it runs to the next ";" where no other ``name=`` follows in it.
_SPACED = frozenset({"name", "filename"})


def _param_items(value: str, position: int) -> list[tuple[str, str]]:
    """(name in lower case, value) of each ``name=value`` from ``position``, a quoted value unquoted."""
    items: list[tuple[str, str]] = []
    for match in _PARAM.finditer(value, position):
        name, text, rest = match.group(1), match.group(2), match.group(3)
        if name is None or text is None:
            continue
        if text.startswith('"'):
            text = _unquote(text[1:-1] if text.endswith('"') and len(text) > 1 else text[1:])
        elif rest and name.lower() in _SPACED and "=" not in rest:
            text = (text + rest).strip()
        items.append((name.lower(), text))
    return items


def parse_params(value: str | None) -> dict[str, str]:
    """The parameters after the first ``;`` of a field, names in lower case.

    An unquoted value runs to the next ``;`` or space, as NeoMutt reads it (a file name, to the
    next ``;``: see :data:`_SPACED`); RFC 2231 sections
    and charsets are joined and decoded.
    """
    if not value or ";" not in value:
        return {}
    plain: dict[str, str] = {}
    sections: dict[str, dict[int, tuple[str, bool]]] = {}
    for name, raw in _param_items(value, value.index(";") + 1):
        numbered = _SECTION.match(name)
        if numbered:
            sections.setdefault(numbered.group(1), {})[int(numbered.group(2))] = (raw, bool(numbered.group(3)))
        elif name.endswith("*"):
            plain.setdefault(name[:-1], _rfc2231(raw, True))
        else:
            plain.setdefault(name, raw)
    for name, parts in sections.items():
        if name in plain:
            continue
        joined = b"".join(_section_bytes(text, encoded) for _, (text, encoded) in sorted(parts.items()))
        first_text, first_encoded = parts.get(min(parts), ("", False))
        charset = first_text.split("'", 1)[0] if first_encoded and first_text.count("'") >= 2 else None
        plain[name] = decode_bytes(joined, charset)
    return plain


def _unquote(text: str) -> str:
    """A quoted string's text: only ``\\"`` and ``\\\\`` are escapes (Windows paths keep their
    backslashes, as the email package reads them)."""
    return text.replace("\\\\", "\\").replace('\\"', '"')


def _rfc2231(text: str, encoded: bool) -> str:
    if encoded and text.count("'") >= 2:
        charset, _, rest = text.split("'", 2)
        return decode_bytes(urllib.parse.unquote_to_bytes(rest), charset or None)
    return text


def _section_bytes(text: str, encoded: bool) -> bytes:
    if not encoded:
        return text.encode("utf-8", "surrogateescape")
    if text.count("'") >= 2:  # the first section carries charset'language'
        text = text.split("'", 2)[2]
    return urllib.parse.unquote_to_bytes(text)


def _content_type(value: str | None) -> tuple[str, dict[str, str]]:
    """The lower-case type/subtype and the parameters; None when the field names no type."""
    if value is None:
        return "", {}
    kind = value.split(";", 1)[0].strip().lower()
    kind = kind.split(None, 1)[0] if kind else kind  # "text/html Content-Transfer-Encoding: 8bit": a line lost
    if "/" not in kind or kind.startswith("/") or kind.endswith("/") or " " in kind:
        return "", parse_params(value)
    return kind, parse_params(value)


# --- transfer encodings -----------------------------------------------------------------------------


def _not_base64(body: bytes) -> bool:
    """Whether a body labelled base64 is plainly not: most of its lines hold blanks between
    other characters (words), which no base64 encoder writes (a sender's mislabelled text)."""
    if b" " not in body and b"\t" not in body:
        return False
    lines = [line.strip() for line in body.splitlines()]
    lines = [line for line in lines if line]
    return sum(1 for line in lines if b" " in line or b"\t" in line) * 2 > len(lines)


def decode_transfer(body: bytes, encoding: str) -> bytes:
    """Undo a Content-Transfer-Encoding; unknown encodings and damaged data are kept as they are,
    and so is a body labelled base64 that is words (see :func:`_not_base64`)."""
    if encoding == "base64" and not _not_base64(body):
        try:
            return binascii.a2b_base64(body)  # skips what is not base64, stops at the padding
        except binascii.Error:  # padding missing or cut short: decode what is there
            data = _B64_JUNK.sub(b"", body.split(b"=", 1)[0])
            if len(data) % 4 == 1:
                data = data[:-1]  # a lone sextet is no byte
            return binascii.a2b_base64(data + b"=" * (-len(data) % 4))
    if encoding == "quoted-printable":
        return binascii.a2b_qp(body)
    if encoding in ("x-uuencode", "uuencode", "x-uue"):
        message = email.message_from_bytes(
            b"Content-Transfer-Encoding: x-uuencode\r\n\r\n" + body, policy=email.policy.compat32
        )
        decoded = message.get_payload(decode=True)
        return decoded if isinstance(decoded, bytes) else body
    return body


# --- the tree ---------------------------------------------------------------------------------------


class _Reader:
    def __init__(self, source: bytes, limits: Limits, deadline: Deadline) -> None:
        self.source = source
        self.limits = limits
        self.parts: list[MimePart] = []
        self.limits_hit: list[str] = []
        self.deadline = deadline
        self.stopped = False

    def hit(self, notice: str) -> None:
        if notice not in self.limits_hit:
            self.limits_hit.append(notice)

    def may_go_on(self) -> bool:
        if self.stopped:
            return False
        if len(self.parts) >= self.limits.max_parts:
            self.hit(f"This message has more than {self.limits.max_parts:,} parts: the rest are not listed.")
            self.stopped = True
        elif self.deadline.passed():
            self.hit(self.deadline.notice())
            self.stopped = True
        return not self.stopped

    def part(self, start: int, end: int, depth: int, section: str, default_type: str) -> MimePart:
        fields, body_start = _read_fields(self.source, start, end)
        part = MimePart(self.source, start, body_start, end, fields, index=len(self.parts), section=section,
                        depth=depth)
        part.content_type, part.params = self._choose_type(part, default_type)
        self.parts.append(part)
        if part.maintype != "multipart":
            return part
        boundary = part.params.get("boundary", "")
        if depth >= self.limits.max_depth:
            self.hit(f"Parts nested deeper than {self.limits.max_depth} levels are not read.")
            return part
        spans = _split(self.source, boundary.encode("utf-8", "surrogateescape"), body_start, end) if boundary else []
        child_type = "message/rfc822" if part.subtype == "digest" else "text/plain"
        for number, (child_start, child_end) in enumerate(spans, 1):
            if not self.may_go_on():
                break
            child_section = f"{section}.{number}" if section else str(number)
            part.children.append(self.part(child_start, child_end, depth + 1, child_section, child_type))
        return part

    def _choose_type(self, part: MimePart, default_type: str) -> tuple[str, dict[str, str]]:
        """The Content-Type that makes sense of the body: of several, a multipart one whose
        boundary occurs in the body, else the first that names a type."""
        candidates = [_content_type(header_value(v)) for k, v in part.fields if k == "content-type"]
        candidates = [(kind, params) for kind, params in candidates if kind]
        if len(candidates) > 1:
            for kind, params in candidates:
                boundary = params.get("boundary", "")
                if kind.startswith("multipart/") and boundary:
                    delimiter = b"--" + boundary.encode("utf-8", "surrogateescape")
                    if self.source.find(delimiter, part.body_start, part.end) >= 0:
                        return kind, params
        if candidates:
            return candidates[0]
        return default_type, {}


def _split(source: bytes, boundary: bytes, start: int, end: int) -> list[tuple[int, int]]:
    """The byte spans of a multipart's parts: between delimiter lines, without the line break
    that belongs to the delimiter. A missing close delimiter ends the last part at ``end``."""
    delimiter = b"--" + boundary
    spans: list[tuple[int, int]] = []
    part_start = -1
    position = start
    while True:
        found = source.find(delimiter, position, end)
        if found < 0:
            break
        position = found + len(delimiter)
        if found > start and source[found - 1 : found] != b"\n":
            continue
        newline = source.find(b"\n", position, end)
        line_end = end if newline < 0 else newline + 1
        rest = source[position:line_end]
        closing = rest.startswith(b"--")
        if rest[2 if closing else 0 :].strip() and not (closing and rest[2:3] in (b" ", b"\t")):
            continue  # a longer boundary that starts with this one, or text after it (but a
            # close delimiter, then blanks and text: the epilogue begun on its line, RFC 2046 5.1.1)
        if part_start >= 0:
            part_end = found - 1 if found > start else found
            if part_end > part_start and source[part_end - 1 : part_end] == b"\r":
                part_end -= 1
            spans.append((part_start, max(part_start, part_end)))
        if closing:
            return spans
        part_start = line_end
        position = line_end
    if part_start >= 0:
        spans.append((part_start, end))
    return spans


def read_structure(
    source: bytes, limits: Limits = DEFAULT_LIMITS, start: int = 0, end: int | None = None, deadline: Deadline | None = None
) -> Structure:
    """The MIME structure of the message in ``source[start:end]``, read until ``deadline`` (by
    default the time one message may take, from now). Never raises on any input."""
    if b"\n" not in source and b"\r" in source:  # classic Mac OS line ends (see the module's text)
        source = source.replace(b"\r", b"\n")
    reader = _Reader(source, limits, deadline or Deadline())
    root = reader.part(start, len(source) if end is None else end, 0, "", "text/plain")
    return Structure(root, reader.parts, reader.limits_hit)


def read_part(source: bytes, start: int, end: int) -> MimePart:
    """The one part that lies in ``source[start:end]`` (found by ``MimePart.start`` and ``end``),
    read alone: its fields and body, without its sub-parts."""
    return read_structure(source, Limits(max_depth=0, max_parts=1), start, end).root
