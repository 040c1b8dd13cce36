"""The fields of an unfolded header block, read in one pass as the email package reads them.

A summary needs a few fields of each message; the email package's ``HeaderParser`` builds a
``Message`` of every field first, which costs more than the rest of the summary. This reads
the same first value of each field as ``HeaderParser(policy=compat32)`` followed by ``get()``
gives, for a block whose lines end at LF or CRLF; for anything stranger (a lone CR) it gives
None and the caller asks the email package. Unlike the email package, and as the reader's MIME
reader (``mime_structure``) does, it takes a field whose name is followed by blanks before its
colon (``Subject  : ...``, RFC 5322's obsolete syntax), so that the list and the reader agree.
"""

from __future__ import annotations

import email.parser
import email.policy
import re

#: A line the email package takes as part of the header (RFC 5322 field names, with no space).
_HEADER_LINE = re.compile(r"From |[\041-\071\073-\176]*[\t ]*:|[\t ]")
#: A field named From with blanks before its colon: not an mbox separator.
_OBSOLETE_FROM = re.compile(r"From[\t ]*:")
#: A block of nothing but ``name: value`` lines (the usual one), and one such line.
_PLAIN_BLOCK = re.compile(r"(?:[\041-\071\073-\176]+:[^\r\n]*(?:\r?\n|\Z))*")
_PLAIN_FIELD = re.compile(r"^([\041-\071\073-\176]+):[ \t]*([^\r\n]*)", re.MULTILINE)
_FOLD = re.compile(r"\r?\n(?=[ \t])")


def block_fields(block: bytes) -> dict[str, str]:
    """The first value of each field of a message's header block, unfolded, keyed by the field's
    name in lower case. Raw 8-bit fields (RFC 6532) are read as UTF-8, older mail's as Latin-1,
    where the email package's BytesHeaderParser would make them "unknown-8bit" Header objects."""
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        text = block.decode("latin-1")
    # Unfold (RFC 5322 2.2.3: drop the line break, keep the white space) before parsing.
    text = _FOLD.sub("", text)
    fields = first_fields(text)
    if fields is None:  # a block the email package has to read
        parsed = email.parser.HeaderParser(policy=email.policy.compat32).parsestr(text)
        fields = {name.lower(): value for name, value in reversed(parsed.items()) if isinstance(value, str)}
    return fields


def first_fields(text: str) -> dict[str, str] | None:
    """The first value of each field in ``text`` (unfolded: one line per field), keyed by the
    field's name in lower case; None when the block holds a lone CR or a continuation line."""
    if _PLAIN_BLOCK.fullmatch(text):  # one regular expression reads it all
        return {name.lower(): value for name, value in reversed(_PLAIN_FIELD.findall(text))}
    if "\r" in text and "\r" in text.replace("\r\n", ""):
        return None
    lines = text.split("\n")
    if lines and not lines[-1]:
        lines.pop()
    header: list[str] = []
    for line in lines:
        line = line.removesuffix("\r")
        if not _HEADER_LINE.match(line):
            break  # a blank line, or the first line of a body without a blank line before it
        header.append(line)
    fields: dict[str, str] = {}
    for number, line in enumerate(header):
        if line.startswith("From ") and not _OBSOLETE_FROM.match(line):
            if number and number == len(header) - 1:
                break  # taken as the body's first line
            continue  # an mbox separator
        if line[:1] in (" ", "\t"):
            if fields:
                return None
            continue  # a continuation with no field before it is dropped
        name, _, value = line.partition(":")
        name = name.rstrip(" \t")
        if name:
            fields.setdefault(name.lower(), value.lstrip(" \t"))
    return fields


def content_type(fields: dict[str, str]) -> str:
    """The Content-Type's ``type/subtype`` in lower case; ``text/plain`` when none or malformed."""
    value = fields.get("content-type")
    if value is None:
        return "text/plain"
    kind = value.partition(";")[0].strip().lower()
    return kind if kind.count("/") == 1 else "text/plain"
