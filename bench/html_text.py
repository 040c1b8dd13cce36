"""``python -m bench.html_text``: mailbag's HTML converter next to inscriptis and html2text.

For each converter: the time to convert every HTML part of the real-world corpus and mailbag's
own samples (a newsletter, a receipt, lists; tests/unit/html_samples.py), a 20,000-row table,
deeply nested markup and markup left open (median of ``--runs``), whether the hidden preheader and a phone-only line
leak into the text, and the text of each sample, one converter after the other. inscriptis and
html2text are not mailbag's dependencies: ``pip install inscriptis html2text`` to compare them
(a converter that is not installed is left out).
"""

from __future__ import annotations

import argparse
import email
import email.policy
import importlib
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from mailbag.domain.html_text import html_to_text
from tests.unit.html_samples import SAMPLES

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
Converter = Callable[[str], str]


def converters() -> dict[str, Converter]:
    """mailbag's converter and those of the libraries that are installed."""
    found: dict[str, Converter] = {"mailbag": html_to_text}
    try:
        inscriptis = importlib.import_module("inscriptis")
        config = importlib.import_module("inscriptis.model.config").ParserConfig(display_links=True)
        found["inscriptis"] = lambda html: str(inscriptis.get_text(html, config))
    except ImportError:
        pass
    try:
        html2text = importlib.import_module("html2text")

        def convert(html: str) -> str:
            parser = html2text.HTML2Text()
            parser.body_width = 0  # the reader wraps
            return str(parser.handle(html))

        found["html2text"] = convert
    except ImportError:
        pass
    return found


def corpus_html(corpus: Path) -> list[str]:
    """The text/html parts of every corpus message, decoded."""
    parts = []
    for path in sorted(corpus.rglob("*.eml")) if corpus.is_dir() else []:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.compat32)
        for part in message.walk():
            if part.get_content_type() == "text/html":
                data = part.get_payload(decode=True)
                if isinstance(data, bytes):
                    parts.append(data.decode(part.get_content_charset() or "utf-8", "replace"))
    return parts


def big_table() -> str:
    return "<table>" + "".join(f"<tr><td>row {n}</td><td>{n * n}</td><td>x</td></tr>" for n in range(20_000)) + "</table>"


def one_big_table() -> str:
    """About 1 MB of HTML in one table, as a long report or order list: styled cells, a link per row."""
    rows = (
        f'<tr><td style="padding:4px;font-family:Arial,sans-serif" class="item">Item {n}</td>'
        f'<td align="right" style="padding:4px">{n * 7} EUR</td>'
        f'<td><a href="https://shop.example.com/orders/{n}">details</a></td></tr>\n'
        for n in range(4_800)
    )
    return '<html><body><table width="100%" cellpadding="0">' + "".join(rows) + "</table></body></html>"


def deep_nesting() -> str:
    return "<div><blockquote><table><tr><td>" * 2_000 + "bottom" + "</td></tr></table></blockquote></div>" * 2_000


def median_ms(convert: Converter, documents: list[str], runs: int) -> str:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        try:
            for document in documents:
                convert(document)
        except Exception as error:  # a library that gives up on hostile input says so here
            return f"fails: {type(error).__name__}"
        samples.append(1000 * (time.perf_counter() - started))
    return f"{statistics.median(samples):.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--no-samples", action="store_true", help="only the timings")
    options = parser.parse_args()
    corpus = corpus_html(options.corpus)
    loads = {
        f"corpus ({len(corpus)} HTML parts)": corpus,
        "own samples": list(SAMPLES.values()),
        "a 20,000-row table": [big_table()],
        "1 MB in one table, a link per row": [one_big_table()],
        "2,000 levels of nesting": [deep_nesting()],
        "5,000 unclosed tags and comments": [piece * 5_000 for piece in ("<a", "<!--", "<style")],
    }
    found = converters()
    print("| converter | " + " | ".join(loads) + " | preheader / phone-only text shown |")
    print("|---" * (len(loads) + 2) + "|")
    for name, convert in found.items():
        times = [median_ms(convert, documents, options.runs) for documents in loads.values()]
        newsletter = convert(SAMPLES["newsletter"])
        leaks = f"{'yes' if '20% off inside' in newsletter else 'no'} / {'yes' if 'Tap to read' in newsletter else 'no'}"
        print(f"| {name} | " + " | ".join(times) + f" | {leaks} |")
    if options.no_samples:
        return
    for sample, html in SAMPLES.items():
        for name, convert in found.items():
            print(f"\n===== {sample}: {name} =====")
            print(convert(html).rstrip())


if __name__ == "__main__":
    main()
