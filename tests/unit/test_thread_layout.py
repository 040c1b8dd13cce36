"""The tree thread view draws before each reply, as mutt draws it."""

from __future__ import annotations

from mailbag.ui.threads import ThreadLayout


def test_branches_tell_siblings_from_nested_replies_and_close_each_level():
    # A
    # ├─B
    # │ ├─C
    # │ │ └─D
    # │ └─E
    # └─F
    #   └─G
    # H (a thread of its own)
    depths = [0, 1, 2, 3, 2, 1, 2, 0]
    layout = ThreadLayout(range(1, 9), depths)
    drawn = [layout.branches(i, 10) for i in range(len(depths))]
    assert drawn == ["", "├─", "│ ├─", "│ │ └─", "│ └─", "└─", "  └─", ""]


def test_deep_branches_keep_their_innermost_levels_after_an_ellipsis():
    depths = [0, *range(1, 31)]
    layout = ThreadLayout(range(len(depths)), depths)
    assert layout.branches(30, 4) == "…     └─"
    assert layout.branches(3, 4) == "    └─"


def test_collapsing_another_thread_keeps_the_branches():
    layout = ThreadLayout(range(1, 8), [0, 1, 1, 0, 1, 2, 1])
    layout.toggle(0)
    assert [layout.branches(i, 10) for i in range(len(layout.ids))] == ["", "", "├─", "│ └─", "└─"]
