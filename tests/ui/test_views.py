"""Pilot tests of search, threads, sorting, virtual folders and new mail."""

from __future__ import annotations

from datetime import timedelta

from mailbag.domain.events import EventSink, MessagesChanged, NewMail, SearchResults
from mailbag.domain.models import FLAGGED, SEEN, Folder, FolderRole
from mailbag.domain.requests import DeleteMessages, MoveMessages, Search, SetFlags
from mailbag.ui.screens.dialogs import SortMenu
from mailbag.ui.widgets.search_bar import SearchBar
from tests.ui.conftest import settle
from tests.ui.fake_facade import NOW, FakeFacade, big_folder_facade
from tests.ui.helpers import cursor_subject, list_line, status_text
from tests.ui.real_services import wait_until
from tests.ui.sample import threaded_facade


def shown_subjects(app) -> list[str]:
    listing = app.main_screen.message_list
    return [listing.row_at(i).subject for i in range(listing.row_count)]


async def test_search_filters_as_you_type_and_escape_returns(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        assert isinstance(app.focused, SearchBar)
        await pilot.press(*"from:bob")
        await settle(pilot)
        assert shown_subjects(app) == ["Quarterly report"]
        assert "Search: from:bob — 1 result" in status_text(app)
        assert app.facade.search_calls[-1] == ("from:bob", "work", "INBOX")
        await pilot.press("escape")
        await settle(pilot)
        assert not app.main_screen.search_bar.is_open
        assert len(shown_subjects(app)) == 6 and "INBOX · by date" in status_text(app)


async def test_enter_submits_a_server_search_and_merges_its_results(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"is:unread", "enter")
        await settle(pilot)
        assert shown_subjects(app) == ["Quarterly report", "Größenänderung — 日本語の件名"]
        search = [r for r in app.facade.submitted if isinstance(r, Search)]
        assert [(s.account, s.folder, s.query) for s in search] == [("work", "INBOX", "is:unread")]
        app.facade.emit(SearchResults(request_id=search[0].request_id, row_ids=(2, 6), complete=True))
        app.facade.emit(SearchResults(request_id=999_999, row_ids=(1,), complete=True))  # not ours
        await settle(pilot)
        assert shown_subjects(app) == ["Quarterly report", "Größenänderung — 日本語の件名", "Welcome to the team"]
        assert "3 results" in status_text(app)
        app.facade.emit(MessagesChanged(account="work", folder="INBOX", changed=1))  # search runs again
        await settle(pilot)
        assert shown_subjects(app) == ["Quarterly report", "Größenänderung — 日本語の件名", "Welcome to the team"]
        await pilot.press("asterisk", "N")  # everything matching the search
        flags = [r for r in app.facade.submitted if isinstance(r, SetFlags)]
        assert [(f.uids, f.add) for f in flags] == [((2, 3, 6), frozenset({SEEN}))]
        await pilot.press("escape")  # marks cleared by the action: Esc leaves the search
        await settle(pilot)
        assert len(shown_subjects(app)) == 6


async def test_an_error_of_a_query_typed_half_way_goes_once_the_query_searches(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"is:unrea")  # a pause in the typing: this much is searched
        await settle(pilot)
        assert "error: search: is:unrea" in status_text(app)
        await pilot.press("d")
        await settle(pilot)
        assert "error" not in status_text(app)
        assert "2 results" in status_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert shown_subjects(app) == ["Quarterly report", "Größenänderung — 日本語の件名"]
        assert "error" not in status_text(app)


async def test_a_server_search_says_how_many_older_matches_it_left_on_the_server(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"is:unread", "enter")
        await settle(pilot)
        (search,) = [r for r in app.facade.submitted if isinstance(r, Search)]
        # two folders' answers: the matches the cache lacked beyond the newest are counted
        app.facade.emit(SearchResults(request_id=search.request_id, row_ids=(2,), complete=False, more=1))
        app.facade.emit(SearchResults(request_id=search.request_id, row_ids=(), complete=True, more=1200))
        await settle(pilot)
        assert "1201 older matches left on the server" in status_text(app)
        assert "Welcome to the team" in shown_subjects(app)  # what came is shown all the same


async def test_query_error_shows_in_the_status_bar(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"colour:red")
        # The local search starts on a timer once typing pauses and runs on a thread: on a busy
        # machine it may end after any fixed pause, so the test waits for what the user sees.
        await wait_until(pilot, lambda: "unknown search term colour:" in status_text(app), "the query's error")
        await settle(pilot)
        assert "unknown search term colour:" in status_text(app)
        assert len(shown_subjects(app)) == 6


async def test_a_query_that_becomes_an_error_leaves_the_earlier_matches(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"from:bob")
        await wait_until(pilot, lambda: shown_subjects(app) == ["Quarterly report"], "the matches of from:bob")
        await pilot.press(*" colour:red")
        await wait_until(pilot, lambda: "unknown search term colour:" in status_text(app), "the query's error")
        await settle(pilot)
        assert len(shown_subjects(app)) == 6  # the folder, not the matches of a query no longer typed
        assert "unknown search term colour:" in status_text(app)


async def test_thread_view_indents_and_z_collapses(make_app):
    app = make_app(threaded_facade)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert shown_subjects(app)[0] == "Re: Re: Plan"  # flat: newest first
        await pilot.press("T")
        await settle(pilot)
        assert shown_subjects(app) == ["Plan", "Re: Plan", "Re: Re: Plan", "Re: Plan", "Lonely", "Zebra facts"]
        lines = [list_line(app, i)[0] for i in range(6)]
        # Two replies to Plan: the first branches off (├─) with its own reply under a │, the last closes (└─)
        assert "▾ Plan" in lines[0] and "├─Re: Plan" in lines[1] and "│ └─Re: Re: Plan" in lines[2]
        assert "└─Re: Plan" in lines[3] and "├─" not in lines[3]
        assert "threads" in status_text(app)
        assert cursor_subject(app) == "Re: Re: Plan"  # the cursor stays on its message
        await pilot.press("z")  # on a reply: collapses its thread
        assert shown_subjects(app) == ["Plan", "Lonely", "Zebra facts"]
        assert cursor_subject(app) == "Plan"
        assert "▸ Plan [4 · 1N]" in list_line(app, 0)[0]
        await pilot.press("a")  # triage on a collapsed thread: the whole thread
        move = [r for r in app.facade.submitted if isinstance(r, MoveMessages)][-1]
        assert move.uids == (1, 2, 3, 4)
        assert shown_subjects(app) == ["Lonely", "Zebra facts"] and cursor_subject(app) == "Lonely"


def last_reply_answered_facade(sink: EventSink) -> FakeFacade:
    """Plan with two replies, the second (the last) answered in turn: Plan <- Bob, Plan <- Cy <- Ann."""
    facade = FakeFacade(sink)
    facade.add_folder(Folder("work", "INBOX", "/", FolderRole.INBOX, total=4, unread=0))
    for row_id, subject, sender, hours in [(1, "Plan", "Ann", 6), (2, "Re: Plan", "Bob", 5),
                                           (3, "Re: Plan", "Cy", 4), (4, "Re: Re: Plan", "Ann", 3)]:
        facade.add_message("work", "INBOX", row_id=row_id, subject=subject, sender=sender,
                           date=NOW - timedelta(hours=hours))
    facade.set_parent(2, 1)
    facade.set_parent(3, 1)
    facade.set_parent(4, 3)
    return facade


async def test_a_reply_to_the_last_reply_is_drawn_one_level_deeper(make_app):
    app = make_app(last_reply_answered_facade)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("T")
        await settle(pilot)
        assert shown_subjects(app) == ["Plan", "Re: Plan", "Re: Plan", "Re: Re: Plan"]
        lines = [list_line(app, i)[0] for i in range(4)]
        assert "├─Re: Plan" in lines[1] and "└─Re: Plan" in lines[2]
        # Under the last reply no │ runs down, so Ann's answer starts with blanks, then └─
        assert "  └─Re: Re: Plan" in lines[3] and "│" not in lines[3]
        assert lines[3].index("└─") == lines[2].index("└─") + 2


def deep_thread_facade(sink: EventSink) -> FakeFacade:
    """A chain of 40 replies, each to the one before, with a long subject; one is flagged."""
    facade = FakeFacade(sink)
    facade.add_folder(Folder("work", "INBOX", "/", FolderRole.INBOX, total=40, unread=1))
    subject = "Re: the quarterly planning meeting and everything it decided"
    for n in range(40, 0, -1):
        flags = {SEEN, FLAGGED} if n == 30 else {SEEN} if n != 39 else set()
        facade.add_message("work", "INBOX", row_id=n, subject=subject, date=NOW - timedelta(hours=50 - n),
                           flags=frozenset(flags))
        if n < 40:
            facade.set_parent(n + 1, n)
    return facade


async def test_a_deep_thread_stays_readable_and_its_collapsed_size_shows_at_80_columns(make_app):
    app = make_app(deep_thread_facade)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("T")
        await settle(pilot)
        listing = app.main_screen.message_list
        await pilot.press("G")
        deepest = list_line(app, listing.cursor)[0]
        assert "…" in deepest and "└─Re: the quarter" in deepest  # the indentation stops growing
        assert deepest.index("└─") - deepest.index("…") < 12
        await pilot.press("z")
        line = list_line(app, 0)[0]
        assert line.rstrip().endswith("[40 · 1N 1!]")


async def test_Z_collapses_and_expands_all(make_app):
    app = make_app(threaded_facade)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("T")
        await settle(pilot)
        await pilot.press("Z")
        assert shown_subjects(app) == ["Plan", "Lonely", "Zebra facts"]
        await pilot.press("Z")
        assert len(shown_subjects(app)) == 6
        await pilot.press("T")
        await settle(pilot)
        assert shown_subjects(app)[0] == "Re: Re: Plan" and "threads" not in status_text(app)


async def test_sort_menu_and_reverse(make_app):
    app = make_app(threaded_facade)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, SortMenu)
        await pilot.press("s")  # sender
        await settle(pilot)
        assert [app.main_screen.message_list.row_at(i).sender for i in range(6)] == ["Ann", "Ann", "Bob", "Cy", "Dee", "Eve"]
        assert "by sender" in status_text(app)
        await pilot.press("O")
        await settle(pilot)
        assert app.main_screen.message_list.row_at(0).sender == "Eve"
        assert "by sender, reversed" in status_text(app)
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("down", "enter")  # from sender, down to subject
        await settle(pilot)
        assert shown_subjects(app)[0] == "Zebra facts" and "by subject, reversed" in status_text(app)
        await pilot.press("T")  # thread roots follow the order too
        await settle(pilot)
        assert shown_subjects(app)[0] == "Zebra facts"


