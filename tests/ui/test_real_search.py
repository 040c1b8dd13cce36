"""Search over the real services: in a folder, and in the virtual folders that span accounts."""

from __future__ import annotations

from textual.pilot import Pilot

from mailbag.domain.config import Config
from mailbag.domain.requests import Search
from mailbag.store.store import Store
from mailbag.ui.app import MailbagApp
from tests.integration.accounts import imap_account_config
from tests.ui.helpers import cursor_subject, status_text
from tests.ui.real_services import maildir_config, running, service, simple_message, wait_until


async def open_in_tree(pilot: Pilot, app: MailbagApp, label: str) -> None:
    """Go to the folder tree and open the entry labelled ``label`` with keys."""
    tree = app.main_screen.folder_tree
    await pilot.press("h")
    await wait_until(pilot, lambda: tree.has_focus, "the tree has the focus")
    await pilot.press("g")
    for _ in range(20):
        node = tree.cursor_node
        if node is not None and label in str(node.label):
            break
        await pilot.press("j")
    await pilot.press("enter")
    await wait_until(pilot, lambda: label in status_text(app), f"{label} open")


def inbox() -> list[bytes]:
    return [simple_message(n, sender="Dave <dave@example.test>" if n % 2 else "Eve <eve@example.test>")
            for n in range(6)]


async def search_for_dave(pilot: Pilot, app: MailbagApp) -> None:
    await pilot.press("slash", "d", "a", "v", "e", "enter")
    await wait_until(pilot, lambda: "Search: dave — 3 results" in status_text(app), "three results")
    await wait_until(pilot, lambda: not app.main_screen.workers, "the search is done")


async def test_enter_on_a_search_in_all_inboxes_searches_every_account(tmp_path):
    config = maildir_config(tmp_path / "Mail", inbox(), second=tmp_path / "Other")
    async with running(config, tmp_path / "cache.sqlite3", 6, size=(100, 30)) as (app, pilot, store):
        await open_in_tree(pilot, app, "All inboxes")
        await wait_until(pilot, lambda: app.main_screen.message_list.row_count == 6, "the unified inbox")
        await search_for_dave(pilot, app)
        searches = [r for r in service(app).requests if isinstance(r, Search)]
        assert sorted(r.account for r in searches) == ["home", "other"]
        assert app.is_running
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.main_screen.message_list.row_count == 6, "back to the inbox")


async def test_enter_on_a_search_in_a_saved_search(tmp_path):
    config = maildir_config(tmp_path / "Mail", inbox(), searches={"Unread": "is:unread"})
    async with running(config, tmp_path / "cache.sqlite3", 6, size=(100, 30)) as (app, pilot, store):
        await open_in_tree(pilot, app, "Unread")
        await wait_until(pilot, lambda: app.main_screen.message_list.row_count == 6, "the saved search")
        await search_for_dave(pilot, app)
        assert [r.account for r in service(app).requests if isinstance(r, Search)] == ["home"]


async def test_a_server_search_finds_words_in_bodies_not_cached(dovecot, mail_user, tmp_path):
    words = {2: "the zebra crossing"}
    dovecot.deliver_many(mail_user.name, [simple_message(n, body=words.get(n)) for n in range(5)])
    config = Config(path=None, accounts={"home": imap_account_config(dovecot, mail_user, name="home")})
    async with running(config, tmp_path / "cache.sqlite3", 5) as (app, pilot, store):
        assert store.body("home", "INBOX", 3) is None  # only the message under the cursor is read
        await pilot.press("slash", *"zebra")
        await wait_until(pilot, lambda: "Search: zebra — 0 results" in status_text(app), "nothing in the cache")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Search: zebra — 1 result" in status_text(app), "the server's match")
        assert cursor_subject(app) == "Message 2"
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.main_screen.message_list.row_count == 5, "back to the Inbox")
