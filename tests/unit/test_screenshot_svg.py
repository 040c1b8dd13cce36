"""scripts/svg_png.py: the screenshots' SVG puts every character on its terminal cells."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

from rich.console import Console
from rich.text import Text

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from svg_png import align_wide_cells  # noqa: E402

_TEXT = re.compile(r'<text class="[^"]*" x="([\d.]+)" y="[\d.]+" textLength="([\d.]+)"[^>]*>([^<]*)</text>')


def _svg(line: str) -> str:
    console = Console(record=True, width=40, file=io.StringIO(), color_system="truecolor")
    console.print(Text(line, style="bold"), end="")
    return console.export_svg(title="t")


def _runs(svg: str) -> list[tuple[float, float, str]]:
    runs = [(float(x), float(length), body.replace("&#160;", " ")) for x, length, body in _TEXT.findall(svg)]
    return [run for run in runs if run[2].strip()]


def test_text_after_a_wide_character_starts_at_its_cell() -> None:
    svg = _svg("山田 花子  Re: 会議 ✅ ok")
    runs = _runs(svg)
    assert len(runs) == 1  # as Rich writes it: one run, sized by characters (17), not cells (23)
    width = runs[0][1] / len("山田 花子  Re: 会議 ✅ ok")
    fixed = _runs(align_wide_cells(svg))
    # The cell each piece's first letter lands on, as a terminal shows the line.
    placed = {text.strip(): round((x - runs[0][0]) / width) + len(text) - len(text.lstrip()) for x, _, text in fixed}
    assert placed == {"山": 0, "田": 2, "花": 5, "子": 7, "Re:": 11, "会": 15, "議": 17, "✅": 20, "ok": 23}
    assert all(length == 2 * width for _, length, text in fixed if len(text.strip()) == 1 and text.strip() != "ok")


def test_a_narrow_line_is_left_as_it_is() -> None:
    svg = _svg("Re: Team weekend at the lake house")
    assert align_wide_cells(svg) == svg
