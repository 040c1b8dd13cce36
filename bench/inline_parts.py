"""``python -m bench.inline_parts``: rendering the parts the reader shows inline, at their largest.

A whole calendar exported (10,000 events, of which the reader summarises 20), a digest of 3,000
messages, a bounce for 1,000 recipients and a message forwarded 3,000 times (5 levels shown),
next to a plain invitation; the median of ``--runs`` renders of each, in process.
"""

from __future__ import annotations

import argparse
import statistics
import time

from mailbag.domain.mime import render_message
from tests.unit.test_parts_inline import BOUNCE, ICS, invitation, msg


def big_calendar() -> bytes:
    events = "".join(
        f"BEGIN:VEVENT\nUID:{n}\nSUMMARY:Event {n}\nDTSTART:20260101T100000Z\nEND:VEVENT\n" for n in range(10_000)
    )
    return invitation(ics=f"BEGIN:VCALENDAR\nVERSION:2.0\n{events}END:VCALENDAR\n")


def big_digest() -> bytes:
    posts = "".join(f"--D\n\nFrom: p{n}@example.org\nSubject: post {n}\n\nbody {n}\n" for n in range(3_000))
    return msg(f"Subject: digest\nContent-Type: multipart/digest; boundary=D\n\n{posts}--D--\n")


def big_bounce() -> bytes:
    block = b"Final-Recipient: rfc822; r%d@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
    recipients = b"".join(block % n for n in range(1_000))
    return BOUNCE.replace(b"Final-Recipient: rfc822; bob@example.net", recipients + b"Final-Recipient: rfc822; bob@example.net")


def deep_forward() -> bytes:
    raw = "From: origin@example.org\nSubject: level 0\n\nThe original words."
    for level in range(1, 3_001):
        raw = f"From: hop{level}@example.org\nSubject: level {level}\nContent-Type: message/rfc822\n\n{raw}"
    return msg(raw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    cases = {
        "an invitation": invitation(ics=ICS.format(method="REQUEST", status="CONFIRMED")),
        "a calendar of 10,000 events": big_calendar(),
        "a digest of 3,000 messages": big_digest(),
        "a bounce for 1,000 recipients": big_bounce(),
        "a message forwarded 3,000 times": deep_forward(),
    }
    print("| message | size | render, median |")
    print("|---|---|---|")
    for name, raw in cases.items():
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            render_message(raw)
            samples.append(1000 * (time.perf_counter() - started))
        print(f"| {name} | {len(raw):,} B | {statistics.median(samples):.1f} ms |")


if __name__ == "__main__":
    main()
