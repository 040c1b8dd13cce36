"""IMAP sequence sets (RFC 3501 ``sequence-set``) from lists of UIDs."""

from __future__ import annotations

from collections.abc import Iterable


def uid_set(uids: Iterable[int]) -> str:
    """Compress UIDs into ranges: [1, 2, 3, 7, 9, 10] -> "1:3,7,9:10"."""
    ordered = sorted(set(uids))
    if not ordered:
        raise ValueError("an IMAP sequence set needs at least one UID")
    parts: list[str] = []
    start = prev = ordered[0]
    for uid in ordered[1:]:
        if uid == prev + 1:
            prev = uid
            continue
        parts.append(f"{start}:{prev}" if prev != start else str(start))
        start = prev = uid
    parts.append(f"{start}:{prev}" if prev != start else str(start))
    return ",".join(parts)
