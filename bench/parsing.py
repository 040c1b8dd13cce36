"""``python -m bench.parsing``: in-process timings of parsing, rendering and threading on large and
hostile input (the inputs of the unit tests), of opening a large message in the reader, and of every
message of the real-world corpus.

These were time limits inside unit tests, where a busy machine made them fail by chance; the tests
keep their behavioural checks and the timings live here. Nothing here needs a server.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import time
from collections.abc import Callable
from pathlib import Path

from bench.figures import Figure
from bench.html_text import one_big_table
from bench.reader_open import reader_times
from bench.report import table
from mailbag.domain.mime import extract_attachment, extract_part, render_message
from mailbag.domain.quotes import fold_quotes, layout_body
from mailbag.domain.sanitize import clean_text
from mailbag.domain.threading import build_threads, flatten
from mailbag.protocols.imap.summary_scan import summary_from_segments
from tests.unit.test_imap_parser import _fetch_response, _parse_all
from tests.messages import big_text, deep_nesting, hostile_headers, many_parts, single_line
from tests.unit.test_threading import _big_folder

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def seconds(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def message(headers: str, body: bytes) -> bytes:
    return headers.strip("\n").replace("\n", "\r\n").encode() + b"\r\n\r\n" + body


def two_big_attachments() -> bytes:
    encoded = base64.encodebytes(bytes(range(256)) * 4096 * 10).decode("ascii")  # 10 MiB each
    parts = "".join(
        f'--m\r\nContent-Type: application/octet-stream; name="blob{i}.bin"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{encoded}"
        for i in range(2)
    )
    return message('Subject: big\nContent-Type: multipart/mixed; boundary="m"', (parts + "--m--\r\n").encode())


def html_message(html: str) -> bytes:
    return message("Subject: report\nContent-Type: text/html; charset=utf-8", html.encode())


def median_corpus_message(corpus: Path) -> bytes | None:
    """The corpus message of median size."""
    files = sorted(corpus.rglob("*.eml"), key=lambda path: path.stat().st_size) if corpus.is_dir() else []
    return files[len(files) // 2].read_bytes() if files else None


def quoted_reply() -> str:
    """A reply over 10,000 quoted lines in three levels, with a signature."""
    quoted = "".join(f"{'>' * (1 + i % 3)} quoted line {i} of the thread so far\n" for i in range(10_000))
    return "My answer.\n\nOn Mon, 3 Mar 2026, Ann wrote:\n" + quoted + "\nThanks,\n-- \nBob\n"


def hostile_text() -> str:
    return ("\x1b]" + "x" * 50) * 20_000 + ("\x90" + "y" * 50) * 20_000


def hostile_fetch_lines() -> dict[str, bytes]:
    return {"a long nested list": b"* 1 FETCH (X (" + b'"a" (' * 9 + b'"b" ' * 200_000 + b")",
            "unclosed lists and strings": b"* 1 FETCH (X " + b'("' * 100_000,
            "many unknown items": b"* 1 FETCH (" + b"X 1 " * 100_000}


def render_with_attachments(raw: bytes) -> None:
    rendered = render_message(raw)
    for attachment in rendered.attachments:
        extract_attachment(raw, attachment.part_index)


def measure(runs: int, corpus: Path) -> list[Figure]:
    figures = []

    def figure(size: int, name: str, unit: str, samples: list[float], goal: str, digits: int = 1) -> None:
        figures.append(Figure(size, name, unit, samples, goal=goal, digits=digits))

    raw = big_text()
    render_message(raw)  # warm-up: imports, compiled patterns
    median_message = median_corpus_message(corpus)
    messages = {"the median corpus message": median_message} if median_message is not None else {}
    messages |= {"a 200 KB text body": raw, "a 5 MB body of one line": single_line(5),
                 "a 1 MB HTML table, a link per row": html_message(one_big_table()),
                 "a message of 10,000 parts": many_parts(10_000), "100 levels of nested parts": deep_nesting(100)}
    goals = {"a 5 MB body of one line": "< 1000 ms", "a message of 10,000 parts": "< 2000 ms",
             "a 1 MB HTML table, a link per row": "< 1000 ms"}
    for subject, whole in messages.items():
        figure(len(whole), f"render {subject}", "ms",
               [1000 * seconds(lambda: render_message(whole)) for _ in range(runs)], goals.get(subject, "< 100 ms"))
    for subject, whole in hostile_headers().items():
        figure(len(whole), f"render {subject}", "ms",
               [1000 * seconds(lambda: render_message(whole)) for _ in range(runs)], "< 1000 ms")
    scans = messages["a message of 10,000 parts"]
    last = render_message(scans).attachments[-1]
    figures.append(Figure(
        len(scans), "extract the last of 10,000 attachments by its span", "ms",
        [1000 * seconds(lambda: extract_part(scans, last)) for _ in range(runs)],
        reference="by its number (the structure read again)", goal="< 0.1x",
        reference_samples=[1000 * seconds(lambda: extract_attachment(scans, last.part_index)) for _ in range(runs)],
        digits=3,
    ))
    body = render_message(raw).body
    figure(len(body), "find the quotes of a 200 KB text body", "ms",
           [1000 * seconds(lambda: layout_body(body)) for _ in range(runs)], "< 10 ms")
    reply = quoted_reply()
    figure(len(reply), "find the quotes of 10,000 quoted lines", "ms",
           [1000 * seconds(lambda: layout_body(reply)) for _ in range(runs)], "< 50 ms")
    layout = layout_body(reply)
    figure(len(reply), "fold 10,000 quoted lines", "ms",
           [1000 * seconds(lambda: fold_quotes(layout)) for _ in range(runs)], "< 50 ms")
    bodies: dict[str, str | bytes] = {"a reply over 10,000 quoted lines": reply}
    bodies |= messages  # parsed at each open
    open_goals = {"a message of 10,000 parts": "< 2000 ms", "a 5 MB body of one line": "< 1000 ms",
                  "a 1 MB HTML table, a link per row": "< 1000 ms"}
    for subject, reader in reader_times(bodies, runs).items():
        figure(len(bodies[subject]), f"open {subject} in the reader (Enter to frame)", "ms",
               [1000 * s for s in reader.open], open_goals.get(subject, "< 100 ms"))
        figure(len(bodies[subject]), f"PageDown in {subject} (key to frame)", "ms",
               [1000 * s for s in reader.page_down], "< 50 ms")
    raw = two_big_attachments()
    figure(len(raw), "list two 10 MiB attachments", "ms",
           [1000 * seconds(lambda: render_message(raw)) for _ in range(runs)], "< 2000 ms")
    text = hostile_text()
    figure(len(text), "sanitise unterminated escape introducers", "ms",
           [1000 * seconds(lambda: clean_text(text)) for _ in range(runs)], "< 1000 ms")
    for name, line in hostile_fetch_lines().items():
        figure(len(line), f"scan a hostile FETCH line: {name}", "ms",
               [1000 * seconds(lambda: summary_from_segments([line])) for _ in range(runs)], "< 2000 ms")
    rng = random.Random(7)
    small, large = _fetch_response(2_000), _fetch_response(16_000)
    _parse_all(small, rng)
    figures.append(Figure(
        16_000, "parse a FETCH response fed in random chunks", "ms",
        [1000 * seconds(lambda: _parse_all(large, rng)) for _ in range(runs)],
        reference="2,000 messages", goal="ratio about 8 (linear)",
        reference_samples=[1000 * seconds(lambda: _parse_all(small, rng)) for _ in range(runs)],
    ))
    records = _big_folder(100_000)
    figure(100_000, "thread a folder", "s",
           [seconds(lambda: flatten(build_threads(records))) for _ in range(runs)], "< 3 s", digits=2)
    files = sorted(corpus.rglob("*.eml")) if corpus.is_dir() else []
    if files:
        times = [seconds(lambda: render_with_attachments(path.read_bytes())) for path in files]
        figure(len(files), "render a corpus message (slowest)", "ms", [1000 * max(times)], "< 2000 ms")
        figure(len(files), "render the whole corpus", "s", [sum(times)], "-", digits=2)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.parsing", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (default: 3)")
    parser.add_argument("--corpus", type=Path, default=Path(os.environ.get("MAILBAG_CORPUS") or DEFAULT_CORPUS),
                        help="folder of .eml files (default: $MAILBAG_CORPUS or shared/corpus beside the checkout)")
    args = parser.parse_args()
    print(table(measure(args.runs, args.corpus)))


if __name__ == "__main__":
    main()
