"""Pilot tests of marks and triage: what the list shows at once, and the requests sent."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from textual.pilot import Pilot

from mailbag.domain.events import (
    ActionApplied,
    MessagesChanged,
)
from mailbag.domain.models import FLAGGED, SEEN, FolderRole
from mailbag.domain.requests import DeleteMessages, MoveMessages, SetFlags
from mailbag.ui.app import MailbagApp
from mailbag.ui.screens.dialogs import ConfirmDialog
from mailbag.ui.screens.folder_picker import FolderPicker
from tests.ui.conftest import settle
from tests.ui.fake_facade import NOW, FakeFacade, big_folder_facade
from tests.ui.helpers import cursor_subject, list_line, screen_text, status_text
from tests.ui.real_services import wait_until
from tests.ui.sample import sample_facade

INBOX_SUBJECTS = [
    "Quarterly report", "Lunch on Thursday?", "Re: Build is green again",
    "Größenänderung — 日本語の件名", "Welcome to the team", "Your account is ready",
]


def sent(facade: FakeFacade, kind: type) -> list:
    return [r for r in facade.submitted if isinstance(r, kind)]


def marked_lines(app) -> list[int]:
    return [i for i in range(app.main_screen.message_list.row_count) if list_line(app, i)[0].startswith("*")]


async def test_space_marks_and_moves_down_escape_clears(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space", "j", "space")
        assert marked_lines(app) == [0, 2]
        assert cursor_subject(app) == INBOX_SUBJECTS[3]
        await pilot.press("k", "space")  # unmark
        assert marked_lines(app) == [0]
        await pilot.press("escape")
        assert marked_lines(app) == []
        assert app.focused is app.main_screen.message_list  # marks cleared, focus stays


async def test_range_mark_follows_the_cursor(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j", "V", "j", "j")
        assert marked_lines(app) == [1, 2, 3]
        await pilot.press("k")
        assert marked_lines(app) == [1, 2]
        await pilot.press("V", "j", "j")  # ended: moving no longer marks
        assert marked_lines(app) == [1, 2]


async def test_a_range_being_marked_survives_a_reload(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j", "V", "j")
        app.facade.emit(MessagesChanged("work", "INBOX", 0, 1, 0))  # a sync changed a flag meanwhile
        await settle(pilot)
        await pilot.press("j")
        assert marked_lines(app) == [1, 2, 3]


async def test_star_marks_everything_and_archive_sends_one_request(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("asterisk")
        assert marked_lines(app) == [0, 1, 2, 3, 4, 5]
        await pilot.press("a")
        moves = sent(app.facade, MoveMessages)
        assert [(m.account, m.folder, m.uids, m.target_role, m.copy) for m in moves] == [
            ("work", "INBOX", (1, 2, 3, 4, 5, 6), FolderRole.ARCHIVE, False)
        ]
        assert app.main_screen.message_list.row_count == 0
        assert "No messages" in list_line(app, 0)[0]


async def test_toggle_read_and_flag_on_the_cursor_row(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert list_line(app, 0)[1].bold
        await pilot.press("N")
        assert not list_line(app, 0)[1].bold  # at once
        assert str(app.main_screen.folder_tree._folders[("work", "INBOX")].label) == "INBOX 1"
        await pilot.press("N")
        assert list_line(app, 0)[1].bold
        await pilot.press("F")
        assert list_line(app, 0)[0][2] == "!"
        flags = sent(app.facade, SetFlags)
        assert [(f.uids, f.add, f.remove) for f in flags] == [
            ((6,), frozenset({SEEN}), frozenset()),
            ((6,), frozenset(), frozenset({SEEN})),
            ((6,), frozenset({FLAGGED}), frozenset()),
        ]
        await pilot.press("j", "F")  # "Lunch" is flagged: unflag
        assert sent(app.facade, SetFlags)[-1].remove == frozenset({FLAGGED})
        assert list_line(app, 1)[0][2] == " "


async def test_failed_flag_request_rolls_back_and_says_why(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("F")
        request = sent(app.facade, SetFlags)[-1]
        app.facade.refuse(request, "NO [CANNOT] read-only folder")
        await pilot.pause()
        assert list_line(app, 0)[0][2] == " "
        assert "read-only folder" in app.main_screen.status.last_error


async def test_delete_removes_row_at_once_and_cursor_lands_on_next(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j", "d")
        assert [(r.folder, r.uids, r.permanent) for r in sent(app.facade, DeleteMessages)] == [("INBOX", (5,), False)]
        assert app.main_screen.message_list.row_count == 5
        assert cursor_subject(app) == "Re: Build is green again"
        assert INBOX_SUBJECTS[1] not in "".join(list_line(app, i)[0] for i in range(5))
        # the cache has not caught up yet: a reload must neither bring the row back nor move the cursor
        app.facade.emit(MessagesChanged(account="work", folder="INBOX", changed=1))
        await settle(pilot)
        assert app.main_screen.message_list.row_count == 5
        assert cursor_subject(app) == "Re: Build is green again"
        for request in sent(app.facade, DeleteMessages):
            app.facade.apply(request)
        app.facade.emit(MessagesChanged(account="work", folder="INBOX", removed=1))
        await settle(pilot)
        assert app.main_screen.message_list.row_count == 5
        assert cursor_subject(app) == "Re: Build is green again"
        await pilot.press("G", "delete")  # the last row: the cursor goes to the new last row
        assert cursor_subject(app) == "Welcome to the team"


async def test_permanent_delete_asks_first(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space", "space", "space", "D")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        assert "Delete 3 messages permanently? y/n" in str(app.screen.query_one("#confirm-question").render())
        assert "Delete 3 messages permanently? y/n" in screen_text(app)  # and it is on screen
        await pilot.press("n")
        await pilot.pause()
        assert not sent(app.facade, DeleteMessages)
        assert app.main_screen.message_list.row_count == 6
        await pilot.press("D")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert [(r.uids, r.permanent) for r in sent(app.facade, DeleteMessages)] == [((4, 5, 6), True)]
        assert app.main_screen.message_list.row_count == 3
        assert cursor_subject(app) == INBOX_SUBJECTS[3]


async def test_junk_uses_the_junk_role(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("exclamation_mark")
        move = sent(app.facade, MoveMessages)[-1]
        assert (move.uids, move.target_role, move.target) == ((6,), FolderRole.JUNK, "")
        assert cursor_subject(app) == INBOX_SUBJECTS[1]


async def test_move_with_the_fuzzy_picker(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space", "space", "m")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, FolderPicker)
        assert "INBOX" not in picker.shown and "Archive" in picker.shown and "Sent" in picker.shown
        await pilot.press("a", "2", "5")
        await pilot.pause()
        assert picker.shown == ["Archive/2025"]
        await pilot.press("backspace", "backspace")
        await pilot.pause()
        assert picker.shown[0] == "Archive" and "Trash" in picker.shown and "Sent" not in picker.shown
        await pilot.press("down", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, FolderPicker)
        move = sent(app.facade, MoveMessages)[-1]
        assert (move.folder, move.uids, move.target, move.copy) == ("INBOX", (5, 6), picker.shown[1], False)
        assert cursor_subject(app) == INBOX_SUBJECTS[2]


async def test_a_folder_named_in_the_picker_is_made_only_where_folders_are_local(make_app):
    """On a local account (Maildir, POP3) a name typed that is no folder is offered last as a
    new folder, and the move asks for it to be made; an IMAP account's picker offers no such
    thing."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("m", *"Garden")
        await pilot.pause()
        assert app.screen.shown == [] and app.screen.new_name == ""  # the server's folders only
        await pilot.press("escape")
        app.facade.local_accounts.add("work")
        await pilot.press("m", *"Garden")
        await pilot.pause()
        assert app.screen.shown == [] and app.screen.new_name == "Garden"
        assert "New folder: Garden" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        move = sent(app.facade, MoveMessages)[-1]
        assert (move.target, move.new_folder) == ("Garden", True)
        await pilot.press("m", *"Archive")
        await pilot.pause()
        assert "New folder" not in screen_text(app)  # Archive is there already
        await pilot.press("enter")
        await pilot.pause()
        assert sent(app.facade, MoveMessages)[-1].new_folder is False


