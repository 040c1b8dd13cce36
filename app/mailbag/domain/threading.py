"""Conversation threading (the JWZ algorithm) and the display order of a threaded message list.

:func:`build_threads` links messages by ``References`` / ``In-Reply-To`` into a forest, inventing empty
("dummy") nodes for parents that are not in the list, and ignoring links that would make a loop. It does not
depend on the order the messages arrive in, beyond which of two messages that claim the same Message-ID
keeps it. :func:`flatten` turns the forest into list rows with a depth, honouring collapsed nodes.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from typing import NamedTuple


class ThreadRecord(NamedTuple):
    """What threading needs of one message. ``date`` is epoch seconds (None when unknown)."""

    row_id: int
    message_id: str = ""
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    subject: str = ""
    date: float | None = None


class ThreadNode:
    """One node of the forest: a message, or a dummy standing for a parent that is not in the list.

    ``key`` is stable for as long as the thread's messages are: the Message-ID, or ``"#<row_id>"`` for a
    message without one (or whose Message-ID another message already holds).
    """

    __slots__ = ("children", "key", "parent", "record")

    def __init__(self, key: str, record: ThreadRecord | None = None) -> None:
        self.key = key
        self.record = record
        self.parent: ThreadNode | None = None
        self.children: list[ThreadNode] = []

    def __repr__(self) -> str:
        return f"ThreadNode({self.key!r}, row={self.record.row_id if self.record else None})"

    @property
    def is_dummy(self) -> bool:
        return self.record is None

    def walk(self) -> Iterable[ThreadNode]:
        """This node and every node below it, depth first."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))


class ThreadRow(NamedTuple):
    """One row of the threaded list.

    ``thread`` is the key of the thread's root node (use it to act on a whole thread), ``key`` the key of
    this row's node (use it to collapse or expand), ``hidden`` how many messages a collapsed row hides.
    """

    row_id: int
    depth: int
    thread: str
    key: str
    has_children: bool
    collapsed: bool = False
    hidden: int = 0


_REPLY_PREFIX = re.compile(
    r"^(?:\s*(?:re|fwd?|aw|sv|vs|antw|wg|tr)(?:\s*\[\d+\])?\s*:|\s*\[[^\]]{1,40}\])+\s*",
    re.IGNORECASE,
)


def base_subject(subject: str) -> str:
    """The subject without reply/forward prefixes and list tags, case-folded, for grouping."""
    return " ".join(_REPLY_PREFIX.sub("", subject).split()).casefold()


def _is_reply_subject(subject: str) -> bool:
    return bool(_REPLY_PREFIX.match(subject))


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a big forest is built.

    Building allocates a node per message; without the pause, full collections triggered by those
    allocations rescan the whole heap again and again and triple the time on a large folder.
    Nothing built here is garbage until the caller drops it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _would_loop(parent: ThreadNode, child: ThreadNode) -> bool:
    """True when making ``child`` a child of ``parent`` would close a loop."""
    if parent is child:
        return True
    if not child.children:
        return False  # a leaf cannot be an ancestor of anything
    node: ThreadNode | None = parent
    while node is not None:
        if node is child:
            return True
        node = node.parent
    return False


def _link(parent: ThreadNode, child: ThreadNode) -> None:
    parent.children.append(child)
    child.parent = parent


def _node_for(table: dict[str, ThreadNode], message_id: str) -> ThreadNode:
    node = table.get(message_id)
    if node is None:
        node = table[message_id] = ThreadNode(message_id)
    return node


def build_threads(
    records: Iterable[ThreadRecord], group_by_subject: bool = False
) -> list[ThreadNode]:
    """Thread the messages; returns the root nodes (in no particular order: see :func:`flatten`).

    A message's parent is the last id of its own References (or its In-Reply-To); the earlier ids of a
    References chain only link nodes whose message is missing (dummies). So the result does not depend on the order
    messages arrive in, except for which of two messages claiming one Message-ID keeps it (the first).
    Dummy nodes are kept only where they join two or more messages at the top of a thread. With
    ``group_by_subject``, threads whose roots share a base subject (see :func:`base_subject`) are joined.
    """
    with _gc_paused():
        return _build(records, group_by_subject)


def _build(records: Iterable[ThreadRecord], group_by_subject: bool) -> list[ThreadNode]:
    table: dict[str, ThreadNode] = {}
    placed: list[ThreadNode] = []
    for record in records:
        mid = record.message_id
        if not mid or mid in table:
            mid = f"#{record.row_id}"  # no Message-ID, or a duplicate: thread it on its own key
        node = ThreadNode(mid, record)
        table[mid] = node
        placed.append(node)

    for node in placed:
        assert node.record is not None
        record = node.record
        refs = record.references
        irt = record.in_reply_to
        if irt and (not refs or (refs[-1] != irt and irt not in refs)):
            refs = (*refs, irt)
        if not refs:
            continue
        if record.message_id in refs or "" in refs:
            refs = tuple(r for r in refs if r and r != record.message_id)
            if not refs:
                continue
        # Walk the chain from the parent upwards; stop at a message (its own References place it)
        # or at a node some other message already placed.
        index = len(refs) - 1
        parent = _node_for(table, refs[index])
        if not _would_loop(parent, node):
            _link(parent, node)
        child = parent
        while index > 0 and child.record is None and child.parent is None:
            index -= 1
            parent = _node_for(table, refs[index])
            if _would_loop(parent, child):
                break
            _link(parent, child)
            child = parent

    roots = _prune(table.values())
    if group_by_subject:
        roots = _group_by_subject(roots)
    return roots


