"""Keys typed into a field that has just opened reach the field, over the real services."""

from __future__ import annotations

from textual import events

from mailbag.store.store import Store
from mailbag.ui.app import MailbagApp
from tests.ui.real_services import maildir_config, ready, real_app, running, service, simple_message, wait_until


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


async def test_q_typed_just_before_m_or_slash_quits(tmp_path):
    config = maildir_config(tmp_path / "Mail", [simple_message(n) for n in range(3)])
    for opener in ("m", "C", "slash"):
        store = Store.open(tmp_path / f"cache-{opener}.sqlite3")
        app = real_app(config, store)
        try:
            async with app.run_test(size=(100, 30)) as pilot:
                await ready(pilot, app, 3)
                burst(app, "q", opener, "a")
                await wait_until(pilot, lambda: app.return_code is not None, f"q before {opener} quits")
                assert app.screen is app.main_screen  # nothing was opened on the way out
                assert not app.main_screen.search_bar.is_open
                assert service(app).triage_requests() == []
        finally:
            store.close()


async def test_keys_after_esc_in_the_search_field_are_keys_again(tmp_path):
    config = maildir_config(tmp_path / "Mail", [simple_message(n, sender="Dave <dave@example.test>") for n in range(3)])
    store = Store.open(tmp_path / "cache.sqlite3")
    app = real_app(config, store)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await ready(pilot, app, 3)
            burst(app, "slash", "q", "u", "i", "t", "escape", "q")
            await wait_until(pilot, lambda: app.return_code is not None, "q after Esc quits")
            assert app.main_screen.search_bar.value == "quit"  # the q typed in the field stayed a letter
    finally:
        store.close()


async def test_q_typed_in_the_folder_filter_is_a_letter_and_help_opens_before_a_later_key(tmp_path):
    config = maildir_config(tmp_path / "Mail", [simple_message(n) for n in range(3)], more={"Quotes": []})
    async with running(config, tmp_path / "cache.sqlite3", 3, size=(100, 30)) as (app, pilot, store):
        burst(app, "m", "q", "u")
        await wait_until(pilot, lambda: getattr(app.screen, "shown", None) == ["Quotes"], "filtered by qu")
        assert app.return_code is None
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.main_screen, "picker closed")
        burst(app, "question_mark", "slash", "d")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "HelpScreen", "help open")
        await pilot.pause()
        assert not app.main_screen.search_bar.is_open  # / and d went to the help screen
        await pilot.press("escape")
        assert service(app).triage_requests() == []
