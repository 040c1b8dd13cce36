"""Literals in commands, UIDPLUS response codes and IMAP date-times, on literal bytes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from mailbag.protocols.imap.codes import (
    CopyResult,
    append_uid,
    copy_result,
    imap_datetime,
    ordered_uids,
)
from mailbag.protocols.imap.protocol import push_from
from mailbag.protocols.imap.wire import compose, criteria_parts, literal_mode


def test_ascii_criteria_are_sent_as_written() -> None:
    assert criteria_parts('OR FROM "a b" (SUBJECT x)') == ['OR FROM "a b" (SUBJECT x)']


def test_non_ascii_strings_become_literals_quoted_or_bare() -> None:
    parts = criteria_parts('OR SUBJECT "Grö\\"ße" (BODY 日本語)')
    assert parts == ["OR SUBJECT ", 'Grö"ße'.encode(), " (BODY ", "日本語".encode(), ")"]


def test_criteria_with_line_breaks_are_refused() -> None:
    with pytest.raises(ValueError):
        criteria_parts("SUBJECT x\r\nA1 DELETE INBOX")


def test_compose_synchronizing_and_not() -> None:
    parts: list[str | bytes] = ["SUBJECT ", b"\xc3\xa9t\xc3\xa9", " ALL"]
    assert compose(parts, non_synchronizing=True) == (b"SUBJECT {5+}\r\n\xc3\xa9t\xc3\xa9 ALL", [])
    assert compose(parts, non_synchronizing=False) == (b"SUBJECT {5}", [b"\xc3\xa9t\xc3\xa9 ALL"])


def test_literal_minus_only_for_small_literals() -> None:
    assert literal_mode({"LITERAL+"}, [b"x" * 10_000])
    assert literal_mode({"LITERAL-"}, [b"x" * 4096])
    assert not literal_mode({"LITERAL-"}, [b"x" * 4097])
    assert not literal_mode(set(), [b"x"])


def test_copyuid_pairs_uids_in_the_order_written() -> None:
    result = copy_result([b"* OK moving", b"[COPYUID 38505 304,319:320 3956:3958] Done"])
    assert result == CopyResult(38505, (304, 319, 320), (3956, 3957, 3958))
    assert result.mapping[319] == 3957
    assert ordered_uids(b"5,1:2") == (5, 1, 2)
    # a set too large to be a copy's (a hostile server's), or past the largest UID: no COPYUID
    assert copy_result([b"OK [COPYUID 1 1:4294967295 1:4294967295] Done"]) == CopyResult()
    assert copy_result([b"OK [COPYUID 1 5 99999999999] Done"]) == CopyResult()


def test_missing_or_inconsistent_copyuid_gives_nothing() -> None:
    assert copy_result([b"Copy completed"]) == CopyResult()
    assert copy_result([b"[COPYUID 1 1:3 7:8] uneven"]) == CopyResult()


def test_appenduid() -> None:
    assert append_uid(b"[APPENDUID 38505 3955] APPEND completed") == 3955
    assert append_uid(b"APPEND completed") is None


def test_imap_datetime_uses_english_months_and_the_offset() -> None:
    when = datetime(2024, 3, 5, 9, 7, 1, tzinfo=timezone(timedelta(hours=-5, minutes=-30)))
    assert imap_datetime(when) == '"05-Mar-2024 09:07:01 -0530"'


def test_status_push_names_its_folder() -> None:
    push = push_from([b'* STATUS "Projects/Zo&AOs-" (MESSAGES 3 UNSEEN 1 UIDNEXT 9)'], "INBOX")
    assert push is not None and push.kind == "STATUS" and push.folder == "Projects/Zoë"
    assert push.status == {"MESSAGES": 3, "UNSEEN": 1, "UIDNEXT": 9}
    exists = push_from([b"* 4 EXISTS"], "INBOX")
    assert exists is not None and exists.folder == "INBOX" and exists.number == 4
