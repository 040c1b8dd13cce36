"""Keys typed into a field that has just opened reach the field, over the real services."""

from __future__ import annotations

from textual import events

from mailbag.store.store import Store
from mailbag.ui.app import MailbagApp
from tests.ui.real_services import maildir_config, running, service, simple_message, wait_until


def burst(app: MailbagApp, *keys: str) -> None:
    """Keys arriving in one read from the terminal: all queued before the app handles the first."""
    for key in keys:
        char = {"slash": "/", "space": " "}.get(key, key if len(key) == 1 else None)
        event = events.Key(key, char)
        event.set_sender(app)
        app.post_message(event)


async def test_letters_typed_right_after_slash_go_to_the_search_field(tmp_path):
    config = maildir_config(tmp_path / "Mail", [simple_message(n, sender="Dave <dave@example.test>") for n in range(5)])
    async with running(config, tmp_path / "cache.sqlite3", 5, size=(100, 30)) as (app, pilot, store):
        await pilot.press("slash", "d", "a", "v", "e")
        assert app.main_screen.search_bar.value == "dave"
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.main_screen.message_list.has_focus, "list focused")
        burst(app, "slash", "d", "a", "v", "e")
        await wait_until(pilot, lambda: app.main_screen.search_bar.value == "dave", "the field holds dave")
        await pilot.pause()
        assert service(app).triage_requests() == []
        assert app.main_screen.message_list.row_count == 5
        await pilot.press("escape")


async def test_letters_typed_right_after_m_go_to_the_folder_filter(tmp_path):
    config = maildir_config(tmp_path / "Mail", [simple_message(n) for n in range(3)])
    async with running(config, tmp_path / "cache.sqlite3", 3, size=(100, 30)) as (app, pilot, store):
        burst(app, "m", "a", "r", "c")
        await wait_until(pilot, lambda: app.screen is not app.main_screen, "the picker is open")
        await wait_until(pilot, lambda: getattr(app.screen, "shown", None) == ["Archive"], "filtered")
        await pilot.pause()
        assert service(app).triage_requests() == []
        await pilot.press("escape")
        assert app.main_screen.message_list.row_count == 3
