"""Pure formatting of message-list cells: flags, dates, fixed-width cells."""

from __future__ import annotations

from datetime import datetime

from rich.cells import cell_len, set_cell_size

from mailbag.domain.models import ANSWERED, FLAGGED, SEEN, MessageRow
from mailbag.domain.sanitize import clean_line, visible_format_characters


def flag_column(row: MessageRow) -> str:
    """Four one-cell markers: N unread, ! flagged, @ attachment, r answered (space when absent)."""
    flags = row.flags
    return (
        ("N" if SEEN not in flags else " ")
        + ("!" if FLAGGED in flags else " ")
        + ("@" if row.has_attachment else " ")
        + ("r" if ANSWERED in flags else " ")
    )


def correspondent(row: MessageRow, *, to_shown: bool, own: frozenset[str]) -> str:
    """Who a row is with, as mutt's ``%F``: its sender, or ``To: bob, carol`` (each recipient's
    name, else address) in a folder of the user's own mail (``to_shown``: Sent, Drafts) and
    for a message from one of the user's own addresses (``own``, lower case)."""
    if to_shown or (own and row.sender_email.lower() in own):
        names = ", ".join(address.display() for address in row.recipients)
        return "To: " + (names or "(no recipient)")
    return row.sender or visible_format_characters(row.sender_email)


def short_date(when: datetime | None, now: datetime) -> str:
    """Today: ``HH:MM``; this year: ``Mon DD``; else ``YYYY-MM-DD`` (in ``now``'s time zone)."""
    if when is None:
        return ""
    if now.tzinfo is not None and when.tzinfo is not None:
        when = when.astimezone(now.tzinfo)
    if when.date() == now.date():
        return when.strftime("%H:%M")
    if when.year == now.year:
        return when.strftime("%b %d")
    return when.strftime("%Y-%m-%d")


def fit(text: str, width: int) -> str:
    """Untrusted one-line text cleaned and cut or padded to exactly ``width`` cells."""
    if width <= 0:
        return ""
    text = clean_line(text)
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)


def thread_prefix(*, collapsed: bool = False, has_replies: bool = False) -> str:
    """The marker before a thread's first message in thread view: ``▸`` collapsed, ``▾`` with
    its replies shown, nothing for a message alone (replies get ``ThreadLayout.branches``)."""
    if collapsed:
        return "▸ "
    return "▾ " if has_replies else ""


def thread_summary(size: int, unread: int, flagged: int) -> str:
    """What a collapsed thread holds, in the flag column's letters so that it fits a narrow list:
    ``[4]``, ``[4 · 1N]`` (one unread), ``[4 · 2N 1!]`` (two unread, one flagged)."""
    marks = (f"{unread}N" if unread else "", f"{flagged}!" if flagged else "")
    counts = " ".join(mark for mark in marks if mark)
    return f"[{size} · {counts}]" if counts else f"[{size}]"


