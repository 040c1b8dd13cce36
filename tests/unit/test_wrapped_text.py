"""Wrapping a body into screen rows: words kept whole, wide characters counted as two cells,
and a long text wrapped only where it is looked at, with the same rows as if all were wrapped."""

from __future__ import annotations

from rich.cells import cell_len

from mailbag.ui.wrap import wrap_line
from mailbag.ui.wrapped_text import Row, WrappedText


def row(view: WrappedText, y: int) -> Row:
    found = view.row(y)
    assert found is not None, f"no row {y}"
    return found


def test_rows_break_after_spaces_and_join_back_into_the_line():
    line = "the quick brown fox jumps over the lazy dog " * 5
    rows = wrap_line(line, 20)
    assert "".join(rows) == line
    assert all(len(row.rstrip()) <= 20 for row in rows)
    assert all(row.endswith(" ") for row in rows[:-1])  # no word is cut


def test_a_word_longer_than_the_row_is_cut_at_the_width():
    assert wrap_line("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_wide_characters_take_two_cells():
    rows = wrap_line("日本語の件名 " * 6, 10)
    assert all(cell_len(row.rstrip()) <= 10 for row in rows)
    assert "".join(rows) == "日本語の件名 " * 6


def test_rows_wrapped_piecemeal_are_the_rows_of_the_whole():
    lines = [f"line {i} " + "word " * (i % 40) for i in range(3000)]
    view = WrappedText(lines, 37)
    view.settle(5000, 5030)  # somewhere in the middle first
    view.settle_end(30)
    view.settle(0, view.height)
    whole = [row for line in lines for row in wrap_line(line, 37)]
    assert view.height == len(whole)
    assert [row(view, y).text for y in range(0, view.height, 97)] == whole[::97]


def test_a_line_of_megabytes_is_wrapped_where_it_is_looked_at():
    line = ("w" * 50 + " ") * 100_000 + "the end"
    view = WrappedText([line], 60)
    assert view.settle_end(20)
    last = [row(view, y) for y in range(view.height - 20, view.height)]
    assert last[-1].text.endswith("the end") and all(r.line == 0 for r in last)
    view.settle(0, view.height)
    assert "".join(row(view, y).text for y in range(view.height)) == line
    assert all(cell_len(row(view, y).text.rstrip()) <= 60 for y in range(view.height))


def test_selected_rows_give_the_text_back_with_its_line_breaks():
    view = WrappedText(["alpha beta gamma delta", "second line"], 12)
    view.settle(0, view.height)
    assert view.text_of_rows(0, 6, 2, 6) == "beta gamma delta\nsecond"


def test_each_row_knows_the_links_on_it_even_a_link_wrapped_over_rows():
    url = "https://example.org/" + "x" * 30
    view = WrappedText([f"go to {url} now", "file:///etc/passwd Mailto:ann@example.org", "no link: here"], 20)
    rows = [row(view, y) for y in range(view.height)]
    linked = [(r.text[a:b], target) for r in rows for a, b, target in r.links]
    assert linked == [
        ("https://example.org/", url), ("x" * 20, url), ("x" * 10, url),  # one link over three rows
        ("Mailto:ann@example.o", "Mailto:ann@example.org"), ("rg", "Mailto:ann@example.org"),  # not file:
    ]