async def test_virtual_folders_sit_atop_the_tree_and_open(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        tree = app.main_screen.folder_tree
        labels = [str(tree.get_node_at_line(i).label) for i in range(3)]
        assert labels == ["◆ All inboxes", "⌕ Flagged", "work"]
        await pilot.press("h", "g", "j", "l")
        await settle(pilot)
        assert shown_subjects(app) == ["Lunch on Thursday?"]
        assert "Flagged · by date" in status_text(app)


async def test_new_mail_rings_the_bell_and_says_so(make_app):
    """With two accounts (as here), each with an INBOX, the notice says whose."""
    app = make_app()
    rings = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.bell = lambda: rings.append(1)
        await settle(pilot)
        app.facade.emit(NewMail(account="work", folder="INBOX", count=2))
        await pilot.pause()
        assert rings == [1]
        assert "2 new messages in work/INBOX" in status_text(app)


async def test_new_mail_without_bell_when_configured(make_app):
    app = make_app(notify="desktop")
    rings = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.bell = lambda: rings.append(1)
        await settle(pilot)
        app.facade.emit(NewMail(account="work", folder="INBOX", count=1))
        await pilot.pause()
        assert rings == [] and "1 new message in work/INBOX" in status_text(app)


async def test_hundred_thousand_rows_in_thread_view_stay_responsive(make_app):
    app = make_app(big_folder_facade("Huge"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("T")
        await settle(pilot)
        listing = app.main_screen.message_list
        assert listing.row_count == 100_000
        assert "├─" in list_line(app, 1)[0]
        await pilot.press("G")
        assert cursor_subject(app) == "Message 1"
        await pilot.press("Z")
        assert listing.row_count == 25_000
        assert list_line(app, listing.cursor)[0].rstrip().endswith("[4]")
        await pilot.press("g", "z")  # expand the first thread only
        assert listing.row_count == 25_003
        await pilot.press("Z")  # not all collapsed: collapse all
        assert listing.row_count == 25_000
        await pilot.press("Z")  # all collapsed: expand all
        assert listing.row_count == 100_000
        assert app.facade.rows_calls < 40  # pages read from the store, never every row
        await pilot.press("asterisk", "d")  # many targets: read in a thread, then removed
        await settle(pilot)
        deletes = [r for r in app.facade.submitted if isinstance(r, DeleteMessages)]
        assert [len(d.uids) for d in deletes] == [100_000]
        assert listing.row_count == 0


def test_unknown_notify_setting_is_refused(make_app):
    try:
        make_app(notify="loud")
    except ValueError as exc:
        assert "loud" in str(exc) and "bell" in str(exc)
    else:
        raise AssertionError("an unknown notify setting must be refused")


async def test_threads_on_from_the_start_when_configured(make_app):
    app = make_app(threads=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.main_screen.message_list.threads is not None
        assert "threads" in status_text(app)


async def test_slash_opens_the_search_again_after_leaving_a_search(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"is:unread", "enter")
        await settle(pilot)
        await pilot.press("escape")  # back to the folder
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        # The field is open and has the keys: typing must not reach the list as triage keys.
        assert isinstance(app.focused, SearchBar)
        await pilot.press(*"da")
        await settle(pilot)
        assert not any(isinstance(r, (DeleteMessages, MoveMessages)) for r in app.facade.submitted)
        assert app.focused.value == "da"


async def test_the_status_bar_names_the_account_of_the_folder_shown_when_there_are_several(make_app):
    """Two accounts, each with an INBOX: the status bar says whose is shown."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "work/INBOX · by date" in status_text(app)
        app.main_screen.open_folder("home", "INBOX")
        await settle(pilot)
        assert "home/INBOX · by date" in status_text(app)
        assert shown_subjects(app) == ["Family dinner"]


async def test_with_one_account_the_status_bar_names_the_folder_alone(make_app):
    app = make_app(lambda sink: FakeFacade(sink))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "INBOX · by date" in status_text(app) and "work/" not in status_text(app)
