"""Snapshot of the list of a message's links at 80x24 (frozen clock, no cursor blink).

Regenerate with ``pytest --snapshot-update tests/ui/test_snapshots_links.py`` and look at the SVG
before committing.
"""

from __future__ import annotations

from textual.pilot import Pilot

from mailbag.domain.events import EventSink
from mailbag.domain.mime import render_message
from mailbag.domain.models import Folder, FolderRole
from tests.ui.conftest import settle
from tests.ui.fake_facade import NOW, FakeFacade
from tests.ui.test_real_links import newsletter


def newsletter_facade(sink: EventSink) -> FakeFacade:
    """One HTML newsletter whose links hide a phishing one, a javascript: and a file: one."""
    facade = FakeFacade(sink)
    facade.add_folder(Folder("work", "INBOX", "/", FolderRole.INBOX, total=1, unread=0))
    row = facade.add_message("work", "INBOX", row_id=1, subject="Your parcel", sender="Shop",
                             sender_email="news@shop.example", date=NOW)
    raw = newsletter()
    facade.set_body(row, render_message(raw).body)
    facade.raw[("work", "INBOX", 1)] = raw
    return facade


def test_link_picker(snap_compare, make_app):
    async def listed(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        await pilot.press("ctrl+b")
        await settle(pilot)
        await pilot.press("2")
        await pilot.pause()

    assert snap_compare(make_app(newsletter_facade), terminal_size=(80, 24), run_before=listed)
