"""The whole app (UI + services + cache) against the private Dovecot, driven with keys."""

from __future__ import annotations

import asyncio
import socket

from mailbag.domain.config import AccountConfig, Config, ServerConfig
from mailbag.services.imap_account import ImapAccount
from mailbag.services.mail import MailService
from mailbag.store.store import Store
from mailbag.ui.app import MailbagApp
from tests.integration.accounts import imap_account_config, other_client
from tests.servers.messages import make_message, subject_of
from tests.ui.helpers import cursor_subject, list_line, status_text


async def wait_until(pilot, predicate, timeout: float = 20.0) -> None:
    """Let the app run until ``predicate()`` holds (network work takes real time)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the app did not get there in time")
        await pilot.pause(0.05)


def build_app(config: Config, store: Store) -> MailbagApp:
    return MailbagApp(lambda sink: MailService(config, store, sink))


def server_flags(dovecot, user, uid: int) -> bytes:
    other = other_client(dovecot, user)
    other.select("INBOX", readonly=True)
    _, data = other.uid("FETCH", str(uid), "(FLAGS)")
    other.logout()
    return data[0]


async def test_open_move_read_marks_read_on_server(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i, size=800) for i in range(40)))
    account = imap_account_config(dovecot, mail_user)
    config = Config(path=None, accounts={"work": account})
    store = Store.open(tmp_path / "cache.db")
    app = build_app(config, store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.main_screen
        await wait_until(pilot, lambda: screen.message_list.current_row is not None)
        await wait_until(pilot, lambda: len(store.message_index("work", "INBOX")) == 40)
        assert cursor_subject(app) == subject_of(39)  # newest first
        text, style = list_line(app, 0)
        assert style.bold  # unread
        await pilot.press("j", "j")
        assert cursor_subject(app) == subject_of(37)
        await pilot.press("enter")
        row = screen.message_list.current_row
        assert row is not None
        await wait_until(pilot, lambda: "From:" in str(screen.reader.header.render()))
        await wait_until(pilot, lambda: subject_of(37) in str(screen.reader.header.render()))
        await wait_until(pilot, lambda: b"\\Seen" in server_flags(dovecot, mail_user, row.uid))
        assert not list_line(app, 2)[1].bold
        assert "online" in status_text(app)
        await pilot.press("q")
    store.close()


async def test_second_start_shows_cache_before_the_server_answers(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(30)))
    store = Store.open(tmp_path / "cache.db")
    first = build_app(Config(path=None, accounts={"work": imap_account_config(dovecot, mail_user)}), store)
    async with first.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: store.counts("work", "INBOX") == (30, 30))
        await wait_until(pilot, lambda: "INBOX 30" in str(first.main_screen.folder_tree._folders[("work", "INBOX")].label))
        await pilot.press("q")

    # A server that accepts the connection and never says a word: the list must still show at once.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    host, port = silent.getsockname()
    stalled = AccountConfig(
        name="work", email=mail_user.email, default=True,
        imap=ServerConfig(host=host, port=port, security="none", username="x", password_env=None),
    )
    second = build_app(Config(path=None, accounts={"work": stalled}), store)
    async with second.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: second.main_screen.message_list.current_row is not None, 5)
        assert cursor_subject(second) == subject_of(29)
        assert "INBOX 30" in str(second.main_screen.folder_tree._folders[("work", "INBOX")].label)
        assert "online" not in status_text(second)
        await pilot.press("q")
    silent.close()
    store.close()


async def test_delivery_shows_in_running_app_without_input(dovecot, mail_user, tmp_path):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(5)))
    config = Config(path=None, accounts={"work": imap_account_config(dovecot, mail_user)})
    store = Store.open(tmp_path / "cache.db")
    app = build_app(config, store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.main_screen
        def label() -> str:
            node = screen.folder_tree._folders.get(("work", "INBOX"))
            return str(node.label) if node is not None else ""

        await wait_until(pilot, lambda: label() == "INBOX 5")
        assert isinstance(app.facade, MailService)
        worker = app.facade.workers["work"]
        assert isinstance(worker, ImapAccount)
        await wait_until(pilot, lambda: worker.watcher is not None and worker.watcher.ready.is_set())
        dovecot.deliver(mail_user.name, make_message(77))
        # the new message shows on top, under the cursor that was watching the top, with no key
        # pressed (how fast is a figure of the bench: new mail to the row on screen)
        await wait_until(pilot, lambda: subject_of(77) in list_line(app, 0)[0])
        assert cursor_subject(app) == subject_of(77)
        await wait_until(pilot, lambda: label() == "INBOX 6")
        assert "new" in status_text(app).lower()
        await pilot.press("q")
    store.close()
