"""Threading: reply chains group under their parents whatever order the messages arrive in."""

from __future__ import annotations

import itertools
import random

from mailbag.domain.threading import (
    ThreadNode,
    ThreadRecord,
    base_subject,
    build_threads,
    flatten,
    thread_members,
)


def rec(
    row_id: int,
    mid: str = "",
    refs: tuple[str, ...] = (),
    irt: str = "",
    subject: str = "",
    date: float | None = None,
) -> ThreadRecord:
    return ThreadRecord(
        row_id=row_id,
        message_id=mid,
        in_reply_to=irt,
        references=refs,
        subject=subject,
        date=float(row_id) if date is None else date,
    )


def shape(roots: list[ThreadNode]) -> set[tuple[int | None, tuple[int, ...]]]:
    """Every node as (its row id, its children's row ids sorted), dummies as None."""

    def rid(n: ThreadNode) -> int | None:
        return n.record.row_id if n.record else None

    out = set()
    for root in roots:
        for node in root.walk():
            out.add((rid(node), tuple(sorted(rid(c) or -1 for c in node.children))))
    return out


def display(rows: list) -> list[tuple[int, int]]:
    return [(r.row_id, r.depth) for r in rows]


CHAIN = [
    rec(1, "<a>", subject="Plan"),
    rec(2, "<b>", ("<a>",), "<a>", "Re: Plan"),
    rec(3, "<c>", ("<a>", "<b>"), "<b>", "Re: Plan"),
    rec(4, "<d>", ("<a>",), "<a>", "Re: Plan"),
    rec(5, "<e>", subject="Other"),
]


def test_reply_chain_nests_under_parents() -> None:
    rows = flatten(build_threads(CHAIN))
    # Newest thread first: the "Plan" thread's newest message (4) is older than "Other" (5).
    assert display(rows) == [(5, 0), (1, 0), (2, 1), (3, 2), (4, 1)]
    assert rows[1].has_children and not rows[0].has_children
    assert {r.thread for r in rows[1:]} == {"<a>"}


def test_every_arrival_order_gives_the_same_threads() -> None:
    expected = shape(build_threads(CHAIN))
    for order in itertools.permutations(CHAIN):
        roots = build_threads(order)
        assert shape(roots) == expected
        assert display(flatten(roots)) == [(5, 0), (1, 0), (2, 1), (3, 2), (4, 1)]


def test_missing_parent_becomes_a_dummy_joining_siblings() -> None:
    records = [
        rec(1, "<r1>", ("<gone>",), "<gone>", "Re: x"),
        rec(2, "<r2>", ("<gone>",), "<gone>", "Re: x"),
        rec(3, "<r3>", ("<gone>", "<r1>"), "<r1>", "Re: x"),
    ]
    roots = build_threads(records)
    assert len(roots) == 1 and roots[0].is_dummy and roots[0].key == "<gone>"
    # The dummy shows no row; its children stand at the top, oldest first.
    assert display(flatten(roots)) == [(1, 0), (3, 1), (2, 0)]
    assert sorted(thread_members(roots[0])) == [1, 2, 3]


def test_single_reply_to_a_missing_parent_is_its_own_root() -> None:
    roots = build_threads([rec(7, "<r>", ("<gone1>", "<gone2>"), "<gone2>")])
    assert [r.key for r in roots] == ["<r>"]
    assert display(flatten(roots)) == [(7, 0)]


def test_in_reply_to_alone_links_the_reply() -> None:
    roots = build_threads([rec(1, "<p>"), rec(2, "<q>", (), "<p>")])
    assert display(flatten(roots)) == [(1, 0), (2, 1)]


def test_reference_loops_do_not_hang_or_lose_messages() -> None:
    records = [
        rec(1, "<a>", ("<b>",), "<b>"),
        rec(2, "<b>", ("<a>",), "<a>"),
        rec(3, "<c>", ("<c>",), "<c>"),  # refers to itself
    ]
    for order in itertools.permutations(records):
        rows = flatten(build_threads(order))
        assert sorted(r.row_id for r in rows) == [1, 2, 3]


