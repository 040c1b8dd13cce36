"""The search language typed after ``/`` (its IMAP SEARCH form: ``mailbag.protocols.imap.criteria``).

Terms are joined by AND. A term is a free word or ``"quoted phrase"`` (searched in subject, addresses and
body), or ``field:value`` with ``from: to: subject: body:`` (text), ``is:unread|read|flagged``,
``has:attachment``, ``before:YYYY-MM-DD``, ``after:YYYY-MM-DD`` (on or after that day), ``folder:NAME``.
A leading ``-`` negates a term. :func:`parse_query` never raises: a term it cannot use is left out and
described in :attr:`Query.error`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class TextField(StrEnum):
    """Where a text term is looked for."""

    ANY = "any"  # subject, sender, recipients and body
    FROM = "from"
    TO = "to"  # To and Cc
    SUBJECT = "subject"
    BODY = "body"


class Flag(StrEnum):
    """A state a message is in (``is:`` / ``has:``)."""

    UNREAD = "unread"
    READ = "read"
    FLAGGED = "flagged"
    ATTACHMENT = "attachment"


@dataclass(frozen=True, slots=True)
class TextTerm:
    """Text to find. ``phrase``: the words in this order (quoted), else each word as a prefix."""

    field: TextField
    text: str
    phrase: bool = False
    negated: bool = False


@dataclass(frozen=True, slots=True)
class FlagTerm:
    flag: Flag
    negated: bool = False


@dataclass(frozen=True, slots=True)
class DateTerm:
    """``before``: dated strictly before ``day``; otherwise on ``day`` or after it."""

    day: date
    before: bool
    negated: bool = False


@dataclass(frozen=True, slots=True)
class FolderTerm:
    name: str
    negated: bool = False


Term = TextTerm | FlagTerm | DateTerm | FolderTerm


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed search: every term must hold. ``error`` is empty when every term was understood."""

    terms: tuple[Term, ...] = ()
    error: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.terms

    def text_terms(self) -> tuple[TextTerm, ...]:
        return tuple(t for t in self.terms if isinstance(t, TextTerm))

    def folders(self) -> tuple[str, ...]:
        """The folders named by ``folder:`` (not negated): where to search instead of the current one."""
        return tuple(
            t.name for t in self.terms if isinstance(t, FolderTerm) and not t.negated
        )


_TEXT_FIELDS = {
    "from": TextField.FROM,
    "to": TextField.TO,
    "subject": TextField.SUBJECT,
    "body": TextField.BODY,
}
_IS_VALUES = {
    "unread": Flag.UNREAD,
    "read": Flag.READ,
    "seen": Flag.READ,
    "flagged": Flag.FLAGGED,
    "starred": Flag.FLAGGED,
}
_HAS_VALUES = {"attachment": Flag.ATTACHMENT, "attachments": Flag.ATTACHMENT}
_KNOWN_FIELDS = {*_TEXT_FIELDS, "is", "has", "before", "after", "folder", "in"}


def _clean(text: str) -> str:
    """Control and format characters become spaces (they cannot be searched for or sent)."""
    return "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)


def _tokens(text: str) -> list[tuple[str, str, bool]]:
    """Split into (prefix, value, quoted) tokens. ``prefix`` is ``-``, ``field:``, both or empty.

    An unterminated quote runs to the end of the text.
    """
    tokens: list[tuple[str, str, bool]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start = i
        prefix_end = i
        # A prefix: optional "-", then an optional "field:" that must be followed by something.
        if text[i] == "-" and i + 1 < n and not text[i + 1].isspace():
            prefix_end = i + 1
        j = prefix_end
        while j < n and (text[j].isalpha()):
            j += 1
        if (
            j < n
            and text[j] == ":"
            and j > prefix_end
            and text[prefix_end:j].lower() in _KNOWN_FIELDS
        ):
            prefix_end = j + 1
        prefix = text[start:prefix_end]
        i = prefix_end
        if i < n and text[i] == '"':
            close = text.find('"', i + 1)
            end = n if close < 0 else close
            tokens.append((prefix, text[i + 1 : end], True))
            i = n if close < 0 else close + 1
            continue
        end = i
        while end < n and not text[end].isspace():
            end += 1
        tokens.append((prefix, text[i:end], False))
        i = end
    return tokens


def parse_query(text: str) -> Query:
    """Parse what the user typed; never raises. Unusable terms are dropped and named in ``error``."""
    terms: list[Term] = []
    errors: list[str] = []
    for prefix, value, quoted in _tokens(_clean(text)):
        negated = prefix.startswith("-")
        name = prefix.lstrip("-").rstrip(":").lower()
        value = value.strip()
        shown = prefix + (f'"{value}"' if quoted else value)
        if not name:
            if value:
                terms.append(TextTerm(TextField.ANY, value, quoted, negated))
            continue
        if not value:
            errors.append(f"{name}: needs a value")
            continue
        if name in _TEXT_FIELDS:
            terms.append(TextTerm(_TEXT_FIELDS[name], value, quoted, negated))
        elif name == "is" and value.lower() in _IS_VALUES:
            terms.append(FlagTerm(_IS_VALUES[value.lower()], negated))
        elif name == "has" and value.lower() in _HAS_VALUES:
            terms.append(FlagTerm(_HAS_VALUES[value.lower()], negated))
        elif name in ("is", "has"):
            choices = "unread, read, flagged" if name == "is" else "attachment"
            errors.append(f"{shown}: {name}: takes {choices}")
        elif name in ("before", "after"):
            try:
                day = date.fromisoformat(value)
            except ValueError:
                errors.append(f"{shown}: {name}: takes a date like 2024-05-31")
                continue
            terms.append(DateTerm(day, name == "before", negated))
        else:  # folder: / in:
            terms.append(FolderTerm(value, negated))
    return Query(tuple(terms), "; ".join(errors))
