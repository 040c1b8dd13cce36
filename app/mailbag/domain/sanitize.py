"""Make untrusted text (from messages and servers) safe to put on a terminal.

Removes ANSI/VT escape sequences, C0 and C1 control characters (keeping tab and newline where
asked), DEL, and Unicode bidi overrides/isolates that could reorder what the user reads.
"""

from __future__ import annotations

import re
import unicodedata

# ESC-introduced sequences: CSI, OSC/DCS/SOS/PM/APC strings (to ST or BEL), and two-char escapes.
# A string sequence must be terminated within a bounded length and before any other escape or
# C1 character; an unterminated introducer is dropped on its own, so it cannot hide the rest of
# the text, and scanning stays linear.
_ESCAPE_SEQ = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]                                  # CSI ... final byte
    | \x1b[\]PX^_][^\x07\x1b\x90-\x9f]{0,4096}(?:\x07|\x1b\\|\x9c)  # OSC, DCS, SOS, PM, APC ... BEL or ST
    | \x1b[ -/]*[0-~]                                        # other escapes (charset selection, RIS, ...)
    | \x9b[0-?]*[ -/]*[@-~]                                  # 8-bit CSI
    | [\x90\x9d\x98\x9e\x9f][^\x07\x1b\x90-\x9f]{0,4096}(?:\x07|\x9c|\x1b\\)  # 8-bit string introducers
    """,
    re.VERBOSE,
)
# C0 except TAB and LF, DEL, C1, and bidi controls (LRE RLE PDF LRO RLO, LRI RLI FSI PDI, LRM RLM ALM).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_LINE_BREAKS = re.compile("[\t\r\n\u2028\u2029]+")
_CONTROL_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def clean_text(text: str) -> str:
    """Multi-line text: keep newlines and tabs, drop every other control character and escape."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    text = _ESCAPE_SEQ.sub("", text)
    return _CONTROL.sub("", text)


def clean_line(text: str) -> str:
    """Single-line text (a subject, a name, a folder): whitespace controls become one space."""
    if not text:
        return ""
    if text.isascii() and text.isprintable():  # most text: nothing to take out (and much faster)
        return text.strip()
    text = _ESCAPE_SEQ.sub("", text)
    text = _LINE_BREAKS.sub(" ", text)
    return _CONTROL_ONE_LINE.sub("", text).strip()


def visible_format_characters(text: str) -> str:
    """``text`` with each invisible format character (zero-width space, joiners, soft hyphen,
    word joiner, BOM...) written as ``<U+200D>``: in an address, where it would make two
    different addresses look the same (``a\u200db@example.com`` as ``ab@example.com``)."""
    if text.isascii():
        return text
    return "".join(f"<U+{ord(c):04X}>" if unicodedata.category(c) == "Cf" else c for c in text)
