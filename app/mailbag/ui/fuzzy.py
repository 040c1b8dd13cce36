"""Fuzzy subsequence matching with ranking, for the folder picker."""

from __future__ import annotations

from collections.abc import Iterable


def fuzzy_score(query: str, candidate: str) -> int | None:
    """Score ``candidate`` for ``query`` (higher is better), or None when it does not match.

    Every character of the query must appear in order (case-insensitive). Consecutive runs, a
    match at the start of the name or of a path segment / word, and short names score higher.
    """
    if not query:
        return 0
    needle, haystack = query.lower(), candidate.lower()
    score = 0
    position = 0
    previous = -2
    for char in needle:
        found = haystack.find(char, position)
        if found < 0:
            return None
        if found == previous + 1:
            score += 5
        if found == 0 or haystack[found - 1] in "/._- ":
            score += 8
        score -= min(found - position, 5)
        previous = found
        position = found + 1
    if needle in haystack:
        score += 10
    return score - len(haystack) // 4


def fuzzy_filter(query: str, candidates: Iterable[str]) -> list[str]:
    """The candidates matching ``query``, best first (ties keep their original order)."""
    scored = []
    for order, candidate in enumerate(candidates):
        score = fuzzy_score(query, candidate)
        if score is not None:
            scored.append((-score, order, candidate))
    scored.sort()
    return [candidate for _, _, candidate in scored]
