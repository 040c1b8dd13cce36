"""The fast lane of the summary fetch: usual answers read straight from the received bytes give
exactly what framing and parsing them one by one gives, wherever the bytes are cut."""

from __future__ import annotations

import random

from mailbag.protocols.imap.framing import ResponseFramer
from mailbag.protocols.imap.summary_scan import scan_summaries, summary_from_segments


def answer(uid: int, subject: bytes = b"Quarterly report", refs: bytes = b"") -> bytes:
    """One response as Dovecot sends it for the summary fetch, with its CRLFs."""
    literal = (b"References: " + refs + b"\r\n\r\n") if refs else b"\r\n"
    return (
        b'* %d FETCH (UID %d FLAGS (\\Seen) INTERNALDATE "02-Mar-2024 08:00:00 +0100" RFC822.SIZE 2048 '
        b'ENVELOPE ("Sat, 2 Mar 2024 07:59:00 +0100" "%s" (("Ann" NIL "ann" "example.org")) '
        b'(("Ann" NIL "ann" "example.org")) (("Ann" NIL "ann" "example.org")) '
        b'(("Bob" NIL "bob" "example.org")) NIL NIL NIL "<m%d@example.org>") '
        b'BODYSTRUCTURE ("text" "plain" ("charset" "utf-8") NIL NIL "8bit" 1200 30 NIL NIL NIL NIL) '
        b"BODY[HEADER.FIELDS (REFERENCES)] {%d}\r\n" % (uid, uid, subject, uid, len(literal))
        + literal + b")\r\n"
    )


def stream() -> bytes:
    """Usual answers with others between them: a push, a differently shaped FETCH, a tagged end."""
    parts = [answer(uid, refs=b"<a@x> <b@x>" if uid % 3 == 0 else b"") for uid in range(1, 40)]
    parts.insert(5, b"* 41 EXISTS\r\n")
    parts.insert(9, b"* 9 FETCH (FLAGS (\\Flagged) UID 9)\r\n")
    parts.insert(20, b"* 20 FETCH (UID 20 ENVELOPE (NIL {4}\r\nSubj NIL NIL NIL NIL NIL NIL NIL NIL))\r\n")
    return b"".join(parts) + b"A12 OK done\r\n"


def framed(data: bytes, cuts: list[int], fast: bool) -> tuple[list[object], list[bytes]]:
    """Feed ``data`` cut at ``cuts``: (summaries read, first lines of the other responses)."""
    summaries: list[object] = []
    others: list[bytes] = []

    def on_response(segments: list[bytes]) -> None:
        summary = summary_from_segments(segments)
        if summary is not None:
            summaries.append(summary)
        else:
            others.append(segments[0])

    framer = ResponseFramer(on_response)
    if fast:
        framer.fast_lane = lambda chunk, pos: scan_summaries(chunk, pos, summaries.append)
    edges = [0, *sorted(cuts), len(data)]
    for start, end in zip(edges, edges[1:]):
        framer.feed(data[start:end])
    assert framer.pending == 0
    return summaries, others


def test_the_fast_lane_reads_what_framing_reads_wherever_the_bytes_are_cut() -> None:
    data = stream()
    expected = framed(data, [], fast=False)
    # 39 usual answers and the one with a literal subject; the push, the flags-only FETCH, the tag
    assert len(expected[0]) == 40 and len(expected[1]) == 3
    rng = random.Random(7)
    for _ in range(60):
        cuts = rng.sample(range(1, len(data)), rng.randint(1, 25))
        assert framed(data, cuts, fast=True) == expected


def test_a_line_break_inside_a_quoted_string_is_left_to_the_framer() -> None:
    odd = answer(1, subject=b"Broken\r\nsubject")
    data = odd + answer(2)
    taken: list[object] = []
    assert scan_summaries(data, 0, taken.append) == 0  # the framer sees two lines there
    assert taken == []
    assert framed(data, [], fast=True) == framed(data, [], fast=False)


def test_a_literal_that_is_not_the_size_it_announced_is_left_to_the_framer() -> None:
    bad = answer(1).replace(b"{2}\r\n\r\n)", b"{3}\r\n\r\n)")
    taken: list[object] = []
    assert scan_summaries(bad + answer(2), 0, taken.append) == 0
    assert taken == []


def test_reading_stops_at_an_incomplete_answer_and_resumes_with_more_bytes() -> None:
    data = answer(1) + answer(2)
    taken: list[object] = []
    stop = scan_summaries(data[:-5], 0, taken.append)
    assert stop == len(answer(1)) and len(taken) == 1
    assert scan_summaries(data, stop, taken.append) == len(data) and len(taken) == 2