async def test_copy_keeps_rows_and_escape_cancels_the_picker(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not sent(app.facade, MoveMessages) and app.main_screen.message_list.row_count == 6
        await pilot.press("C")
        await pilot.pause()
        assert "INBOX" in app.screen.shown  # a copy may go to the same folder's siblings, even itself
        await pilot.press("t", "r", "s", "h", "enter")
        await pilot.pause()
        move = sent(app.facade, MoveMessages)[-1]
        assert (move.uids, move.target, move.copy) == ((6,), "Trash", True)
        assert app.main_screen.message_list.row_count == 6


async def test_undo_shows_its_description_or_nothing_to_undo(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        assert "Nothing to undo" in status_text(app)
        await pilot.press("a")
        assert app.main_screen.message_list.row_count == 5
        app.facade.undo_stack.append("Moved 1 message to Archive")
        app.facade.emit(ActionApplied(account="work", description="Moved 1 message to Archive"))
        await pilot.pause()
        assert "Moved 1 message to Archive" in status_text(app)
        await pilot.press("u")
        await settle(pilot)
        assert app.facade.undo_calls == 2
        assert "Undoing: Moved 1 message to Archive…" in status_text(app)
        assert app.main_screen.message_list.row_count == 6  # the cache still has it: shown again


async def test_rolled_back_action_reloads_the_list(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j", "a")
        assert app.main_screen.message_list.row_count == 5
        (request,) = [r for r in app.facade.submitted if isinstance(r, MoveMessages)]
        app.facade.refuse(request, "no Archive folder")
        await settle(pilot)
        assert app.main_screen.message_list.row_count == 6
        assert "error: Could not move 1 message to archive: no Archive folder" in status_text(app)


async def test_unified_inbox_groups_requests_per_account(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("h", "g", "l")  # the tree's first entry: All inboxes
        await settle(pilot)
        assert "All inboxes" in status_text(app)
        lines = [list_line(app, i)[0] for i in range(7)]
        assert "Family dinner" in lines[1] and "home" in lines[1] and "work" in lines[0]
        await pilot.press("asterisk", "N")
        flags = sorted((r.account, r.folder, r.uids) for r in sent(app.facade, SetFlags))
        assert flags == [("home", "INBOX", (101,)), ("work", "INBOX", (1, 2, 3, 4, 5, 6))]


async def test_triage_keys_work_while_reading(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j", "enter")
        await settle(pilot)
        await pilot.press("F", "d")
        flags = sent(app.facade, SetFlags)
        assert [(f.uids, f.remove) for f in flags][-1] == ((5,), frozenset({FLAGGED}))
        assert [d.uids for d in sent(app.facade, DeleteMessages)] == [(5,)]
        assert cursor_subject(app) == "Re: Build is green again"


async def test_refused_move_brings_the_rows_back(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space", "space", "a")
        assert app.main_screen.message_list.row_count == 4
        request = sent(app.facade, MoveMessages)[-1]
        app.facade.refuse(request, "NO [TRYCREATE] no Archive")
        await settle(pilot)
        assert app.main_screen.message_list.row_count == 6
        assert "no Archive" in app.main_screen.status.last_error


async def test_cursor_moved_during_a_reload_stays_where_the_user_put_it(make_app):
    gate = threading.Event()
    gate.set()

    class SlowIndex(FakeFacade):
        def message_index(self, *args: Any, **kwargs: Any) -> Sequence[int]:
            gate.wait(5)  # the cache read takes a while
            return super().message_index(*args, **kwargs)

    app = make_app(lambda sink: sample_facade(sink, SlowIndex))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        gate.clear()
        app.main_screen.reload()  # a reload is under way (as after a flag change) ...
        await pilot.press("j", "j")  # ... while the user keeps moving
        wanted = cursor_subject(app)
        gate.set()
        await settle(pilot)
        assert cursor_subject(app) == wanted


async def test_a_late_older_reload_never_replaces_a_newer_list(make_app):
    slow_read_started = threading.Event()
    release_slow_read = threading.Event()
    calls: list[int] = []

    class SecondReadSlow(FakeFacade):
        def message_index(self, *args: Any, **kwargs: Any) -> Sequence[int]:
            calls.append(1)
            ids = super().message_index(*args, **kwargs)
            if len(calls) == 2:  # this read is slow: by the time it lands it is stale
                slow_read_started.set()
                release_slow_read.wait(5)
            return ids

    app = make_app(lambda sink: sample_facade(sink, SecondReadSlow))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.main_screen
        before = screen.message_list.row_count
        screen.reload()  # the slow, soon stale read
        assert await asyncio.to_thread(slow_read_started.wait, 5)
        app.facade.add_message("work", "INBOX", row_id=999, subject="Just arrived", date=NOW)
        screen.reload()  # a newer read that sees the new message
        await wait_until(pilot, lambda: screen.message_list.row_count == before + 1, "the newer list shown")
        release_slow_read.set()
        await settle(pilot)
        assert screen.message_list.row_count == before + 1
        assert "Just arrived" in list_line(app, 0)[0]


class SlowRead(FakeFacade):
    """A facade whose next list read, once ``slow()`` is called, waits until ``read_release`` is set."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read_started = threading.Event()
        self.read_release = threading.Event()
        self._slow_next = False

    def slow(self) -> None:
        self._slow_next = True

    def _held(self) -> None:
        if self._slow_next:
            self._slow_next = False
            self.read_started.set()
            self.read_release.wait(10)

    def message_index(self, *args: Any, **kwargs: Any) -> Sequence[int]:
        ids = super().message_index(*args, **kwargs)
        self._held()
        return ids

    def local_search(self, *args: Any, **kwargs: Any) -> Any:
        outcome = super().local_search(*args, **kwargs)
        self._held()
        return outcome


async def archive_during_a_read(pilot: Pilot, app: MailbagApp) -> str:
    """Archive the message under the cursor while a read of the view is on its way, then let
    that read land; the archived message's subject."""
    facade = app.facade
    assert isinstance(facade, SlowRead)
    facade.slow()
    app.main_screen.reload()  # as on the service's news: a read of the view is under way ...
    assert await asyncio.to_thread(facade.read_started.wait, 10)
    archived = cursor_subject(app)
    await pilot.press("a")  # ... when the message under the cursor is archived
    facade.read_release.set()  # the read lands, holding the list from before the key
    await settle(pilot)
    return archived


def listed_subjects(app: MailbagApp) -> list[str]:
    """The lines of the list as painted, one per row (the list must fit the screen)."""
    listing = app.main_screen.message_list
    return [list_line(app, index)[0] for index in range(listing.row_count)]


async def test_a_list_read_begun_before_a_triage_key_never_brings_the_row_back(make_app):
    app = make_app(lambda sink: sample_facade(sink, SlowRead))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        archived = await archive_during_a_read(pilot, app)
        shown = listed_subjects(app)
        assert len(shown) == len(INBOX_SUBJECTS) - 1
        assert not any(archived in line for line in shown)


async def test_a_search_begun_before_a_triage_key_never_brings_the_row_back(make_app):
    app = make_app(lambda sink: sample_facade(sink, SlowRead))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"re", "enter")
        await settle(pilot)
        found = listed_subjects(app)
        assert not any("Lunch on Thursday?" in line for line in found)
        archived = await archive_during_a_read(pilot, app)  # the search runs again meanwhile
        shown = listed_subjects(app)
        assert len(shown) == len(found) - 1
        assert not any(archived in line for line in shown)


async def test_new_mail_on_top_stays_under_a_cursor_watching_the_top(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        top = cursor_subject(app)
        app.facade.add_message("work", "INBOX", row_id=990, subject="Arrived first", date=NOW)
        app.facade.emit(MessagesChanged("work", "INBOX", added=1))
        await settle(pilot)
        assert cursor_subject(app) == "Arrived first"  # the newest, visible, under the cursor
        await pilot.press("j", "j")
        reading = cursor_subject(app)
        app.facade.add_message(
            "work", "INBOX", row_id=991, subject="Arrived second", date=NOW + timedelta(minutes=1)
        )
        app.facade.emit(MessagesChanged("work", "INBOX", added=1))
        await settle(pilot)
        assert cursor_subject(app) == reading  # elsewhere the cursor keeps its message
        assert "Arrived second" in list_line(app, 0)[0]
        assert top != "Arrived first"


async def test_deleting_marked_rows_above_the_cursor_keeps_it_on_its_message_in_a_big_folder(make_app):
    app = make_app(big_folder_facade("INBOX"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        listing = app.main_screen.message_list
        assert listing.row_count == 100_000
        await pilot.press("space", "j", "space")  # marks the first and the third
        assert cursor_subject(app) == "Message 99997"
        await pilot.press("d")
        assert listing.row_count == 99_998
        assert listing.cursor == 1 and cursor_subject(app) == "Message 99997"
        assert [row.subject for row in app.facade.rows(listing.ids[:3])] == [
            "Message 99999", "Message 99997", "Message 99996",
        ]
        await pilot.press("asterisk", "d")  # everything: read in a thread, found in one pass
        for _ in range(100):
            await settle(pilot)
            if listing.row_count == 0:
                break
        assert listing.row_count == 0
