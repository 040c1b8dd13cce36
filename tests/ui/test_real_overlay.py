"""What triage shows at once over the real services (a Maildir account, the private Dovecot):
the service answers for a request from the moment it is submitted, so a moved row leaves a
search result, All inboxes and the thread view at once, the folder tree's counts move at once
(also into the target of a move made offline), a refused move comes back with the reason, and
`u` brings a moved row back and says so until the server has done it."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

from textual.pilot import Pilot

from mailbag.domain.config import AccountConfig, Config
from mailbag.domain.events import ActionApplied, ActionRolledBack
from mailbag.protocols.maildir import MaildirStore
from mailbag.ui.app import MailbagApp
from tests.integration.accounts import imap_account_config, other_client, proxied_config
from tests.servers.dovecot import DovecotServer, MailUser
from tests.integration.journal_fixtures import CuttingProxy
from tests.servers.ports import closed_port
from tests.ui.helpers import cursor_subject, status_text
from tests.ui.real_services import running, service, simple_message, wait_until
from tests.ui.test_real_search import open_in_tree
from tests.ui.test_real_triage import COUNT, Backend, backend, mid  # noqa: F401 - a fixture

__all__ = ["backend"]


def counts(app: MailbagApp, folder: str, account: str = "home") -> tuple[int, int] | None:
    """(total, unread) of a folder as the folder tree holds it (it shows the unread)."""
    return app.main_screen.folder_tree.counts(account, folder)


def confirmed(app: MailbagApp, *, undo: bool = False) -> bool:
    """Whether the server's confirmation of an action (of an undo's) has reached the screen."""
    return any(
        isinstance(e, ActionApplied) and e.on_server and bool(getattr(e, "undoes", "")) == undo
        for e in service(app).events
    )


async def settled(pilot: Pilot, app: MailbagApp, *, undo: bool = False) -> None:
    """Wait until the server has confirmed an action and the screen has heard of it."""
    await wait_until(pilot, lambda: confirmed(app, undo=undo), "the server's confirmation")
    await pilot.pause(0.1)  # the confirmation was posted to the screen before it was recorded


async def test_a_move_leaves_a_search_result_at_once_counts_follow_and_u_brings_it_back(
    backend: Backend, tmp_path: Path
) -> None:
    async with running(backend.config, tmp_path / "cache.sqlite3", COUNT) as (app, pilot, _store):
        listing = app.main_screen.message_list
        await wait_until(pilot, lambda: counts(app, "INBOX") == (COUNT, COUNT), "the Inbox counted")
        await pilot.press("slash", *"message", "enter")
        await wait_until(pilot, lambda: f"Search: message — {COUNT} results" in status_text(app), "every message")
        await wait_until(pilot, lambda: not app.main_screen.workers, "the search is done")
        moved = cursor_subject(app)

        await pilot.press("a")
        assert listing.row_count == COUNT - 1
        assert moved not in {row.subject for row in listing._read_rows(listing.ids)}
        assert counts(app, "INBOX") == (COUNT - 1, COUNT - 1)
        assert counts(app, "Archive") == (1, 1)

        await settled(pilot, app)
        assert listing.row_count == COUNT - 1
        assert counts(app, "INBOX") == (COUNT - 1, COUNT - 1)
        assert counts(app, "Archive") == (1, 1)
        assert "Search: message" in status_text(app)

        await pilot.press("u")
        assert "Undone: Moved 1 message to Archive" in status_text(app)
        await wait_until(pilot, lambda: listing.row_count == COUNT, "the row is back in the result")
        await settled(pilot, app, undo=True)
        # The server's confirmation of the undo does not take the word from the user.
        assert "Undone: Moved 1 message to Archive" in status_text(app)
        await wait_until(pilot, lambda: counts(app, "Archive") == (0, 0), "Archive empty again")
        assert counts(app, "INBOX") == (COUNT, COUNT)
        assert mid(0) in backend.state()["INBOX"]


@contextlib.asynccontextmanager
async def held(
    dovecot: DovecotServer, user: MailUser, tmp_path: Path, *, with_maildir: bool = False
) -> AsyncIterator[tuple[Config, CuttingProxy]]:
    """Account "home" on Dovecot, whose answer to a move waits until the test releases it
    (with another account, on a Maildir, when ``with_maildir``: then there is All inboxes)."""
    dovecot.deliver_many(user.name, [simple_message(n) for n in range(COUNT)])
    async with CuttingProxy(dovecot.imap_port, b"UID MOVE", deliver_late=True) as proxy:
        accounts = {"home": proxied_config(user, proxy.port, name="home")}
        if with_maildir:
            MaildirStore(tmp_path / "Other", "other", create=True)
            accounts["other"] = AccountConfig(name="other", email="other@example.test", maildir=tmp_path / "Other")
        yield Config(path=None, accounts=accounts), proxy


async def test_a_move_leaves_all_inboxes_at_once(dovecot, mail_user, tmp_path: Path) -> None:
    async with held(dovecot, mail_user, tmp_path, with_maildir=True) as (config, proxy):
        async with running(config, tmp_path / "cache.sqlite3", COUNT) as (app, pilot, _store):
            listing = app.main_screen.message_list
            await open_in_tree(pilot, app, "All inboxes")
            await wait_until(pilot, lambda: listing.row_count == COUNT, "the unified inbox")
            await wait_until(pilot, lambda: counts(app, "Trash") == (0, 0), "Trash counted")
            await pilot.press("space", "space", "d")
            assert listing.row_count == COUNT - 2
            assert counts(app, "INBOX") == (COUNT - 2, COUNT - 2)
            assert counts(app, "Trash") == (2, 2)
            await wait_until(pilot, proxy.cut.is_set, "the server asked")
            assert listing.row_count == COUNT - 2
            assert counts(app, "Trash") == (2, 2)
            proxy.release.set()
            await settled(pilot, app)
            assert listing.row_count == COUNT - 2
            assert counts(app, "INBOX") == (COUNT - 2, COUNT - 2)
            assert counts(app, "Trash") == (2, 2)


async def test_a_move_leaves_the_thread_view_at_once(dovecot, mail_user, tmp_path: Path) -> None:
    async with held(dovecot, mail_user, tmp_path) as (config, proxy):
        async with running(config, tmp_path / "cache.sqlite3", COUNT) as (app, pilot, _store):
            listing = app.main_screen.message_list
            await pilot.press("T")
            await wait_until(pilot, lambda: listing.threads is not None, "the thread view")
            await wait_until(pilot, lambda: counts(app, "Junk") == (0, 0), "Junk counted")
            moved = cursor_subject(app)
            await pilot.press("exclamation_mark")
            assert listing.row_count == COUNT - 1
            assert listing.threads is not None and len(listing.threads.all_ids) == COUNT - 1
            assert cursor_subject(app) != moved
            assert counts(app, "Junk") == (1, 1)
            await wait_until(pilot, proxy.cut.is_set, "the server asked")
            proxy.release.set()
            await settled(pilot, app)
            assert listing.row_count == COUNT - 1
            assert listing.threads is not None
            assert counts(app, "INBOX") == (COUNT - 1, COUNT - 1)
            assert counts(app, "Junk") == (1, 1)


def errors_shown(app: MailbagApp) -> list[str]:
    """From now on, each error the status bar is given to show, in order."""
    status = app.main_screen.status
    shown: list[str] = []
    show = status.set_error

    def recorded(message: str, *, retry: bool = False) -> None:
        shown.append(message)
        show(message, retry=retry)

    status.set_error = recorded  # type: ignore[method-assign]
    return shown


async def test_a_refused_move_comes_back_and_the_status_bar_says_why(dovecot, mail_user, tmp_path: Path) -> None:
    dovecot.deliver_many(mail_user.name, [simple_message(n) for n in range(COUNT)])
    client = other_client(dovecot, mail_user)
    client.create("Projects")
    # The server's answers about Projects come when the test says, so that the moment between
    # the key and the refusal can be looked at.
    async with CuttingProxy(dovecot.imap_port, b"Projects", deliver_late=True) as proxy:
        config = Config(path=None, accounts={"work": proxied_config(mail_user, proxy.port)})
        async with running(config, tmp_path / "cache.sqlite3", COUNT) as (app, pilot, _store):
            listing = app.main_screen.message_list
            await wait_until(pilot, lambda: counts(app, "Projects", "work") == (0, 0), "Projects listed")
            await wait_until(pilot, lambda: counts(app, "INBOX", "work") == (COUNT, COUNT), "the Inbox counted")
            moved = cursor_subject(app)
            errors = errors_shown(app)
            await pilot.press("m", *"projects")
            client.delete("Projects")  # gone on the server meanwhile
            client.logout()
            await pilot.press("enter")
            assert listing.row_count == COUNT - 1
            assert counts(app, "INBOX", "work") == (COUNT - 1, COUNT - 1)
            await wait_until(pilot, proxy.cut.is_set, "the server asked")
            assert listing.row_count == COUNT - 1
            proxy.release.set()
            await wait_until(
                pilot, lambda: any(isinstance(e, ActionRolledBack) for e in service(app).events), "the refusal"
            )
            await wait_until(pilot, lambda: listing.row_count == COUNT, "the row is back")
            assert moved in {row.subject for row in listing._read_rows(listing.ids)}
            # Each error the status bar showed: on a loaded machine the notice that follows
            # (Projects was deleted by another program) may replace it before the test looks.
            await wait_until(
                pilot, lambda: any(e.startswith("Could not move 1 message to Projects: ") for e in errors), "why"
            )
            await wait_until(pilot, lambda: counts(app, "INBOX", "work") == (COUNT, COUNT), "counted again")


async def test_an_offline_move_counts_in_its_target_at_once_and_once_the_server_has_it(
    dovecot, mail_user, tmp_path: Path
) -> None:
    dovecot.deliver_many(mail_user.name, [simple_message(n) for n in range(COUNT)])
    online = imap_account_config(dovecot, mail_user, name="home")
    db = tmp_path / "cache.sqlite3"
    async with running(Config(path=None, accounts={"home": online}), db, COUNT) as (app, pilot, _store):
        await wait_until(pilot, lambda: counts(app, "Archive") == (0, 0), "Archive listed")
    assert online.imap is not None
    offline = dataclasses.replace(online, imap=dataclasses.replace(online.imap, port=closed_port()))
    async with running(Config(path=None, accounts={"home": offline}), db, COUNT) as (app, pilot, _store):
        await pilot.press("a")
        assert counts(app, "INBOX") == (COUNT - 1, COUNT - 1)
        assert counts(app, "Archive") == (1, 1)
        await wait_until(pilot, lambda: "Moving 1 message to Archive…" in status_text(app), "done in the cache")
        await pilot.pause(0.2)
        assert counts(app, "INBOX") == (COUNT - 1, COUNT - 1)
        assert counts(app, "Archive") == (1, 1)  # until the server has it, and after a restart
    async with running(Config(path=None, accounts={"home": online}), db, COUNT - 1) as (app, pilot, _store):
        assert counts(app, "Archive") == (1, 1)
        await settled(pilot, app)
        assert counts(app, "INBOX") == (COUNT - 1, COUNT - 1)
        assert counts(app, "Archive") == (1, 1)
