"""Textual's SVG screenshots made right for a browser, and rendered to PNG by headless Chromium."""

from __future__ import annotations

import html
import math
import os
import re
import subprocess
from pathlib import Path

from rich.cells import cell_len

#: One run of text as Rich writes it in an SVG screenshot.
_TEXT = re.compile(
    r'<text class="(?P<cls>[^"]*)" x="(?P<x>[\d.]+)" y="(?P<y>[\d.]+)" '
    r'textLength="(?P<length>[\d.]+)" clip-path="(?P<clip>[^"]*)">(?P<body>[^<]*)</text>'
)
_VIEW_BOX = re.compile(r'viewBox="0 0 (?P<width>[\d.]+) (?P<height>[\d.]+)"')


def _escape(text: str) -> str:
    return html.escape(text, quote=False).replace(" ", "&#160;")


def _split(match: re.Match[str]) -> str:
    text = html.unescape(match["body"])
    if all(cell_len(char) < 2 for char in text):
        return match[0]
    # Rich sizes a run by characters, not cells: a wide character (CJK, most emoji) squeezes
    # what follows it in the run to the left. Each wide character gets a <text> of its own,
    # placed at its own cell, and the narrow runs between them the same.
    width = float(match["length"]) / len(text)
    left = float(match["x"])
    pieces: list[str] = []
    run, run_start, column = "", 0, 0

    def piece(chars: str, start: int, cells: int) -> str:
        return (f'<text class="{match["cls"]}" x="{left + start * width:g}" y="{match["y"]}" '
                f'textLength="{cells * width:g}" clip-path="{match["clip"]}">{_escape(chars)}</text>')

    for char in text:
        cells = cell_len(char)
        if cells < 2:
            run += char
            column += cells
            continue
        if run.strip():
            pieces.append(piece(run, run_start, column - run_start))
        pieces.append(piece(char, column, cells))
        column += cells
        run, run_start = "", column
    if run.strip():
        pieces.append(piece(run, run_start, column - run_start))
    return "".join(pieces)


def align_wide_cells(svg: str) -> str:
    """``svg`` with every wide character on its own cells, as a terminal shows it."""
    return _TEXT.sub(_split, svg)


def render_png(svg: Path, chromium: str, scratch: Path) -> Path:
    """Render ``svg`` with headless Chromium to a PNG of its own size beside it; returns its path."""
    size = _VIEW_BOX.search(svg.read_text(encoding="utf-8"))
    if size is None:
        raise ValueError(f"{svg}: no viewBox")
    width, height = (math.ceil(float(size[k])) for k in ("width", "height"))
    png = svg.with_suffix(".png")
    command = [
        chromium, "--headless", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1",
        f"--user-data-dir={scratch / 'chromium'}", f"--window-size={width},{height}",
        f"--screenshot={png}", svg.resolve().as_uri(),
    ]
    if os.geteuid() == 0:
        command.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0 or not png.is_file():
        raise RuntimeError(f"{chromium} could not render {svg.name}:\n{result.stderr[-2000:]}")
    return png
