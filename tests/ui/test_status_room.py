"""The status bar at 80 columns with several accounts: a notice or an error is read whole, the
account states shrink (a short form, then a sign each, then a count) to make room for it."""

from __future__ import annotations

from mailbag.domain.events import ActionApplied, ConnectionChanged, ErrorReported
from mailbag.domain.models import ConnectionState
from mailbag.ui.app import MailbagApp
from tests.ui.conftest import settle
from tests.ui.fake_facade import FakeFacade


def status_line(app: MailbagApp) -> str:
    """The status bar's row as painted."""
    return app.main_screen.status.render_line(0).text


def two_accounts_without_tls(facade: FakeFacade) -> None:
    for account in ("work", "home"):
        facade.emit(ConnectionChanged(account=account, state=ConnectionState.ONLINE, plaintext=("imap", "smtp")))


async def test_two_accounts_without_tls_leave_a_notice_whole_at_80_columns(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        two_accounts_without_tls(app.facade)
        await pilot.pause()
        line = status_line(app)  # nothing to say: the states are whole
        assert "work no TLS (imap, smtp) online" in line and "home no TLS (imap, smtp) online" in line
        app.facade.emit(ActionApplied(account="work", description="Moved 3 messages to Archive"))
        await pilot.pause()
        line = status_line(app)
        assert "Moved 3 messages to Archive" in line and "…" not in line
        assert "work no TLS online" in line and "home no TLS online" in line  # the short form
        assert line.rstrip().endswith("? help")


async def test_a_long_error_shrinks_the_states_to_a_sign_each_then_a_count(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        two_accounts_without_tls(app.facade)
        app.facade.emit(ErrorReported(account="work", message="MOVE failed: over quota"))
        await pilot.pause()
        line = status_line(app)
        assert "error: work: MOVE failed: over quota" in line and "…" not in line
        assert "work ⚠✓" in line and "home ⚠✓" in line
        app.facade.emit(ErrorReported(
            account="work", message="MOVE failed: the Archive folder is over quota",
        ))
        await pilot.pause()
        line = status_line(app)
        assert "MOVE failed: the Archive folder is over quota" in line and "…" not in line
        assert "work" not in line.split("│")[-2] and "⚠ 2✓" in line
        assert line.rstrip().endswith("? help")


async def test_a_refused_login_keeps_its_key_in_the_shortest_form(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.facade.emit(ConnectionChanged(account="home", state=ConnectionState.ONLINE))
        app.facade.emit(ConnectionChanged(account="work", state=ConnectionState.ERROR, waiting_for_user=True,
                                          detail="login refused: wrong password (fix the password, then retry)"))
        app.facade.emit(ErrorReported(
            account="home", message="MOVE failed: over quota (2 MB)",
        ))
        await pilot.pause()
        line = status_line(app)
        assert "MOVE failed: over quota (2 MB)" in line and "…" not in line
        assert "refused ($)" in line and line.rstrip().endswith("? help")


def dialog_text(app: MailbagApp) -> str:
    from mailbag.ui.screens.dialogs import TextDialog

    assert isinstance(app.screen, TextDialog), app.screen
    return str(app.screen.query_one("#text-dialog-text").render())


LONG = ('TLS with pop.example.org:110 failed: the server did not answer in TLS (WRONG_VERSION_NUMBER); '
        'is this a port for STARTTLS? then security = "starttls"')


async def test_what_the_line_had_to_cut_is_read_whole_from_the_palette_or_a_click(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        two_accounts_without_tls(app.facade)
        app.facade.emit(ConnectionChanged(account="old", state=ConnectionState.OFFLINE,
                                          detail="no greeting from pop.example.org:995 within 30 s"))
        app.facade.emit(ErrorReported(account="old", message=LONG))
        await pilot.pause()
        assert 'security = "starttls"' not in status_line(app)  # cut at 80 columns

        await pilot.press("ctrl+p", *"status in full")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        text = dialog_text(app)
        assert f"Last: error: old: {LONG}" in " ".join(text.split())  # wrapped, never cut
        assert "old: offline (no greeting from pop.example.org:995 within 30 s)" in text
        assert "work: online" in text and "home: online" in text
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.main_screen

        await pilot.click("#status")
        await settle(pilot)
        assert f"old: {LONG}" in " ".join(dialog_text(app).split())


async def test_an_error_a_notice_took_the_place_of_is_read_in_the_status_in_full(make_app):
    """The line shows the last thing told only; "Status in full" lists what came before, newest
    first with the time of each, the same thing told again in a row once with its count, work
    begun not beside the word of its end; a history longer than the screen scrolls."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        two_accounts_without_tls(app.facade)
        for _ in range(3):
            app.facade.emit(ErrorReported(account="work", message="MOVE failed: over quota"))
        app.main_screen.status.set_notice("Moving 3 messages to Archive…")  # then done: told once
        app.facade.emit(ActionApplied(account="work", description="Moved 3 messages to Archive"))
        await pilot.pause()
        assert "over quota" not in status_line(app)  # the notice took its place

        await pilot.click("#status")
        await settle(pilot)
        lines = dialog_text(app).splitlines()
        assert lines[0] == "Last: Moved 3 messages to Archive"
        told = lines[lines.index("Told lately, newest first:") + 1:]
        assert [line[9:] for line in told][:1] == ["Moved 3 messages to Archive"]
        assert told[1][9:].startswith("error: work: MOVE failed: over quota (3 times, last at ")
        assert len(told) == 2
        assert all(line[2] == line[5] == ":" for line in told)  # 14:02:11 ...
        await pilot.press("escape")
        await settle(pilot)

        for n in range(40):
            app.facade.emit(ActionApplied(account="work", description=f"Moved message {n}"))
        await pilot.pause()
        await pilot.click("#status")
        await settle(pilot)
        text = dialog_text(app)
        assert "Moved message 39" in text and "Moved message 10" in text and "Moved message 9\n" not in text
        scroll = app.screen.query_one("#text-dialog-scroll")
        closing = app.screen.query("Static").last()
        assert str(closing.render()) == "Esc to close" and closing.region.bottom <= 24  # on the screen
        assert scroll.max_scroll_y > 0 and scroll.scroll_y == 0
        for _ in range(5):
            await pilot.press("j")
        await settle(pilot)
        assert scroll.scroll_y == 5
        await pilot.press("k")
        await settle(pilot)
        assert scroll.scroll_y == 4
