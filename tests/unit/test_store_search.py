"""Local search in the cache: what a user types after / finds the right messages, newest first."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from mailbag.domain.models import FLAGGED, SEEN, Address, Folder, MessageSummary
from mailbag.domain.search import parse_query
from mailbag.store.schema import FTS_TABLE
from mailbag.store.store import Store

ACCOUNT = "work"
INBOX = "INBOX"
ARCHIVE = "Archive/2024"
BASE = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def msg(
    uid: int,
    subject: str,
    sender: str = "Alice Example <alice@example.org>",
    **kw: object,
) -> MessageSummary:
    name, _, email = sender.partition(" <")
    values: dict[str, object] = {
        "date": BASE + timedelta(hours=uid),
        "subject": subject,
        "from_": (Address(name, email.rstrip(">")),),
        "to": (Address("Bob", "bob@example.org"),),
    }
    values.update(kw)
    return MessageSummary(uid=uid, **values)  # type: ignore[arg-type]


def mime(body: str, subject: str = "x") -> bytes:
    return (
        f"Subject: {subject}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    ).encode()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "cache.db")
    s.replace_folders(ACCOUNT, [Folder(ACCOUNT, INBOX), Folder(ACCOUNT, ARCHIVE)])
    s.upsert_summaries(
        ACCOUNT,
        INBOX,
        [
            msg(1, "Quarterly report draft", flags=frozenset({SEEN})),
            msg(2, "Lunch on Friday?", "Carol Café <carol@cafe.example>"),
            msg(
                3,
                "Re: Quarterly report draft",
                "Bob <bob@example.org>",
                flags=frozenset({FLAGGED}),
            ),
            msg(
                4,
                "Invoice 2024-17",
                "Billing <billing@shop.example>",
                has_attachment=True,
            ),
            msg(
                5,
                "Jürgen's Geburtstag",
                "Jürgen Groß <juergen@example.de>",
                cc=(Address("Dana", "dana@x.example"),),
            ),
        ],
    )
    s.upsert_summaries(
        ACCOUNT,
        ARCHIVE,
        [msg(10, "Old quarterly numbers", date=BASE - timedelta(days=400))],
    )
    s.put_body(ACCOUNT, INBOX, 1, mime("The revenue figures are attached.\r\nRegards"))
    s.put_body(ACCOUNT, INBOX, 2, mime("Shall we try the new ramen place?"))
    yield s
    s.close()


def uids(
    store: Store, text: str, folder: str | None = INBOX, limit: int = 100
) -> list[int]:
    rows = store.rows(store.search(ACCOUNT, parse_query(text), folder, limit))
    return [r.uid for r in rows]


def test_free_word_finds_subject_newest_first(store: Store) -> None:
    assert uids(store, "quarterly") == [3, 1]


def test_words_match_as_prefixes_and_ignore_case_and_accents(store: Store) -> None:
    assert uids(store, "QUART") == [3, 1]
    assert uids(store, "cafe") == [2]  # "Café" in the sender's name
    assert uids(store, "jurgen") == [5]


def test_every_word_must_match(store: Store) -> None:
    assert uids(store, "draft alice") == [1]  # msg 3 is from Bob
    assert uids(store, "quarterly lunch") == []


def test_field_terms(store: Store) -> None:
    assert uids(store, "from:carol") == [2]
    assert uids(store, "from:bob@example.org") == [3]
    assert uids(store, "to:dana") == [5]  # Cc counts as a recipient
    assert uids(store, "to:bob") == [5, 4, 3, 2, 1]
    assert uids(store, "subject:lunch") == [2]
    assert uids(store, "subject:alice") == []


def test_body_text_is_searched_once_cached(store: Store) -> None:
    assert uids(store, "body:revenue") == [1]
    assert uids(store, "ramen") == [2]
    assert uids(store, "subject:ramen") == []
    # The index holds the rendered text, not raw MIME headers.
    assert uids(store, "body:charset") == []


def test_quoted_phrase_needs_the_words_in_order(store: Store) -> None:
    assert uids(store, '"report draft"') == [3, 1]
    assert uids(store, '"draft report"') == []
    assert uids(store, '"repo draft"') == []  # phrases do not match prefixes


def test_negation(store: Store) -> None:
    assert uids(store, "quarterly -from:bob") == [1]
    assert uids(store, "-quarterly") == [5, 4, 2]
    assert uids(store, "-is:read -has:attachment") == [5, 3, 2]


def test_flags(store: Store) -> None:
    assert uids(store, "is:unread") == [5, 4, 3, 2]
    assert uids(store, "is:read") == [1]
    assert uids(store, "is:flagged") == [3]
    assert uids(store, "has:attachment") == [4]


def test_dates_use_the_message_day(store: Store) -> None:
    assert uids(store, "after:2024-05-01 before:2024-05-02") == [5, 4, 3, 2, 1]
    assert uids(store, "before:2024-05-01") == []
    # 2024-05-01 12:00 UTC + 13 h is already May 2 in UTC, but May 1 in the sender's zone.
    late = msg(
        20,
        "late",
        date=datetime(2024, 5, 1, 23, 30, tzinfo=timezone(timedelta(hours=-2))),
    )
    store.upsert_summaries(ACCOUNT, INBOX, [late])
    assert 20 in uids(store, "before:2024-05-02")
    assert 20 not in uids(store, "after:2024-05-02")


def test_folders(store: Store) -> None:
    assert uids(store, "quarterly", folder=None) == [3, 1, 10]
    assert uids(store, "quarterly", folder=ARCHIVE) == [10]
    assert uids(store, "quarterly folder:2024") == [10]  # the last component is enough
    assert uids(store, "quarterly folder:inbox", folder=ARCHIVE) == [3, 1]
    assert uids(store, "quarterly -folder:Archive/2024", folder=None) == [3, 1]
    assert uids(store, "quarterly folder:nowhere") == []
    assert store.search("other-account", parse_query("quarterly"), None, 10) == []


def test_limit_keeps_the_newest(store: Store) -> None:
    assert uids(store, "to:bob", limit=2) == [5, 4]


def test_terms_without_letters_and_bad_terms_are_ignored(store: Store) -> None:
    assert uids(store, "quarterly - ! is:bogus") == [3, 1]


def test_index_follows_header_changes_and_removals(store: Store) -> None:
    store.upsert_summaries(ACCOUNT, INBOX, [msg(2, "Dinner on Friday?")])
    assert uids(store, "lunch") == []
    assert uids(store, "dinner") == [2]
    assert uids(store, "ramen") == [2]  # the body text stays with the message
    store.update_flags(ACCOUNT, INBOX, [(2, frozenset({SEEN}))])
    assert uids(store, "dinner is:read") == [2]
    store.remove_uids(ACCOUNT, INBOX, [2])
    assert uids(store, "dinner") == []
    store.reset_folder(ACCOUNT, INBOX)
    assert uids(store, "quarterly", folder=None) == [10]


def test_removed_rows_leave_nothing_in_the_index(store: Store, tmp_path: Path) -> None:
    store.remove_uids(ACCOUNT, INBOX, [1, 2])
    store.replace_folders(ACCOUNT, [Folder(ACCOUNT, INBOX)])  # drops the archive folder
    store.upsert_summaries(ACCOUNT, INBOX, [msg(30, "fresh")])
    while store.index_pending():
        pass
    with closing(sqlite3.connect(tmp_path / "cache.db")) as raw:
        indexed = {r[0] for r in raw.execute(f"SELECT rowid FROM {FTS_TABLE}")}
        live = {r[0] for r in raw.execute("SELECT id FROM messages")}
        assert indexed == live
        assert raw.execute(
            f"SELECT count(*) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH 'ramen'"
        ).fetchone() == (0,)


def test_copied_messages_keep_their_body_text(store: Store) -> None:
    store.copy_to(ACCOUNT, INBOX, ARCHIVE, {2: 77})
    assert uids(store, "ramen", folder=ARCHIVE) == [77]


def test_a_sync_leaves_indexing_for_later_and_a_search_catches_up(store: Store) -> None:
    store.upsert_summaries(ACCOUNT, INBOX, [msg(uid, f"Offsite plan {uid}") for uid in range(40, 50)])
    assert store.index_backlog() >= 10  # the write did not wait for the index
    assert uids(store, "offsite") == list(range(49, 39, -1))  # the search indexed them first
    assert store.index_backlog() == 0


def test_indexing_in_batches_reaches_every_message(store: Store) -> None:
    store.upsert_summaries(ACCOUNT, INBOX, [msg(uid, f"Batch {uid}") for uid in range(100, 130)])
    covered = []
    while (n := store.index_pending(limit=7)) > 0:
        covered.append(n)
    assert max(covered) == 7
    assert store.index_backlog() == 0
    assert len(uids(store, "batch")) == 30


def test_a_body_cached_before_its_row_is_indexed_stays_searchable(store: Store) -> None:
    store.upsert_summaries(ACCOUNT, INBOX, [msg(60, "Boat trip")])
    store.put_body(ACCOUNT, INBOX, 60, mime("We sail at dawn from the harbour."))
    while store.index_pending():  # the batch must not overwrite the row put_body indexed
        pass
    assert uids(store, "harbour") == [60]
    assert uids(store, "boat") == [60]


def test_a_removed_newest_row_does_not_hide_the_next_message_from_search(store: Store) -> None:
    store.upsert_summaries(ACCOUNT, INBOX, [msg(70, "Alpha newsletter")])
    assert uids(store, "alpha") == [70]  # indexed, the mark now covers its id
    store.remove_uids(ACCOUNT, INBOX, [70])
    store.upsert_summaries(ACCOUNT, INBOX, [msg(71, "Omega newsletter")])  # must get a new id
    assert uids(store, "omega") == [71]


@pytest.mark.parametrize(
    "text",
    [
        "quarterly",
        "quarterly -draft",
        "from:carol is:unread",
        "report is:read",
        '"report draft"',
        "folder:2024 quarterly",
    ],
)
def test_both_ways_of_running_a_search_find_the_same_messages(
    store: Store, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mailbag.store import search

    ways: list[bool] = []
    build = search.build_search_sql

    def spy(*args: object, from_matches: bool = False, **more: object) -> object:
        ways.append(from_matches)
        return build(*args, from_matches=from_matches, **more)  # type: ignore[arg-type]

    monkeypatch.setattr(search, "build_search_sql", spy)
    from_matches = uids(store, text, folder=None)  # few matches: they drive the query
    monkeypatch.setattr(search, "FTS_FIRST_LIMIT", 0)  # as if there were many
    assert uids(store, text, folder=None) == from_matches
    assert ways == [True, False]
