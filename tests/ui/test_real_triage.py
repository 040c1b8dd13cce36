"""Every triage key, undo and folder switch, pressed in the app over the real services, with
what the mail store then holds checked: a Maildir account, and an IMAP account on the private
Dovecot."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from email import message_from_bytes
from pathlib import Path

import pytest
from textual.pilot import Pilot

from mailbag.domain.config import Config
from mailbag.domain.models import FLAGGED, SEEN
from mailbag.protocols.maildir import MaildirStore
from mailbag.ui.app import MailbagApp
from tests.integration.accounts import imap_account_config, other_client
from tests.servers.dovecot import DovecotServer, MailUser
from tests.ui.helpers import cursor_subject, status_text
from tests.ui.real_services import maildir_config, running, simple_message, wait_until

#: Message-ID -> flags, per folder: what the mail store holds.
State = dict[str, dict[str, frozenset[str]]]
FOLDERS = ("INBOX", "Archive", "Junk", "Trash")
COUNT = 8


class Backend:
    """Where the account's mail lives, and how to read it back as another program would."""

    config: Config

    def state(self) -> State:
        raise NotImplementedError


class MaildirBackend(Backend):
    def __init__(self, root: Path) -> None:
        self.root = root
        self.config = maildir_config(root, [simple_message(n) for n in range(COUNT)])

    def state(self) -> State:
        store = MaildirStore(self.root, "home")
        result: State = {}
        for folder in FOLDERS:
            result[folder] = {
                str(message_from_bytes(store.read(folder, uid))["Message-ID"]): flags
                for uid, flags in store.flags(folder).items()
            }
        return result


class DovecotBackend(Backend):
    def __init__(self, dovecot: DovecotServer, user: MailUser) -> None:
        self.dovecot, self.user = dovecot, user
        dovecot.deliver_many(user.name, [simple_message(n) for n in range(COUNT)])
        self.config = Config(path=None, accounts={"home": imap_account_config(dovecot, user, name="home")})

    def state(self) -> State:
        client = other_client(self.dovecot, self.user)
        result: State = {}
        try:
            for folder in FOLDERS:
                client.select(f'"{folder}"', readonly=True)
                _, data = client.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
                messages: dict[str, frozenset[str]] = {}
                for item in data:
                    if isinstance(item, tuple):
                        meta, header = item
                        flags = meta.split(b"FLAGS (", 1)[1].split(b")", 1)[0].decode().split()
                        mid = header.decode().split(":", 1)[1].strip()
                        messages[mid] = frozenset(f for f in flags if f != "\\Recent")
                result[folder] = messages
        finally:
            client.logout()
        return result


@pytest.fixture(params=["maildir", "dovecot"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "maildir":
        yield MaildirBackend(tmp_path / "Mail")
    else:
        yield DovecotBackend(request.getfixturevalue("dovecot"), request.getfixturevalue("mail_user"))


def mid(n: int) -> str:
    return f"<m{n}@example.test>"


async def go_to(pilot: Pilot, app: MailbagApp, n: int) -> None:
    """Put the list cursor on message ``n`` with keys."""
    await pilot.press("g")
    for _ in range(COUNT):
        if cursor_subject(app) == f"Message {n}":
            return
        await pilot.press("j")
    raise AssertionError(f"message {n} is not in the list")


async def test_every_triage_key_reaches_the_mail_store(backend: Backend, tmp_path: Path) -> None:
    async def holds(what: str, check: Callable[[State], bool]) -> None:
        await wait_until(pilot, lambda: check(backend.state()), what)

    async with running(backend.config, tmp_path / "cache.sqlite3", COUNT) as (app, pilot, _store):
        listing = app.main_screen.message_list
        assert cursor_subject(app) == "Message 7"  # newest first

        await pilot.press("N")
        await holds("N marks read", lambda s: SEEN in s["INBOX"][mid(7)])
        await pilot.press("F")
        await holds("F flags", lambda s: FLAGGED in s["INBOX"][mid(7)])

        await go_to(pilot, app, 6)
        await pilot.press("d")
        await holds("d moves to Trash", lambda s: mid(6) in s["Trash"] and mid(6) not in s["INBOX"])

        await go_to(pilot, app, 5)
        await pilot.press("a")
        await holds("a archives", lambda s: mid(5) in s["Archive"] and mid(5) not in s["INBOX"])
        await pilot.press("u")
        await holds("u brings it back", lambda s: mid(5) in s["INBOX"] and mid(5) not in s["Archive"])
        await wait_until(pilot, lambda: listing.row_count == COUNT - 1, "back in the list")

        await go_to(pilot, app, 4)
        await pilot.press("exclamation_mark")
        await holds("! moves to Junk", lambda s: mid(4) in s["Junk"] and mid(4) not in s["INBOX"])

        await go_to(pilot, app, 3)
        await pilot.press("m", *"archi", "enter")
        await holds("m moves to the folder picked", lambda s: mid(3) in s["Archive"] and mid(3) not in s["INBOX"])

        await go_to(pilot, app, 2)
        await pilot.press("C", *"archi", "enter")
        await holds("C copies", lambda s: mid(2) in s["Archive"] and mid(2) in s["INBOX"])

        await go_to(pilot, app, 1)
        await pilot.press("D")
        await wait_until(pilot, lambda: app.screen is not app.main_screen, "D asks first")
        await pilot.press("y")
        await holds("D deletes for good", lambda s: all(mid(1) not in s[f] for f in FOLDERS))
        await wait_until(pilot, lambda: listing.row_count == 4, "7, 5, 2 and 0 left")

        await pilot.press("g", "space", "space")  # marks 7 and 5
        assert len(listing.marked) == 2
        await pilot.press("F")  # 7 is flagged, 5 is not: both get flagged
        await holds("F on the marked", lambda s: FLAGGED in s["INBOX"][mid(5)] and FLAGGED in s["INBOX"][mid(7)])

        await pilot.press("g", "V", "j", "j", "V")  # a range: 7, 5, 2
        assert len(listing.marked) == 3
        await pilot.press("N")  # 5 and 2 are unread: all three are marked read
        await holds("N on a range", lambda s: all(SEEN in s["INBOX"][mid(n)] for n in (7, 5, 2)))

        await pilot.press("asterisk", "d")
        await holds("* then d trashes them all", lambda s: not s["INBOX"])
        await wait_until(pilot, lambda: listing.row_count == 0, "the list is empty")
        await pilot.press("u")
        await holds("u brings them all back", lambda s: len(s["INBOX"]) == 4)
        await wait_until(pilot, lambda: listing.row_count == 4, "they are back in the list")

        await pilot.press("h", "g")  # the folder tree: open Trash, then the Inbox again
        for _ in range(10):
            node = app.main_screen.folder_tree.cursor_node
            if node is not None and str(node.label).startswith("Trash"):
                break
            await pilot.press("j")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Trash" in status_text(app) and listing.row_count == 1, "Trash open")
        assert cursor_subject(app) == "Message 6"
