"""Pilot tests of the main screen: what the user sees and the requests the UI sends."""

from __future__ import annotations

import re

from mailbag.domain.events import (
    ActionApplied,
    BodyLoaded,
    ConnectionChanged,
    ErrorReported,
    MessagesChanged,
    SyncProgress,
)
from mailbag.domain.models import SEEN, ConnectionState
from mailbag.domain.requests import LoadBody, OpenFolder, RetryAccount, SetFlags
from mailbag.ui.keymap import KEYS
from mailbag.ui.screens.help import HelpScreen, help_groups
from mailbag.ui.widgets.folder_tree import FolderTree
from mailbag.ui.widgets import status_bar
from mailbag.ui.widgets.message_list import MessageList
from mailbag.ui.widgets.reader import ReaderBody
from tests.ui.conftest import settle
from tests.ui.fake_facade import NOW, FakeFacade, big_folder_facade
from tests.ui.helpers import cursor_subject, list_line, screen_text, status_text


async def test_opens_inbox_with_rows_and_preview(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        facade = app.facade
        assert facade.started
        assert OpenFolder(account="work", folder="INBOX", request_id=facade.submitted[0].request_id) in facade.submitted
        text, style = list_line(app, 0)
        assert "Quarterly report" in text and "Bob Builder" in text and text.startswith(" N @")  # mark column, then flags
        assert style.bold
        assert "Your account is ready" in list_line(app, 5)[0]
        assert "2024-01-05" in list_line(app, 5)[0]  # older than this year: full date
        assert "Mar 12" in list_line(app, 1)[0]  # this year: month and day
        assert "10:00" in text  # today: time
        assert app.main_screen.folder_tree.selected_folder() == ("work", "INBOX")
        assert "quarterly report is attached" in app.main_screen.reader.body.text


async def test_cursor_keys_move_through_the_list(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert cursor_subject(app) == "Quarterly report"
        await pilot.press("j")
        assert cursor_subject(app) == "Lunch on Thursday?"
        await pilot.press("down", "down")
        assert cursor_subject(app) == "Größenänderung — 日本語の件名"
        await pilot.press("k")
        assert cursor_subject(app) == "Re: Build is green again"
        await pilot.press("G")
        assert cursor_subject(app) == "Your account is ready"
        await pilot.press("j")  # stays on the last row
        assert cursor_subject(app) == "Your account is ready"
        await pilot.press("g")
        assert cursor_subject(app) == "Quarterly report"
        await pilot.press("pagedown")
        assert app.main_screen.message_list.cursor > 1
        await settle(pilot)
        assert app.main_screen.reader.body.text == app.facade.rendered("work", "INBOX", app.main_screen.message_list.current_row.uid).body


async def test_enter_opens_reader_and_marks_read(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert str(app.main_screen.folder_tree._folders[("work", "INBOX")].label) == "INBOX 2"
        assert not any(isinstance(r, SetFlags) for r in app.facade.submitted)  # preview only
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.focused, ReaderBody)
        assert "quarterly report is attached" in app.focused.text
        header = app.main_screen.reader.header.render()
        assert "report-q1.pdf" in str(header) and "Bob Builder <bob@example.org>" in str(header)
        flags = [r for r in app.facade.submitted if isinstance(r, SetFlags)]
        assert [(f.folder, f.uids, f.add) for f in flags] == [("INBOX", (6,), frozenset({SEEN}))]
        text, style = list_line(app, 0)
        assert not style.bold and not text.startswith(" N")
        assert str(app.main_screen.folder_tree._folders[("work", "INBOX")].label) == "INBOX 1"


async def test_failed_flag_change_is_rolled_back(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        request = next(r for r in app.facade.submitted if isinstance(r, SetFlags))
        app.facade.refuse(request, "server said NO")
        await settle(pilot)
        assert list_line(app, 0)[1].bold
        assert "server said NO" in status_text(app)


async def test_missing_body_shows_loading_then_the_body(make_app):
    def build(sink):
        facade = FakeFacade(sink)
        from mailbag.domain.models import Folder, FolderRole

        facade.add_folder(Folder("work", "INBOX", "/", FolderRole.INBOX, total=1, unread=0))
        facade.add_message("work", "INBOX", row_id=1, subject="Not fetched yet")
        return facade

    app = make_app(build)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.main_screen.reader.body.text == "Loading…"
        loads = [r for r in app.facade.submitted if isinstance(r, LoadBody)]
        assert [(r.folder, r.uid) for r in loads] == [("INBOX", 1)]
        row = app.main_screen.message_list.current_row
        app.facade.set_body(row, "Here it is.\n")
        app.facade.emit(BodyLoaded(account="work", folder="INBOX", uid=1))
        await settle(pilot)
        assert app.main_screen.reader.body.text == "Here it is.\n"


async def test_tab_cycles_panes_and_h_goes_back(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.focused, MessageList)
        await pilot.press("tab")
        assert isinstance(app.focused, ReaderBody)
        await pilot.press("tab")
        assert isinstance(app.focused, FolderTree)
        await pilot.press("tab")
        assert isinstance(app.focused, MessageList)
        await pilot.press("shift+tab")
        assert isinstance(app.focused, FolderTree)
        await pilot.press("tab", "tab")
        await pilot.press("h")
        assert isinstance(app.focused, MessageList)
        await pilot.press("escape")
        assert isinstance(app.focused, FolderTree)


async def test_open_another_folder_from_the_tree(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("h")  # to the folder tree
        assert app.main_screen.folder_tree.selected_folder() == ("work", "INBOX")
        await pilot.press("j", "j", "l")
        await settle(pilot)
        opened = [r for r in app.facade.submitted if isinstance(r, OpenFolder)]
        assert opened[-1].folder == "Sent"
        assert isinstance(app.focused, MessageList)
        assert "No messages" in list_line(app, 0)[0]


async def test_help_lists_every_binding(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text").render())
        for line in ("j, Down", "Next line / message", "g, Home", "Tab", "Shift+Tab", "h, Esc", "?", "Quit"):
            assert line in text
        for line in ("Space", "Mark / unmark message", "d, Del", "Delete permanently", "(asks)",
                     "Move to folder…", "Undo last action", "/", "Search", "Thread view on / off",
                     "Sort by…", "Reverse sort order", "*", "Ctrl+n", "Command palette"):
            assert line in text
        await pilot.press("i")  # the [keymap] ids in place of the descriptions
        await pilot.pause()
        text = str(app.screen.query_one("#help-text").render())
        for spec in KEYS:
            assert spec.id in text, spec.id
        assert "Undo last action" not in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_help_at_80x24_shows_the_main_keys_at_once_and_scrolls_to_the_rest(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        first = screen_text(app)
        for shown in ("Moving", "Next line / message", "Open folder / message", "Back (reader",
                      "Triage", "Delete (to Trash)", "Archive", "Undo last action", "Writing", "Reply",
                      "Reply to all", "Forward", "more below"):
            assert shown in first, shown
        assert "Quit" not in first and "Command palette" not in first  # a scroll away
        seen = first
        for _ in range(3):
            await pilot.press("pagedown")
            await pilot.pause()
            seen += screen_text(app)
        for _, rows in help_groups({}):
            for _, description, binding_id in rows:
                assert description[:12] in seen, binding_id  # a long one wraps further on
        assert "Quit" in seen and "Command palette" in seen
        await pilot.press("k", "j")
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_keymap_rebinds_and_help_follows(make_app):
    app = make_app(keymap={"cursor_down": "n"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        assert cursor_subject(app) == "Lunch on Thursday?"
        await pilot.press("j")
        assert cursor_subject(app) == "Lunch on Thursday?"
        await pilot.press("question_mark")
        await pilot.pause()
        text = str(app.screen.query_one("#help-text").render())
        assert "n " in text and "j, Down" not in text


def test_unknown_keymap_id_is_a_clear_error(make_app):
    try:
        make_app(keymap={"cursor_sideways": "x"})
    except ValueError as exc:
        assert "cursor_sideways" in str(exc) and "cursor_down" in str(exc)
    else:
        raise AssertionError("an unknown binding id must be refused")


async def test_hostile_text_is_shown_literally(make_app):
    hostile = "\x1b]52;c;aGVsbG8=\x07[bold red]x\x1b[31m"

    def build(sink):
        facade = FakeFacade(sink)
        from mailbag.domain.models import Folder, FolderRole

        facade.add_folder(Folder("work", "INBOX", "/", FolderRole.INBOX))
        facade.add_folder(Folder("work", "[b]evil\x1b[2J", "/", FolderRole.NONE))
        facade.add_message("work", "INBOX", row_id=1, subject=hostile, sender=hostile, body=hostile + "\nline 2\n")
        return facade

    app = make_app(build)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text, _ = list_line(app, 0)
        assert "[bold red]x" in text and "\x1b" not in text and "\x07" not in text
        body = app.main_screen.reader.body.text
        assert body.startswith("[bold red]x") and "\x1b" not in body
        header = app.main_screen.reader.header.render()
        assert "Subject: [bold red]x" in str(header) and "\x1b" not in str(header)
        labels = [str(node.label) for node in app.main_screen.folder_tree._folders.values()]
        assert "[b]evil" in labels
        app.facade.emit(ErrorReported(account="work", message="[red]boom\x1b[5m"))
        await pilot.pause()
        assert "work: [red]boom" in status_text(app) and "\x1b" not in status_text(app)


async def test_status_bar_shows_connection_progress_and_errors(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.facade.emit(ConnectionChanged(account="work", state=ConnectionState.SYNCING))
        app.facade.emit(SyncProgress(account="work", folder="INBOX", done=10, total=300))
        app.facade.emit(SyncProgress(account="work", folder="INBOX", done=120, total=300))
        await pilot.pause()
        assert "work syncing INBOX 120/300" in status_text(app)
        app.facade.emit(ConnectionChanged(account="work", state=ConnectionState.ONLINE))
        app.facade.emit(ErrorReported(account="home", message="login failed"))
        await pilot.pause()
        assert "work online" in status_text(app)
        assert "home: login failed" in status_text(app)


async def test_offline_at_80_columns_the_notice_of_an_action_is_read_whole(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.facade.emit(ConnectionChanged(
            account="work", state=ConnectionState.ERROR,
            detail="cannot connect to 127.0.0.1:37237: [Errno 111] Connection refused",
        ))
        app.facade.emit(ActionApplied(account="work", description="Moved 1 message to Archive"))
        await pilot.pause()
        line = app.main_screen.status.render_line(0).text
        assert "Moved 1 message to Archive" in line
        assert "work error (cannot connect" in line and line.rstrip().endswith("? help")


async def test_a_refused_login_says_so_and_how_to_retry_at_80_columns(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.facade.emit(ConnectionChanged(
            account="work", state=ConnectionState.ERROR, waiting_for_user=True,
            detail="login refused: login failed: AUTHENTICATE failed: [AUTHENTICATIONFAILED] "
                   "Authentication failed. (fix the password, then retry)",
        ))
        app.facade.emit(ErrorReported(account="work", message="offline: login failed: AUTHENTICATE failed"))
        await pilot.pause()
        line = app.main_screen.status.render_line(0).text
        assert "refused ($)" in line and line.rstrip().endswith("? help")  # shrunk for the error
        assert "error: work: offline: login failed: AUTHENTICATE" in line
        app.facade.emit(ErrorReported(account="work", message="offline"))
        await pilot.pause()
        assert "work login refused ($ to retry)" in app.main_screen.status.render_line(0).text
        app.facade.emit(ConnectionChanged(account="work", state=ConnectionState.CONNECTING))
        await pilot.pause()
        assert "refused" not in app.main_screen.status.render_line(0).text


async def test_notices_and_errors_leave_the_status_bar_after_a_while(make_app, monkeypatch):
    monkeypatch.setattr(status_bar, "NOTICE_SECONDS", 0.2)
    monkeypatch.setattr(status_bar, "ERROR_SECONDS", 0.3)
    app = make_app()

    async def gone(text: str) -> bool:
        for _ in range(60):
            if text not in status_text(app):
                return True
            await pilot.pause(0.05)
        return False

    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.facade.emit(ConnectionChanged(account="work", state=ConnectionState.ONLINE))
        app.facade.emit(ErrorReported(account="work", message="mailbox is read-only"))
        await pilot.pause()
        assert "mailbox is read-only" in status_text(app)
        assert await gone("read-only")
        assert "work online" in status_text(app)  # the connection state stays
        await pilot.press("u")  # nothing to undo: a notice
        assert "Nothing to undo" in status_text(app)
        assert await gone("Nothing to undo")


async def test_messages_changed_keeps_cursor_on_the_same_message(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j", "j")
        assert cursor_subject(app) == "Re: Build is green again"
        facade: FakeFacade = app.facade
        facade.add_message("work", "INBOX", row_id=7, subject="Brand new", date=NOW)
        facade._index[("work", "INBOX")] = [7] + [i for i in facade._index[("work", "INBOX")] if i != 7]
        facade.emit(MessagesChanged(account="work", folder="INBOX", added=1))
        await settle(pilot)
        assert cursor_subject(app) == "Re: Build is green again"
        assert app.main_screen.message_list.cursor == 3
        assert "Brand new" in list_line(app, 0)[0]


async def test_hundred_thousand_rows_open_and_G_reaches_the_end(make_app):
    app = make_app(big_folder_facade("Huge"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.main_screen.message_list.row_count == 100_000
        assert cursor_subject(app) == "Message 100000"
        await pilot.press("G")
        assert cursor_subject(app) == "Message 1"
        assert "Message 1 " in list_line(app, 99_999)[0] or list_line(app, 99_999)[0].rstrip().endswith("Message 1")
        await pilot.press("k")
        assert cursor_subject(app) == "Message 2"
        assert app.facade.rows_calls < 20  # read a page at a time, never the whole folder


async def test_quit_stops_the_services(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.facade.stopped


def test_command_palette_lists_the_actions(make_app):
    app = make_app()
    titles = {command.title for command in app.get_system_commands(app.main_screen)}
    assert {"Next line / message", "Open folder / message", "Show keys", "Next pane"} <= titles
    assert {"Archive", "Undo last action", "Search", "Mark all messages in view"} <= titles


async def test_command_palette_runs_triage_and_mark_commands(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        commands = {c.title: c.callback for c in app.get_system_commands(app.main_screen)}
        commands["Mark / unmark message, move down"]()
        await pilot.pause()
        assert app.main_screen.message_list.marked == {6}
        commands["Toggle flagged"]()
        await pilot.pause()
        flags = [r for r in app.facade.submitted if isinstance(r, SetFlags)]
        assert [(f.uids, f.add) for f in flags] == [((6,), frozenset({"\\Flagged"}))]


async def test_triage_keys_can_be_rebound(make_app):
    app = make_app(keymap={"archive": "y", "mark": "x"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("x", "a")
        assert app.main_screen.message_list.marked == {6}
        assert not [r for r in app.facade.submitted if type(r).__name__ == "MoveMessages"]
        await pilot.press("y")
        moves = [r for r in app.facade.submitted if type(r).__name__ == "MoveMessages"]
        assert [m.uids for m in moves] == [(6,)]


async def test_retry_key_and_palette_entry_reconnect_every_account(make_app):
    """After a refused login the account waits for the user: $ (or the palette) asks again."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.facade.emit(ConnectionChanged(account="work", state=ConnectionState.ERROR,
                                          detail="login refused: wrong password (fix the password, then retry)",
                                          waiting_for_user=True))
        await pilot.press("dollar_sign")
        await pilot.pause()
        retries = [r for r in app.facade.submitted if isinstance(r, RetryAccount)]
        assert sorted(r.account for r in retries) == sorted(app.facade.accounts)
        commands = {c.title: c.callback for c in app.get_system_commands(app.main_screen)}
        commands["Reconnect, check POP3, retry set-aside"]()
        await pilot.pause()
        assert len([r for r in app.facade.submitted if isinstance(r, RetryAccount)]) == 2 * len(retries)


async def test_the_retry_key_is_named_as_the_keymap_binds_it(make_app):
    app = make_app(keymap={"retry": "ctrl+r"})  # R free for another binding
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.facade.emit(ConnectionChanged(account="work", state=ConnectionState.ERROR, waiting_for_user=True,
                                          detail="login refused: wrong password (fix the password, then retry)"))
        app.facade.emit(ErrorReported(
            account="work", retry=True,
            message="Could not mark 1 message flagged (tried 3 times: no answer); set aside: it stays as it is here"
                    " until you retry or undo it",
        ))
        await pilot.pause()
        line = status_text(app)
        assert line.startswith(" error (Ctrl+r to retry): work: C")  # the message is cut, not the key
        assert "refused (Ctrl+r)" in line and "R to retry" not in line
        await pilot.press("ctrl+r")
        assert any(isinstance(r, RetryAccount) for r in app.facade.submitted)
        await pilot.press("question_mark")
        await pilot.pause()
        text = str(app.screen.query_one("#help-text").render())
        assert re.search(r"Ctrl\+r\s+Reconnect, check POP3,", text)  # $ checks POP3 too
