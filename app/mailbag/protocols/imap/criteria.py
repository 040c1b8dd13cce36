"""Search queries (see :mod:`mailbag.domain.search`) as IMAP SEARCH criteria (RFC 3501 6.4.4)."""

from __future__ import annotations

import unicodedata
from datetime import date

from mailbag.domain.search import DateTerm, Flag, FlagTerm, Query, Term, TextField, TextTerm

_MONTHS = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)


def imap_date(day: date) -> str:
    """A date in IMAP's ``date`` syntax (RFC 3501), e.g. ``1-Feb-2024``."""
    return f"{day.day}-{_MONTHS[day.month - 1]}-{day.year}"


def imap_string(value: str) -> str:
    """A SEARCH string argument as an IMAP quoted string (``"`` and ``\\`` escaped).

    Text that is not ASCII stays in the quotes as it is: the IMAP client sends every such string as a
    literal in UTF-8 and adds ``CHARSET UTF-8`` (see ``mailbag.protocols.imap.wire.criteria_parts``).
    Control characters, which no quoted string or search may hold, become spaces.
    """
    value = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text_criterion(term: TextTerm) -> str:
    arg = imap_string(term.text)
    if term.field is TextField.FROM:
        return f"FROM {arg}"
    if term.field is TextField.TO:
        return f"OR TO {arg} CC {arg}"
    if term.field is TextField.SUBJECT:
        return f"SUBJECT {arg}"
    if term.field is TextField.BODY:
        return f"BODY {arg}"
    return f"TEXT {arg}"


_FLAG_CRITERIA = {
    Flag.UNREAD: "UNSEEN",
    Flag.READ: "SEEN",
    Flag.FLAGGED: "FLAGGED",
    # IMAP has no attachment key: a multipart/mixed message is the usual sign of one.
    Flag.ATTACHMENT: 'HEADER Content-Type "multipart/mixed"',
}


def _criterion(term: Term) -> str | None:
    if isinstance(term, TextTerm):
        key = _text_criterion(term)
    elif isinstance(term, FlagTerm):
        key = _FLAG_CRITERIA[term.flag]
    elif isinstance(term, DateTerm):
        # SENT*: the Date header, as the local search uses it (not the arrival date).
        key = f"{'SENTBEFORE' if term.before else 'SENTSINCE'} {imap_date(term.day)}"
    else:
        return None  # folder: chooses the mailbox to search; it is not a SEARCH key
    return f"NOT {key}" if term.negated else key


def to_imap_search(query: Query) -> str:
    """The query as IMAP SEARCH criteria (the part after ``UID SEARCH``), every string quoted.

    ``folder:`` terms are left out: the caller searches those folders. A query with no other term
    gives ``ALL``. Non-ASCII text is left for the IMAP client to send as literals (see
    :func:`imap_string`).
    """
    keys = [k for k in (_criterion(t) for t in query.terms) if k is not None]
    return " ".join(keys) if keys else "ALL"
