"""Snapshot tests of the screens at 80x24 and 120x40 (frozen clock, no cursor blink).

Regenerate with ``pytest --snapshot-update tests/ui`` and look at the SVGs before committing.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import settle


async def _message_in_reader(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("j")
    await settle(pilot)


async def _help_open(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("question_mark")
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_main_screen(snap_compare, make_app, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=_message_in_reader)


def test_main_screen_reading(snap_compare, make_app):
    async def read(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=read)


def test_main_screen_light_theme(snap_compare, make_app):
    assert snap_compare(make_app(theme="mailbag-light"), terminal_size=(80, 24), run_before=_message_in_reader)


def test_help_screen(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_help_open)