def test_duplicate_message_ids_keep_both_messages() -> None:
    records = [rec(1, "<same>"), rec(2, "<same>"), rec(3, "<r>", ("<same>",), "<same>")]
    rows = flatten(build_threads(records))
    assert sorted(r.row_id for r in rows) == [1, 2, 3]
    assert (3, 1) in display(rows)
    assert len({r.key for r in rows}) == 3


def test_messages_without_ids_are_separate_threads() -> None:
    rows = flatten(build_threads([rec(1), rec(2), rec(3)]))
    assert display(rows) == [(3, 0), (2, 0), (1, 0)]


def test_collapse_hides_replies_and_counts_them() -> None:
    rows = flatten(build_threads(CHAIN), collapsed={"<a>"})
    assert display(rows) == [(5, 0), (1, 0)]
    assert rows[1].collapsed and rows[1].hidden == 3
    # Collapsing a reply hides only its own subtree.
    rows = flatten(build_threads(CHAIN), collapsed={"<b>"})
    assert display(rows) == [(5, 0), (1, 0), (2, 1), (4, 1)]
    assert rows[2].hidden == 1


def test_collapsed_thread_still_sorts_by_its_newest_hidden_message() -> None:
    records = [rec(1, "<a>"), rec(2, "<z>"), rec(3, "<b>", ("<a>",), "<a>")]
    rows = flatten(build_threads(records), collapsed={"<a>"})
    assert display(rows) == [(1, 0), (2, 0)]


def test_oldest_first_order_of_threads() -> None:
    rows = flatten(build_threads(CHAIN), newest_first=False)
    assert [r.row_id for r in rows] == [1, 2, 3, 4, 5]


def test_undated_messages_sort_last() -> None:
    records = [
        ThreadRecord(1, "<a>", date=None),
        ThreadRecord(2, "<b>", date=100.0),
    ]
    assert [r.row_id for r in flatten(build_threads(records))] == [2, 1]


def test_subject_fallback_is_off_by_default() -> None:
    records = [
        rec(1, "<a>", subject="Lunch?"),
        rec(2, "<b>", subject="Re: Lunch?"),
        rec(3, "<c>", subject="RE: [team] lunch?"),
    ]
    assert len(build_threads(records)) == 3
    roots = build_threads(records, group_by_subject=True)
    assert len(roots) == 1
    assert display(flatten(roots)) == [(1, 0), (2, 1), (3, 1)]


def test_subject_fallback_joins_two_originals_under_a_dummy() -> None:
    roots = build_threads(
        [rec(1, "<a>", subject="Report"), rec(2, "<b>", subject="report")],
        group_by_subject=True,
    )
    assert len(roots) == 1 and roots[0].is_dummy
    assert display(flatten(roots)) == [(1, 0), (2, 0)]


def test_base_subject_strips_prefixes_and_tags() -> None:
    assert base_subject("Re: Fwd: [list] RE[2]: Hello  World") == "hello world"
    assert base_subject("Hello") == "hello"


def _big_folder(n: int) -> list[ThreadRecord]:
    rng = random.Random(7)
    records: list[ThreadRecord] = []
    for i in range(n):
        if records and rng.random() < 0.6:
            parent = records[rng.randrange(max(0, i - 2000), i)]
            refs = (*parent.references, parent.message_id)[-10:]
            records.append(rec(i, f"<m{i}>", refs, parent.message_id, "Re: s"))
        else:
            records.append(rec(i, f"<m{i}>", subject=f"s{i % 997}"))
    rng.shuffle(records)
    return records


def test_hundred_thousand_messages_are_all_threaded() -> None:
    records = _big_folder(100_000)
    rows = flatten(build_threads(records))  # how fast: python -m bench.parsing
    assert len(rows) == 100_000
    assert len({r.row_id for r in rows}) == 100_000
