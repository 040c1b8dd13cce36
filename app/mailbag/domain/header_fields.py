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

import re

#: A line the email package takes as part of the header (RFC 5322 field names, with no space).
_HEADER_LINE = re.compile(r"From |[\041-\071\073-\176]*[\t ]*:|[\t ]")
#: A field named From with blanks before its colon: not an mbox separator.
_OBSOLETE_FROM = re.compile(r"From[\t ]*:")
#: A block of nothing but ``name: value`` lines (the usual one), and one such line.
_PLAIN_BLOCK = re.compile(r"(?:[\041-\071\073-\176]+:[^\r\n]*(?:\r?\n|\Z))*")
_PLAIN_FIELD = re.compile(r"^([\041-\071\073-\176]+):[ \t]*([^\r\n]*)", re.MULTILINE)


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
