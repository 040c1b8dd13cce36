"""The reader shows the body of the message under the cursor, over the real services."""

from __future__ import annotations

from mailbag.domain.config import Config
from tests.integration.accounts import imap_account_config
from tests.ui.helpers import cursor_subject, screen_text
from tests.ui.real_services import maildir_config, running, reader_text, simple_message, wait_until


def shows(app, n: int) -> bool:
    """The reader shows message ``n``: its subject in the header, its body on the screen."""
    header, body = reader_text(app)
    return f"Message {n}" in header and f"body of message {n}." in body and f"message {n}." in screen_text(app)


async def test_the_reader_follows_the_cursor_after_archive_and_undo(tmp_path):
    config = maildir_config(tmp_path / "Mail", [simple_message(n) for n in range(4)])
    async with running(config, tmp_path / "cache.sqlite3", 4, size=(100, 40)) as (app, pilot, store):
        await pilot.press("enter")  # message 3 (the newest) in the reader, which has the focus
        await wait_until(pilot, lambda: shows(app, 3), "message 3 shown")
        await pilot.press("a")
        await wait_until(pilot, lambda: app.main_screen.message_list.row_count == 3, "archived")
        await wait_until(pilot, lambda: shows(app, 2), "message 2 shown after the archive")
        await pilot.press("u")
        await wait_until(pilot, lambda: app.main_screen.message_list.row_count == 4, "undone")
        await pilot.press("h")  # back to the list
        await pilot.press("g")
        await wait_until(pilot, lambda: shows(app, 3), "message 3 again")
        await pilot.press("j")
        await wait_until(pilot, lambda: shows(app, 2), "message 2 after j")
        await pilot.press("j")
        await wait_until(pilot, lambda: shows(app, 1), "message 1 after j")
        await pilot.press("k")
        await wait_until(pilot, lambda: shows(app, 2), "message 2 after k")


async def test_the_reader_shows_the_message_after_one_with_an_empty_body(tmp_path):
    inbox = [simple_message(1), simple_message(2, body=""), simple_message(3)]
    config = maildir_config(tmp_path / "Mail", inbox)
    async with running(config, tmp_path / "cache.sqlite3", 3, size=(100, 40)) as (app, pilot, store):
        await wait_until(pilot, lambda: shows(app, 3), "message 3 shown")
        await pilot.press("j")
        await wait_until(pilot, lambda: "Message 2" in reader_text(app)[0] and "Loading" not in screen_text(app),
                         "the empty message")
        assert reader_text(app)[1].strip() == ""
        await pilot.press("j")
        await wait_until(pilot, lambda: shows(app, 1), "message 1 after the empty one")
        await pilot.press("k", "k")
        await wait_until(pilot, lambda: shows(app, 3), "message 3 again")


async def test_the_reader_shows_a_body_under_a_huge_header(tmp_path):
    huge_subject = "Message 2 " + "x" * 1_000_000
    folded = "Message 1 " + "\r\n ".join(["word" * 20] * 2500)  # a 200 KB folded header
    first = simple_message(1).replace(b"Subject: Message 1", b"Subject: " + folded.encode())
    inbox = [first, simple_message(2, subject=huge_subject), simple_message(3)]
    config = maildir_config(tmp_path / "Mail", inbox)
    async with running(config, tmp_path / "cache.sqlite3", 3, size=(100, 40)) as (app, pilot, store):
        seen = set()
        for key in ("g", "j", "j", "k", "k"):
            await pilot.press(key)
            n = int(cursor_subject(app).split()[1])
            await wait_until(pilot, lambda: shows(app, n), f"message {n}")
            seen.add(n)
        assert seen == {1, 2, 3}


async def test_a_body_that_failed_to_load_says_so_and_loads_when_asked_again(tmp_path):
    root = tmp_path / "Mail"
    config = maildir_config(root, [simple_message(1), simple_message(2)])
    (file,) = [p for p in root.glob("*/*") if p.is_file() and b"<m1@" in p.read_bytes()]
    async with running(config, tmp_path / "cache.sqlite3", 2, size=(100, 40)) as (app, pilot, store):
        await wait_until(pilot, lambda: shows(app, 2), "message 2 shown")
        hidden = file.rename(tmp_path / "away")  # the file cannot be read for a while
        file.mkdir()
        await pilot.press("j")
        await wait_until(pilot, lambda: "could not be loaded" in screen_text(app), "the failure shown")
        assert "Loading" not in screen_text(app)
        file.rmdir()
        hidden.rename(file)  # it can be read again
        await pilot.press("enter")
        await wait_until(pilot, lambda: shows(app, 1), "message 1 loaded on Enter")


async def test_a_body_that_failed_while_its_account_was_offline_loads_once_it_is_back(tmp_path):
    """The file could not be read, so the account went offline; once it is connected again the
    reader asks for the body by itself (no key needed)."""
    root = tmp_path / "Mail"
    config = maildir_config(root, [simple_message(1), simple_message(2)])
    (file,) = [p for p in root.glob("*/*") if p.is_file() and b"<m1@" in p.read_bytes()]
    async with running(config, tmp_path / "cache.sqlite3", 2, size=(100, 40)) as (app, pilot, store):
        await wait_until(pilot, lambda: shows(app, 2), "message 2 shown")
        hidden = file.rename(tmp_path / "away")
        file.mkdir()
        await pilot.press("j")
        await wait_until(pilot, lambda: "could not be loaded" in screen_text(app), "the failure shown")
        file.rmdir()
        hidden.rename(file)
        await wait_until(pilot, lambda: shows(app, 1), "message 1 loaded once the account is back")


async def test_bodies_fetched_from_dovecot_show_under_huge_headers(dovecot, mail_user, tmp_path):
    """Over IMAP each body is fetched when its message is first shown (LoadBody, then BodyLoaded)."""
    huge_subject = "Message 2 " + "x" * 1_000_000
    folded = "Message 1 " + "\r\n ".join(["word" * 20] * 2500)
    first = simple_message(1).replace(b"Subject: Message 1", b"Subject: " + folded.encode())
    empty = simple_message(4, body="")
    dovecot.deliver_many(mail_user.name, [first, simple_message(2, subject=huge_subject), simple_message(3), empty])
    config = Config(path=None, accounts={"home": imap_account_config(dovecot, mail_user, name="home")})
    async with running(config, tmp_path / "cache.sqlite3", 4, size=(100, 40)) as (app, pilot, store):
        seen = set()
        for key in ("g", "j", "j", "j", "k", "k", "k"):
            await pilot.press(key)
            n = int(cursor_subject(app).split()[1])
            if n == 4:
                await wait_until(pilot, lambda: "Message 4" in reader_text(app)[0] and not reader_text(app)[1].strip()
                                 and "Loading" not in screen_text(app), "the empty message")
            else:
                await wait_until(pilot, lambda: shows(app, n), f"message {n}")
            seen.add(n)
        assert seen == {1, 2, 3, 4}
