"""A key may be bound twice only where the two bindings are never in reach at once."""

from __future__ import annotations

import pytest

from mailbag.ui.keymap import KeymapError, validate_keymap


def test_a_key_of_another_screen_is_free_to_take() -> None:
    # y copies a link in the list of links; on the main screen it is free.
    assert validate_keymap({"archive": "y"}) == {"archive": "y"}
    assert validate_keymap({"links_open": "x", "send": "x"}) == {"links_open": "x", "send": "x"}


@pytest.mark.parametrize(
    ("keymap", "holder"),
    [
        ({"links_copy": "o"}, "links_open"),  # the same screen
        ({"links_copy": "question_mark"}, "help"),  # the app's keys are in reach everywhere
        ({"archive": "d"}, "delete"),
    ],
)
def test_a_key_in_reach_of_another_binding_is_refused(keymap: dict[str, str], holder: str) -> None:
    with pytest.raises(KeymapError, match=f"already bound to {holder}"):
        validate_keymap(keymap)
