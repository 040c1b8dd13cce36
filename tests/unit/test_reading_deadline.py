"""One time limit for the whole reading of a message: its structure, each part's text, an HTML
part's conversion and the messages attached to it share it, and what was read is shown."""

from __future__ import annotations

import time

import pytest

from mailbag.domain import deadline
from mailbag.domain.deadline import Deadline
from mailbag.domain.html_text import html_to_text
from mailbag.domain.links import message_links
from mailbag.domain.mime import render_message
from tests.messages import slow_to_read, tiny_cells


@pytest.fixture
def short_limit(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(deadline, "READING_SECONDS", 0.3)
    return 0.3


def test_the_limit_covers_every_part_and_the_attached_message(short_limit: float) -> None:
    rendered = render_message(slow_to_read())
    assert rendered.notices == ("Reading this message took over 0.3 s: the rest is not shown.",)
    assert rendered.body.startswith("Start of the message.\n\nc0 | c1 | c2 | ")
    assert "c299999" not in rendered.body  # the table is cut where the time ran out
    assert "Attached message" not in rendered.body and "Inner" not in rendered.body


def test_a_message_cut_before_any_text_shows_its_source_inert(short_limit: float) -> None:
    raw = b"From: a@example.org\r\nSubject: Cut\r\nContent-Type: text/html\r\n\r\n<p>\x1b[31mred\x1b]8;;x\x07</p>\r\n"
    rendered = render_message(raw, deadline=Deadline(start=time.monotonic() - 1))
    assert rendered.notices == ("Reading this message took over 0.3 s: its source is shown instead.",)
    assert rendered.body == "From: a@example.org\nSubject: Cut\nContent-Type: text/html\n\n<p>red</p>\n"
    assert not rendered.body_was_html


@pytest.mark.parametrize(
    "html",
    [
        "<div>d" * 200_000,
        "".join(f'<p class="a{i}" title="{i}">p{i}</p>' for i in range(200_000)),
        "".join(f"<span {' '.join(f'x{j}=1' for j in range(2_000))}>s{i}</span>" for i in range(300)),
        "a<br>" * 500_000,
    ],
    ids=["deep nesting", "many elements", "huge attribute counts", "a million tags"],
)
def test_hostile_html_stops_at_the_limit_with_what_it_read(short_limit: float, html: str) -> None:
    time_up = Deadline()
    text = html_to_text("<p>The start.</p>" + html, time_up)
    assert time_up.reached and text.startswith("The start.")  # cut short, with what was read


def test_without_a_deadline_the_whole_table_is_read() -> None:
    assert html_to_text(tiny_cells(2_000)).endswith("c1998 | c1999")


def test_the_links_of_a_message_too_slow_to_read_are_those_found_in_time(short_limit: float) -> None:
    rows = "".join(f'<tr><td><a href="https://shop.example.com/{i}">item {i}</a><td>{i}' for i in range(200_000))
    raw = b"Subject: Links\r\nContent-Type: text/html\r\n\r\n<table>" + rows.encode() + b"</table>\r\n"
    targets = [link.target for link in message_links(raw)]
    assert targets[:2] == ["https://shop.example.com/0", "https://shop.example.com/1"]
    assert "https://shop.example.com/199999" not in targets