def _prune(nodes: Iterable[ThreadNode]) -> list[ThreadNode]:
    """Splice dummies out of the forest and return the roots.

    A dummy below a message gives its children to its parent; a dummy at the top stays only when it
    joins two or more messages. Splicing keeps every dummy's ``parent`` pointing at a live node.
    """
    top_dummies: list[ThreadNode] = []
    roots: list[ThreadNode] = []
    for node in nodes:
        if node.record is not None:
            if node.parent is None:
                roots.append(node)
            continue
        parent = node.parent
        if parent is None:
            top_dummies.append(node)
            continue
        parent.children.remove(node)
        for child in node.children:
            child.parent = parent
        parent.children.extend(node.children)
        node.children = []
        node.parent = None
    for dummy in top_dummies:
        if len(dummy.children) > 1:
            roots.append(dummy)
        elif dummy.children:
            only = dummy.children[0]
            only.parent = None
            dummy.children = []
            roots.append(only)
    return roots


def _group_by_subject(roots: list[ThreadNode]) -> list[ThreadNode]:
    """Join threads whose roots share a base subject (JWZ step 5)."""
    by_subject: dict[str, int] = {}  # base subject -> index in result
    result: list[ThreadNode] = []
    for root in roots:
        subject = _node_subject(root)
        index = by_subject.get(subject) if subject else None
        if index is None:
            if subject:
                by_subject[subject] = len(result)
            result.append(root)
        else:
            result[index] = _merge(result[index], root)
    return result


def _node_subject(node: ThreadNode) -> str:
    record = node.record or (node.children[0].record if node.children else None)
    return base_subject(record.subject) if record is not None else ""


def _node_is_reply(node: ThreadNode) -> bool:
    record = node.record or (node.children[0].record if node.children else None)
    return record is not None and _is_reply_subject(record.subject)


def _merge(held: ThreadNode, other: ThreadNode) -> ThreadNode:
    """Join two same-subject roots; returns the root that stands for both."""
    if held.is_dummy and other.is_dummy:
        for child in other.children:
            child.parent = held
        held.children.extend(other.children)
        other.children = []
        return held
    if held.is_dummy:
        _link(held, other)
        return held
    if other.is_dummy:
        _link(other, held)
        return other
    if not _node_is_reply(held) and _node_is_reply(other):
        _link(held, other)
        return held
    if _node_is_reply(held) and not _node_is_reply(other):
        _link(other, held)
        return other
    dummy = ThreadNode(f"~{held.key}")
    _link(dummy, held)
    _link(dummy, other)
    return dummy


def _row_key(node: ThreadNode) -> tuple[float, int]:
    """Sort key among siblings: date, then row id (dummies take their first child's)."""
    while node.record is None and node.children:
        node = min(node.children, key=_row_key)
    record = node.record
    if record is None:
        return (float("-inf"), -1)
    return (record.date if record.date is not None else float("-inf"), record.row_id)


def flatten(
    roots: Iterable[ThreadNode],
    collapsed: Collection[str] = frozenset(),
    newest_first: bool = True,
) -> list[ThreadRow]:
    """The forest in display order: threads by their newest message (newest first unless
    ``newest_first`` is False), replies below their parent, oldest first, one level deeper.

    A node whose key is in ``collapsed`` shows as one row hiding its descendants. Dummies show no row;
    their children stand at the dummy's depth.
    """
    with _gc_paused():
        return _flatten(roots, collapsed, newest_first)


def _flatten(
    roots: Iterable[ThreadNode], collapsed: Collection[str], newest_first: bool
) -> list[ThreadRow]:
    no_date = float("-inf")
    make_row = (
        tuple.__new__
    )  # ThreadRow without its Python-level __new__: this loop runs per message
    threads: list[tuple[float, int, list[ThreadRow]]] = []
    for root in roots:
        thread = root.key
        rows: list[ThreadRow] = []
        newest_date, newest_id = no_date, -1
        stack: list[tuple[ThreadNode, int]] = [(root, 0)]
        pop, push = stack.pop, stack.append
        while stack:
            node, depth = pop()
            record = node.record
            children = node.children
            if len(children) > 1:
                # Pushed newest first, so the oldest is popped (shown) first.
                children = sorted(children, key=_row_key, reverse=True)
            if record is None:
                for child in children:
                    push((child, depth))
                continue
            date = record.date
            if date is None:
                date = no_date
            if date > newest_date or (
                date == newest_date and record.row_id > newest_id
            ):
                newest_date, newest_id = date, record.row_id
            if not children:
                rows.append(
                    make_row(
                        ThreadRow,
                        (record.row_id, depth, thread, node.key, False, False, 0),
                    )
                )
                continue
            if node.key in collapsed:
                hidden = 0
                for below in node.walk():
                    below_record = below.record
                    if below is node or below_record is None:
                        continue
                    hidden += 1
                    date = below_record.date
                    if date is None:
                        date = no_date
                    if date > newest_date or (
                        date == newest_date and below_record.row_id > newest_id
                    ):
                        newest_date, newest_id = date, below_record.row_id
                rows.append(
                    ThreadRow(
                        record.row_id, depth, thread, node.key, True, True, hidden
                    )
                )
                continue
            rows.append(
                make_row(
                    ThreadRow, (record.row_id, depth, thread, node.key, True, False, 0)
                )
            )
            depth += 1
            for child in children:
                push((child, depth))
        threads.append((newest_date, newest_id, rows))
    threads.sort(key=lambda item: (item[0], item[1]), reverse=newest_first)
    return [row for _, _, rows in threads for row in rows]


def thread_members(root: ThreadNode) -> list[int]:
    """Row ids of every message of the thread under ``root`` (for acting on a whole thread)."""
    return [node.record.row_id for node in root.walk() if node.record is not None]
