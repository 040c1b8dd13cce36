"""POP3 replies and multi-line answers read from literal bytes."""

from __future__ import annotations

import asyncio

import pytest

from mailbag.protocols.pop3.wire import LineTooLong, Reader, Reply, unstuff


def reader_of(data: bytes) -> Reader:
    stream = asyncio.StreamReader()
    stream.feed_data(data)
    stream.feed_eof()
    return Reader(stream, timeout=5)


def test_replies_with_response_codes_and_hostile_text() -> None:
    ok = Reply(b"+OK 2 messages\r\n")
    assert (ok.ok, ok.text, ok.code) == (True, "2 messages", "")
    refused = Reply(b"-ERR [IN-USE] mailbox locked\r\n")
    assert (refused.ok, refused.code) == (False, "IN-USE")
    hostile = Reply(b"-ERR \x1b[31mred\x1b[0m \xe2\x80\xae evil\r\n")
    assert "\x1b" not in hostile.text and "\u202e" not in hostile.text
    with pytest.raises(ValueError, match="not a POP3 reply"):
        Reply(b"* OK IMAP4rev1\r\n")


def test_unstuff_takes_one_dot_off_lines_that_begin_with_one() -> None:
    assert unstuff(b"..a\r\nb\r\n...\r\n") == b".a\nb\n..\n"


def test_unstuff_leaves_dots_after_a_bare_line_feed_or_carriage_return_alone() -> None:
    # Only a line (ended by CRLF) is dot-stuffed; a stray LF or CR inside one is not a line end.
    assert unstuff(b"a\n..b\r\n..c\rd\r\n") == b"a\n..b\n.c\rd\n"
    assert unstuff(b"a\n..b\n", b"\n") == b"a\n.b\n"  # a server that ends its lines with LF alone


async def test_multiline_answers_end_at_the_lone_dot() -> None:
    reader = reader_of(b"line 1\r\n..dot\r\n.\r\n.\r\n+OK next\r\n")
    assert await reader.multiline(1000) == b"line 1\n.dot\n"
    assert await reader.multiline(1000) == b""  # an empty answer
    assert await reader.line() == b"+OK next\r\n"


async def test_limits() -> None:
    with pytest.raises(LineTooLong):
        await reader_of(b"+OK " + b"x" * 10_000 + b"\r\n").line()
    with pytest.raises(LineTooLong):
        await reader_of(b"y" * 5000 + b"\r\n.\r\n").multiline(1000)
