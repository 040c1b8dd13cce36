"""The search language: what the user types becomes terms, errors for the status bar, IMAP criteria."""

from __future__ import annotations

from datetime import date

import pytest

from mailbag.domain.search import (
    DateTerm,
    Flag,
    FlagTerm,
    FolderTerm,
    Query,
    TextField,
    TextTerm,
    parse_query,
)
from mailbag.protocols.imap.criteria import imap_string, to_imap_search
from mailbag.protocols.imap.wire import criteria_parts


def test_free_words_and_fields() -> None:
    q = parse_query("invoice from:alice subject:report body:total to:bob@example.org")
    assert q.error == ""
    assert q.terms == (
        TextTerm(TextField.ANY, "invoice"),
        TextTerm(TextField.FROM, "alice"),
        TextTerm(TextField.SUBJECT, "report"),
        TextTerm(TextField.BODY, "total"),
        TextTerm(TextField.TO, "bob@example.org"),
    )


def test_quoted_phrases_with_and_without_field() -> None:
    q = parse_query('"quarterly report" subject:"Q3 plan" -"do not"')
    assert q.terms == (
        TextTerm(TextField.ANY, "quarterly report", phrase=True),
        TextTerm(TextField.SUBJECT, "Q3 plan", phrase=True),
        TextTerm(TextField.ANY, "do not", phrase=True, negated=True),
    )


def test_unterminated_quote_runs_to_the_end() -> None:
    assert parse_query('subject:"half open').terms == (
        TextTerm(TextField.SUBJECT, "half open", phrase=True),
    )


def test_flags_dates_folders_and_negation() -> None:
    q = parse_query(
        "is:unread -is:flagged has:attachment before:2024-06-01 after:2024-01-31 folder:Archive"
    )
    assert q.error == ""
    assert q.terms == (
        FlagTerm(Flag.UNREAD),
        FlagTerm(Flag.FLAGGED, negated=True),
        FlagTerm(Flag.ATTACHMENT),
        DateTerm(date(2024, 6, 1), before=True),
        DateTerm(date(2024, 1, 31), before=False),
        FolderTerm("Archive"),
    )
    assert q.folders() == ("Archive",)
    assert parse_query("is:read").terms == (FlagTerm(Flag.READ),)


def test_field_names_are_case_insensitive_values_keep_case() -> None:
    assert parse_query("FROM:Alice IS:Unread").terms == (
        TextTerm(TextField.FROM, "Alice"),
        FlagTerm(Flag.UNREAD),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "before:2024-13-01",
            "before:2024-13-01: before: takes a date like 2024-05-31",
        ),
        ("after:yesterday", "after:yesterday: after: takes a date like 2024-05-31"),
        ("is:important", "is:important: is: takes unread, read, flagged"),
        ("has:pdf", "has:pdf: has: takes attachment"),
        ("from:", "from: needs a value"),
    ],
)
def test_bad_terms_become_an_error_and_are_left_out(text: str, message: str) -> None:
    q = parse_query(f"hello {text}")
    assert q.error == message
    assert q.terms == (TextTerm(TextField.ANY, "hello"),)


def test_several_errors_are_all_reported() -> None:
    assert parse_query("is:x before:y").error.count(";") == 1


def test_unknown_prefixes_and_urls_are_plain_words() -> None:
    q = parse_query("https://example.org/a cc:bob -")
    assert q.terms == (
        TextTerm(TextField.ANY, "https://example.org/a"),
        TextTerm(TextField.ANY, "cc:bob"),
        TextTerm(TextField.ANY, "-"),
    )


def test_control_characters_never_reach_terms() -> None:
    q = parse_query("from:ev\x1b[31mil\r\nsubject:x")
    assert all("\x1b" not in t.text and "\r" not in t.text for t in q.text_terms())
    assert TextTerm(TextField.SUBJECT, "x") in q.terms


def test_empty_query() -> None:
    assert parse_query("   ").is_empty
    assert to_imap_search(parse_query("")) == "ALL"


def test_imap_criteria_for_every_kind_of_term() -> None:
    q = parse_query(
        'report from:alice to:bob subject:"Q3 plan" body:total is:unread -is:read '
        "is:flagged has:attachment before:2024-06-01 after:2024-02-05 folder:Archive"
    )
    assert to_imap_search(q) == (
        'TEXT "report" FROM "alice" OR TO "bob" CC "bob" SUBJECT "Q3 plan" BODY "total" UNSEEN '
        'NOT SEEN FLAGGED HEADER Content-Type "multipart/mixed" SENTBEFORE 1-Jun-2024 '
        "SENTSINCE 5-Feb-2024"
    )


def test_imap_negation_wraps_one_key() -> None:
    assert to_imap_search(parse_query("-from:spam -before:2020-01-01")) == (
        'NOT FROM "spam" NOT SENTBEFORE 1-Jan-2020'
    )


def test_imap_quoting_escapes_quotes_and_backslashes() -> None:
    q = Query((TextTerm(TextField.SUBJECT, 'say "hi" \\o/'),))
    assert to_imap_search(q) == 'SUBJECT "say \\"hi\\" \\\\o/"'


def test_non_ascii_text_stays_quoted_text_for_the_imap_layer() -> None:
    q = parse_query("from:Jürgen Grüße")
    assert to_imap_search(q) == 'FROM "Jürgen" TEXT "Grüße"'
    assert imap_string("plain") == '"plain"'


def test_criteria_go_through_the_imap_layer_as_literals() -> None:
    query = parse_query('from:Jürgen "liebe Grüße"')
    criteria = to_imap_search(
        Query((*query.terms, TextTerm(TextField.SUBJECT, 'say "hi" Grüße')))
    )
    # The IMAP layer sends each non-ASCII string as a UTF-8 literal and keeps the rest as written.
    assert criteria_parts(criteria) == [
        "FROM ",
        "Jürgen".encode(),
        " TEXT ",
        "liebe Grüße".encode(),
        " SUBJECT ",
        'say "hi" Grüße'.encode(),
    ]


def test_control_characters_never_reach_imap_criteria() -> None:
    q = Query((TextTerm(TextField.BODY, "a\r\nb\x00c"),))
    assert to_imap_search(q) == 'BODY "a  b c"'
    assert criteria_parts(to_imap_search(q)) == ['BODY "a  b c"']
