"""Quote levels, quote blocks, attributions and signatures in rendered bodies, and folding.

How fast 10,000 quoted lines are laid out: python -m bench.parsing
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mailbag.domain.mime import render_message
from mailbag.domain.quotes import LineKind, QuoteBlock, fold_quotes, layout_body, plain_layout, quote_level
from tests.unit.test_corpus import CORPUS, FILES, MISSING

T, Q1, Q2, Q3, SIG, FOLDED = (
    LineKind.TEXT, LineKind.QUOTE_1, LineKind.QUOTE_2, LineKind.QUOTE_3, LineKind.SIGNATURE, LineKind.FOLDED,
)


def kinds(text: str) -> list[int]:
    return list(layout_body(text).kinds)


def msg(headers: str, body: str) -> bytes:
    return (headers.strip("\n") + "\n\n" + body).replace("\n", "\r\n").encode("utf-8")


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("> one", 1), (">one", 1), (">", 1), ("> ", 1),
        (">> two", 2), ("> > two", 2), ("> >two", 2), (">\t> two", 2),
        ("> >> > four", 4), (">>>>>>>>>> ten", 10),
        ("  > after spaces", 1), ("\t>> after a tab", 2), ("   > > after spaces", 2),
        ("not > quoted", 0), ("", 0), ("   ", 0), ("->", 0), ("a>b", 0),
    ],
)
def test_quote_level_counts_the_leading_markers(line: str, level: int) -> None:
    assert quote_level(line) == level


def test_levels_one_two_and_three_or_more_are_kinds_of_their_own() -> None:
    text = "new text\n> one\n>> two\n> > > three\n>>>>>> six\nnew again"
    assert kinds(text) == [T, Q1, Q2, Q3, Q3, T]


def test_a_line_that_is_only_a_marker_keeps_the_quote_whole() -> None:
    layout = layout_body("Hi\n> first paragraph\n>\n> second paragraph\n\nReply")
    assert layout.kinds[1:4] == [Q1, Q1, Q1]
    assert layout.blocks == (QuoteBlock(1, 1, 4),)


def test_blank_lines_between_quoted_lines_belong_to_the_block() -> None:
    layout = layout_body("> a\n\n> b\n\nmine")
    assert layout.blocks == (QuoteBlock(0, 0, 3),)
    assert layout.kinds == [Q1, T, Q1, T, T]


def test_an_mbox_escaped_from_line_is_text_but_stays_quoted_inside_a_quote() -> None:
    assert kinds("Hello\n>From the start, it worked.\nBye") == [T, T, T]
    assert layout_body(">From here on\n").blocks == ()
    assert kinds("> quoted\n>From inside the quote\n> more") == [Q1, Q1, Q1]


def test_very_long_lines_are_read_whole() -> None:
    long_quote = "> " + "word " * 200_000
    long_text = " " * 500_000 + "indented, not quoted"
    deep = ">" * 300_000
    assert kinds(f"{long_text}\n{long_quote}\n{deep}\nend") == [T, Q1, Q3, T]
    assert quote_level(deep) == 300_000


def test_ten_thousand_quoted_lines_make_one_block() -> None:
    text = "On Tue, Ann wrote:\n" + "> quoted line\n" * 10_000 + "\nMy answer."
    layout = layout_body(text)
    assert layout.blocks == (QuoteBlock(0, 1, 10_001),)
    folded = fold_quotes(layout)
    assert folded.lines == ["On Tue, Ann wrote:", "[10000 quoted lines]", "", "My answer."]


# --- attributions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "attribution",
    [
        "On Mon, 3 Mar 2026 at 10:15, Alice <alice@example.org> wrote:",
        "Alice Example writes:",
        "Le lun. 3 mars 2026 à 10:15, Renée <renee@example.org> a écrit :",
        "Am 03.03.2026 um 10:15 schrieb Jürgen Weiß <j@example.org>:",
        "El lun, 3 mar 2026 a las 10:15, Ana (<ana@example.org>) escribió:",
    ],
)
def test_an_attribution_line_goes_with_its_quote(attribution: str) -> None:
    layout = layout_body(f"Sure.\n\n{attribution}\n> Can you come?\n")
    assert layout.kinds[:4] == [T, T, Q1, Q1]
    assert layout.blocks[0] == QuoteBlock(2, 3, 4)


def test_a_wrapped_attribution_and_one_a_blank_line_above_the_quote() -> None:
    wrapped = "Yes.\n\nOn Mon, 3 Mar 2026 at 10:15, Alice Example <\nalice@example.org> wrote:\n> Lunch?"
    assert layout_body(wrapped).blocks == (QuoteBlock(2, 4, 5),)
    spaced = "Yes.\n\nBob wrote:\n\n> Lunch?"
    assert layout_body(spaced).blocks == (QuoteBlock(2, 4, 5),)
    assert kinds(spaced) == [T, T, Q1, Q1, Q1]


def test_a_line_ending_in_a_colon_is_no_attribution_without_a_verb() -> None:
    layout = layout_body("Here is what I need:\n> the report\n")
    assert layout.kinds[0] == T and layout.blocks == (QuoteBlock(1, 1, 2),)


def test_an_attribution_inside_a_quote_is_shown_as_the_quote_it_opens() -> None:
    text = "Agreed.\n\n> Fine by me.\n> On Sun, Bob wrote:\n>> Ship it?\n"
    assert kinds(text)[:5] == [T, T, Q1, Q2, Q2]


# --- signatures --------------------------------------------------------------------------------


def test_the_signature_runs_from_the_separator_to_the_end() -> None:
    assert kinds("Thanks,\nAnn\n-- \nAnn Example\n+1 555 0100") == [T, T, SIG, SIG, SIG]


def test_a_signature_above_the_quote_of_a_top_posted_reply_ends_at_the_attribution() -> None:
    text = "Yes.\n-- \nAnn\n\nOn Sun, Bob wrote:\n> Ready?\n> -- \n> Bob\n"
    assert kinds(text) == [T, SIG, SIG, SIG, Q1, Q1, Q1, Q1, T]


def test_a_separator_that_lost_its_space_opens_only_a_short_signature() -> None:
    assert kinds("Bye\n--\nAnn") == [T, SIG, SIG]
    long_tail = "Part one\n--\n" + "part two\n" * 40
    assert SIG not in kinds(long_tail)


def test_mailbags_own_words_are_plain() -> None:
    layout = plain_layout("> not a quote\n-- \n")
    assert layout.kinds == [T, T, T] and layout.blocks == ()


# --- rendered messages -------------------------------------------------------------------------


def test_quotes_of_an_html_reply_are_found_in_its_text() -> None:
    html = (
        "<p>Works for me.</p><div>On Mon, Bob wrote:</div>"
        "<blockquote><p>Shall we?</p><blockquote><p>Tuesday?</p></blockquote></blockquote>"
        "<p>-- <br>Ann</p>"
    )
    body = render_message(msg("Subject: r\nContent-Type: text/html; charset=utf-8", html)).body
    layout = layout_body(body)
    shown = dict(zip(layout.lines, layout.kinds))
    assert shown["On Mon, Bob wrote:"] == Q1
    assert shown["> Shall we?"] == Q1
    assert shown["> > Tuesday?"] == Q2
    assert shown["Ann"] == SIG
    assert shown["Works for me."] == T


def test_quotes_of_a_flowed_reply_are_found_after_unflowing() -> None:
    flowed = "Yes.\n\nAnn wrote:\n> a long quoted \n> sentence\n>> older \n>> text\n-- \nBob\n"
    body = render_message(msg("Subject: r\nContent-Type: text/plain; charset=utf-8; format=flowed", flowed)).body
    layout = layout_body(body)
    assert list(zip(layout.lines, layout.kinds)) == [
        ("Yes.", T), ("", T), ("Ann wrote:", Q1), ("> a long quoted sentence", Q1),
        (">> older text", Q2), ("-- ", SIG), ("Bob", SIG),
    ]


def _corpus(path: str) -> Path:
    if not CORPUS.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{MISSING} (CI is set, so the corpus must be there)")
        pytest.skip(MISSING)
    return CORPUS / path


def test_a_real_signature_whose_separator_lost_its_space() -> None:
    body = render_message(_corpus("stalwart-mail-parser/thirdparty/015.eml").read_bytes()).body
    layout = layout_body(body)
    start = layout.lines.index("--")
    attached = layout.lines.index("[-- Attached message --]")  # the messages it forwards follow it
    assert set(layout.kinds[:start]) == {T}
    assert set(layout.kinds[start:attached]) == {SIG}
    assert "Jonas Sterr" in layout.lines[start:attached]
    assert SIG not in layout.kinds[attached:]


@pytest.mark.parametrize(
    "path", FILES or [None], ids=[str(p.relative_to(CORPUS)) for p in FILES] or ["corpus-missing"]
)
def test_real_messages_without_quotes_show_no_quote(path: Path | None) -> None:
    if path is None:
        _corpus("")
        return
    body = render_message(path.read_bytes()).body
    layout = layout_body(body)
    assert layout.text == body
    assert layout.blocks == () and not {Q1, Q2, Q3} & set(layout.kinds)


# --- moving past quotes, folding them ----------------------------------------------------------

THREAD = "\n".join([
    "Hi Bob,",            # 0
    "",                   # 1
    "On Mon, Ann wrote:",  # 2
    "> First point",      # 3
    ">",                  # 4
    ">> older",           # 5
    "",                   # 6
    "My answer.",         # 7
    "",                   # 8
    "> q3",               # 9
    "",                   # 10
    "> q4",               # 11
    "",                   # 12
    "Answer 2",           # 13
    "-- ",                # 14
    "Carol",              # 15
])


def test_next_unquoted_skips_the_block_under_or_after_the_line() -> None:
    layout = layout_body(THREAD)
    assert layout.next_unquoted(0) == 7  # from the text above: past the next block
    assert layout.next_unquoted(2) == 7  # from the attribution
    assert layout.next_unquoted(4) == 7  # from inside the block
    assert layout.next_unquoted(7) == 13  # blocks parted by blank lines only are one
    assert layout.next_unquoted(13) is None  # no quote below
    assert layout_body("Reply\n\n> the whole original\n> to the end").next_unquoted(0) is None


def test_folding_keeps_attributions_and_counts_the_lines() -> None:
    layout = layout_body(THREAD)
    folded = fold_quotes(layout)
    assert list(zip(folded.lines, folded.kinds)) == [
        ("Hi Bob,", T), ("", T), ("On Mon, Ann wrote:", Q1), ("[3 quoted lines]", FOLDED), ("", T),
        ("My answer.", T), ("", T), ("[3 quoted lines]", FOLDED), ("", T), ("Answer 2", T),
        ("-- ", SIG), ("Carol", SIG),
    ]
    assert folded.next_unquoted(0) == 5 and folded.next_unquoted(5) == 9
    assert [folded.line_of(n) for n in (0, 3, 5, 7, 9, 13, 15)] == [0, 3, 3, 5, 7, 9, 11]
    assert [folded.origin[n] for n in (3, 5, 7, 9)] == [3, 7, 9, 13]
    single = fold_quotes(layout_body("> only one\nreply"))
    assert single.lines == ["[1 quoted line]", "reply"]
    assert fold_quotes(layout_body("no quotes")).lines == ["no quotes"]
