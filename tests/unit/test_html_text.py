"""HTML bodies as text: hidden text stays hidden, tables line up, lists nest, nothing is fetched,
and hostile markup stays inert text."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from mailbag.domain.html_text import html_to_text
from mailbag.domain.links import Link, html_links
from mailbag.domain.mime import render_message
from tests.unit.html_samples import LISTS, NEWSLETTER, RECEIPT


def html_message(html: str) -> bytes:
    head = "Subject: html\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    return (head + html).encode("utf-8")


def test_a_newsletter_reads_without_its_preheader_and_the_other_screen_s_text() -> None:
    assert render_message(html_message(NEWSLETTER)).body == (
        "[Example Weekly]\n"
        "This week\n"
        "Hello Ann, here is what happened.\n"
        "Tea harvest\n"
        "The first flush is in.\n"
        "Read more[1]\n"
        "New mugs\n"
        "Two colours, one size.\n"
        "Read more[2]\n"
        "Best read on a big screen.\n"  # only phones hide it (@media): mailbag shows it
        "Autumn sale: 20% off\n"
        "You get this because you signed up. Unsubscribe[3]\n"
        "\n"
        "Links:\n"
        "[1] https://example.com/tea\n"
        "[2] https://example.com/mugs\n"
        "[3] https://example.com/unsubscribe"
    )


@pytest.mark.parametrize(
    "hidden",
    [
        '<div style="display:none">SECRET</div>',
        '<span style="DISPLAY : None !important">SECRET</span>',
        '<div hidden>SECRET</div>',
        '<div style="max-height:0px;overflow:hidden">SECRET</div>',
        '<div style="height:0; overflow:hidden; mso-hide:all">SECRET</div>',
        '<span style="opacity:0">SECRET</span>',
        '<span style="visibility:hidden">SECRET</span>',
        '<span style="font-size:0">SECRET</span>',
        '<div style="font-size:0px"><span style="font-size:50%">SECRET</span></div>',
        '<img style="display:none" alt="SECRET">',
        '<style>.pre { display: none }</style><span class="x pre">SECRET</span>',
        '<style>p.a, #b { visibility: hidden } </style><p class="a">SECRET</p><div id="b">SECRET</div>',
        '<style>/* c */ span { display: none; }</style><span>SECRET</span>',
        '<style>.x { display: block } .x { display: none }</style><i class="x">SECRET</i>',
        '<table><tr><td><div style="display:none">SECRET</td><td>',  # left open: ends with its cell
        '<p style="display:none">SECRET<p>',  # a <p> ends the one before
    ],
)
def test_text_the_sender_hides_stays_hidden(hidden: str) -> None:
    text = html_to_text(f"<p>before</p>{hidden}<p>after</p>")
    assert "SECRET" not in text
    assert text.startswith("before") and text.endswith("after")


@pytest.mark.parametrize(
    "shown",
    [
        '<div style="display:block">SHOWN</div>',
        '<style>@media (max-width: 600px) { .d { display: none } }</style><div class="d">SHOWN</div>',
        '<style>.d { display: none }</style><div class="d" style="display: block">SHOWN</div>',
        '<div style="visibility:hidden"><span style="visibility:visible">SHOWN</span></div>',
        '<td style="font-size:0"><div style="font-size:14px">SHOWN</div></td>',
        '<div style="overflow:hidden;max-height:100px">SHOWN</div>',
        '<style>div span.d { display: none }</style><span class="d">SHOWN</span>',  # not a simple selector
    ],
)
def test_text_shown_on_a_desktop_stays_shown(shown: str) -> None:
    assert "SHOWN" in html_to_text(f"<p>before</p>{shown}<p>after</p>")


def test_a_head_left_open_does_not_hide_the_body() -> None:
    assert html_to_text("<html><head><title>t</title><style>p{}</style><p>Hello</p>") == "Hello"


def test_a_table_of_short_cells_lines_up_in_columns() -> None:
    body = render_message(html_message(RECEIPT)).body
    assert body == (
        "Thanks for your order #1042. We will send it tomorrow.\n"
        "\n"
        "Item                          | Qty | Price\n"
        "Green tea, loose leaf (250 g) | 2   | €7.00\n"
        "Mug, blue                     | 1   | €12.00\n"
        "茶碗                          | 1   | €9.50\n"  # two wide characters take four cells
        "Total                         |     | €35.50\n"  # the colspan keeps Price in its column
        "\n"
        "Questions? Reply to this mail."
    )


def test_a_table_with_a_long_cell_is_not_padded() -> None:
    long = "word " * 20
    text = html_to_text(f"<table><tr><td>{long}</td><td>a</td></tr><tr><td>b</td><td>c</td></tr></table>")
    assert text == f"{long.strip()} | a\nb | c"


def test_lists_nest_and_items_keep_their_paragraphs_together() -> None:
    assert html_to_text(LISTS) == (
        "Agenda for Monday:\n"
        "\n"
        "1. Budget\n"
        "   - spent so far\n"
        "   - what is left\n"
        "2. Hiring\n"
        "   Two open positions.\n"
        "3. Anything else\n"
        "\n"
        "Notes:\n"
        "\n"
        "- Bring the numbers\n"
        "- Book the room"
    )


# --- nothing is fetched ------------------------------------------------------------------------

_NETWORK_EVENTS = ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "urllib.Request")
_watch: list[list[tuple[str, tuple[object, ...]]]] = []  # the open recordings (an audit hook stays for good)


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _watch and event in _NETWORK_EVENTS:
        _watch[-1].append((event, args))


@contextmanager
def network_calls() -> Iterator[list[tuple[str, tuple[object, ...]]]]:
    """Every socket connection and name lookup made inside the block."""
    if _audit not in _hooks:
        sys.addaudithook(_audit)
        _hooks.append(_audit)
    calls: list[tuple[str, tuple[object, ...]]] = []
    _watch.append(calls)
    try:
        yield calls
    finally:
        _watch.remove(calls)


_hooks: list[object] = []


def test_rendering_html_opens_no_socket() -> None:
    remote = (
        '<link rel="stylesheet" href="https://cdn.example.com/x.css">'
        '<style>@import url(https://fonts.example.com/f.css); p { background: url("http://example.com/b.png") }</style>'
        '<img src="http://example.com/pixel.gif" alt="pixel"><iframe src="https://example.com/frame"></iframe>'
        '<object data="http://example.com/o.swf"></object><video src="http://example.com/v.mp4"></video>'
        '<!DOCTYPE html SYSTEM "http://example.com/doc.dtd"><p style="background:url(http://example.com/c.png)">text</p>'
    )
    with network_calls() as calls:
        socket.getaddrinfo("localhost", 80)  # the hook sees a lookup: the check below means something
        assert [event for event, _ in calls] == ["socket.getaddrinfo"]
        calls.clear()
        body = render_message(html_message(NEWSLETTER + remote)).body
    assert "Autumn sale" in body and "[pixel]" in body
    assert calls == []


# --- hostile markup -----------------------------------------------------------------------------


def test_escape_sequences_and_bidi_overrides_in_html_stay_inert() -> None:
    hostile = (
        "<p>\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\ &#x1b;[2J"
        "<img alt='\x1b[31mred\u202e'> <a href='https://example.org/\x1b[0m'>\u202egnp.exe</a></p>"
        "<table><tr><td>&#x202E;cell\x1b[1m</td><td>\x1fb</td></tr><tr><td>c</td><td>d</td></tr></table>"
    )
    body = render_message(html_message(hostile)).body
    assert body == "click [2J [red] gnp.exe[1]\n\ncell | b\nc    | d\n\nLinks:\n[1] https://example.org/"


def test_a_huge_table_is_laid_out_whole() -> None:
    rows = "".join(f"<tr><td>row {n}</td><td>{n * n}</td><td>x</td></tr>" for n in range(20_000))
    lines = html_to_text(f"<table>{rows}</table>").split("\n")
    assert len(lines) == 20_000
    assert lines[0] == "row 0     | 0         | x"
    assert lines[-1] == "row 19999 | 399960001 | x"


def test_deep_nesting_keeps_its_text() -> None:
    deep = "<div><blockquote><table><tr><td>" * 20_000 + "bottom" + "</td></tr></table></blockquote></div>" * 20_000
    text = render_message(html_message(f"<p>top</p>{deep}<p>after</p>")).body
    assert text.startswith("top") and "bottom" in text and text.endswith("after")
    unclosed = html_to_text("<p>top</p>" + "<div><span><b><i>" * 50_000 + "bottom")
    assert unclosed == "top\n\nbottom"


def test_markup_left_open_is_read_as_a_browser_reads_it() -> None:
    assert html_to_text("<p>a</p><!-- never closed <p>b</p>") == "a"  # the comment runs to the end
    link = html_to_text('<p>a</p><a href="https://example.org/"<b>b</b></a> <p>if x <y then <i>z</i></p>')
    assert link == "a\n\nb[1]\n\nif x z\n\nLinks:\n[1] https://example.org/"  # each tag closed at the next <
    assert html_to_text("<p>1 < 2 and 3<4</p>") == "1 < 2 and 3<4"


@pytest.mark.parametrize("piece", ["<a", "<!--", "<style", "</", "<![", "<style>"])
def test_thousands_of_unclosed_pieces_end_as_text_or_nothing(piece: str) -> None:
    assert html_to_text(f"<p>before</p>{piece * 50_000}") == "before"


def test_the_link_list_reads_markup_left_open_as_the_text_does() -> None:
    html = '<a href="https://ok.example/">ok</a><!-- never closed <a href="https://hidden.example/">x</a>'
    assert html_links(html) == [Link("https://ok.example/", "ok")]  # the comment runs to the end
    assert html_links('<a href="https://ok.example/">ok</a>' + "<a" * 50_000) == [Link("https://ok.example/", "ok")]
