"""The compose screen over the fake facade: replies and forwards as the user sees them, address
and path completion, attachments, the user's editor, sending, and drafts kept or discarded."""

from __future__ import annotations

import email
import email.policy
import stat
import sys

from datetime import timedelta
from typing import cast

from textual.pilot import Pilot
from textual.widgets import Input, OptionList, TextArea

from mailbag.domain.compose import StartCompose
from mailbag.domain.events import RequestDone, RequestUnsupported
from mailbag.domain.requests import RetryAccount, SaveDraft, SendMessage
from mailbag.ui.app import MailbagApp
from mailbag.ui.screens.compose import ComposeScreen
from tests.ui.conftest import settle
from tests.ui.fake_facade import NOW, FakeFacade
from tests.ui.fields import put_text
from tests.ui.helpers import screen_text


def field(app: MailbagApp, name: str) -> str:
    return app.screen.query_one(f"#compose-{name}", Input).value


def body(app: MailbagApp) -> str:
    return app.screen.query_one(TextArea).text


def sent(app: MailbagApp) -> list[SendMessage]:
    return [r for r in cast(FakeFacade, app.facade).submitted if isinstance(r, SendMessage)]


async def open_compose(pilot: Pilot, key: str) -> ComposeScreen:
    await settle(pilot)
    await pilot.press(key)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ComposeScreen), f"{key} opened {screen!r}"
    return screen


async def test_reply_shows_the_quote_below_an_attribution(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compose(pilot, "r")
        text = screen_text(app)
        assert "From    Me Example <me@example.org>" in text
        assert "To      Bob Builder <bob@example.org>" in text
        assert "Subject Re: Quarterly report" in text
        assert "On Sun, 15 Mar 2026 at 10:00, Bob Builder wrote:" in text
        assert "> the quarterly report is attached. Numbers look good this time." in text
        assert ">> Can you send the report before Friday?" in text
        # The cursor waits below the quote, above the signature.
        area = app.screen.query_one(TextArea)
        assert app.focused is area
        lines = area.text.split("\n")
        row = area.cursor_location[0]
        assert lines[row] == "" and lines[row - 1] == "" and lines[row - 2] == "> Bob"
        assert "-- " in lines[area.cursor_location[0]:]


async def test_reply_all_forward_and_forward_as_attachment(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compose(pilot, "R")
        assert field(app, "to") == "Bob Builder <bob@example.org>"
        assert field(app, "cc") == ""  # the only other recipient was the user
        await pilot.press("escape", "d")  # discard
        await settle(pilot)
        await open_compose(pilot, "f")
        assert field(app, "subject") == "Fwd: Quarterly report" and field(app, "to") == ""
        assert "---------- Forwarded message ----------" in body(app)
        assert app.focused is app.screen.query_one("#compose-to")
        area = app.screen.query_one(TextArea)  # the body waits where writing starts, not on top
        assert area.cursor_location[0] > 0 and "-- " in area.text.split("\n")[area.cursor_location[0]:]
        await pilot.press("escape", "d")
        await settle(pilot)
        await open_compose(pilot, "ctrl+f")
        listing = app.screen.query_one("#compose-attachments", OptionList)
        assert listing.display and listing.option_count == 1
        assert "Quarterly report.eml  message/rfc822" in str(listing.get_option_at_index(0).prompt)


async def test_retry_moved_to_dollar_and_R_replies_to_all(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("dollar_sign")
        await pilot.pause()
        assert {r.account for r in app.facade.submitted if isinstance(r, RetryAccount)} == {"work", "home"}
        await open_compose(pilot, "R")


async def test_new_message_completes_addresses_seen_and_sends_without_bcc(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compose(pilot, "c")
        assert app.focused is app.screen.query_one("#compose-to")
        await pilot.press(*"Carol")
        await settle(pilot)  # the completion worker has answered
        await pilot.press("tab")
        assert field(app, "to") == "Carol Danvers <ann@example.org>"
        await pilot.press("tab")  # nothing to complete: on to Cc
        assert app.focused is app.screen.query_one("#compose-cc")
        await pilot.press("tab", *"bob@example.org", "tab", *"Numbers", "tab", *"They look good.")
        await pilot.pause()
        assert field(app, "bcc") == "bob@example.org" and field(app, "subject") == "Numbers"
        await pilot.press("ctrl+s")
        await settle(pilot)
        [request] = sent(app)
        assert request.account == "work"
        assert request.recipients == ("ann@example.org", "bob@example.org")
        message = email.message_from_bytes(request.message, policy=email.policy.default)
        assert message["To"] == "Carol Danvers <ann@example.org>" and message["Bcc"] is None
        assert b"bob@example.org" not in request.message
        assert message.get_content().startswith("They look good.")
        assert isinstance(app.screen, ComposeScreen)  # until the outbox has it
        assert app.facade.drafts.load_all()  # kept meanwhile
        app.facade.emit(RequestDone(request.request_id))
        await settle(pilot)
        assert not isinstance(app.screen, ComposeScreen)
        assert "Message queued for sending" in app.main_screen.status.render_line(0).text
        assert app.facade.drafts.load_all() == []


async def test_send_later_queues_the_message_for_the_time_given(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compose(pilot, "r")
        await pilot.press("ctrl+l", *"soon", "enter")
        await settle(pilot)
        assert sent(app) == [] and '"soon": give +30m, +2h, +1d, 14:30' in screen_text(app)
        field_ = app.screen.query_one("#compose-when", Input)
        field_.value = ""
        await pilot.press(*"+2h", "enter")
        await settle(pilot)
        [request] = sent(app)
        assert request.send_at == (NOW + timedelta(hours=2)).timestamp()
        app.facade.emit(RequestDone(request.request_id))
        await settle(pilot)
        assert "Message queued to be sent Sun 15 Mar 14:00" in app.main_screen.status.render_line(0).text


async def test_the_from_field_chooses_the_account_that_sends(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compose(pilot, "r")
        assert field(app, "from") == "Me Example <me@example.org>"
        app.screen.query_one("#compose-from", Input).value = ""
        app.screen.query_one("#compose-from").focus()
        await pilot.press(*"me@h")
        await settle(pilot)  # the completion worker has answered
        await pilot.press("tab")
        assert field(app, "from") == "me@home.example.org"
        await pilot.press("ctrl+s")
        await settle(pilot)
        [request] = sent(app)
        assert request.account == "home"
        assert b"From: me@home.example.org" in request.message


async def test_a_send_the_services_refuse_keeps_the_screen_and_says_why(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compose(pilot, "r")
        await pilot.press("ctrl+s")
        await settle(pilot)
        [request] = sent(app)
        app.facade.emit(RequestUnsupported(request.request_id, "work cannot send mail (no [smtp] table)"))
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
        assert "Not sent: work cannot send mail (no [smtp] table)" in screen_text(app)


async def test_header_injection_typed_or_pasted_is_refused(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compose(pilot, "r")
        app.screen.query_one("#compose-to", Input).value = "bob@example.org\r\nBcc: evil@example.org"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert sent(app) == []
        assert "To: line breaks and control characters are not allowed" in screen_text(app)
        assert app.focused is app.screen.query_one("#compose-to")
        app.screen.query_one("#compose-to", Input).value = "bob"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert sent(app) == [] and 'To: "bob" is not an email address' in screen_text(app)


async def test_attachments_are_added_with_completion_listed_and_removed(make_app, tmp_path) -> None:
    report = tmp_path / "quarterly-report.pdf"
    report.write_bytes(b"%PDF" + b"x" * 300_000)
    (tmp_path / "notes.txt").write_text("notes\n")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compose(pilot, "r")
        await pilot.press("ctrl+t")
        assert app.focused is app.screen.query_one("#compose-attach")
        await put_text(pilot, f"{tmp_path}/qu")
        await settle(pilot)  # the folder was read in a thread and the completion is shown
        await pilot.press("tab")
        assert field(app, "attach") == str(report)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("ctrl+t")
        await put_text(pilot, f"{tmp_path}/notes.txt")
        await pilot.press("enter")
        await settle(pilot)
        listing = app.screen.query_one("#compose-attachments", OptionList)
        shown = [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]
        assert shown == ["quarterly-report.pdf  application/pdf  292 KB", "notes.txt  text/plain  6 B"]
        await pilot.press("ctrl+t")
        await put_text(pilot, f"{tmp_path}/missing.pdf")
        await pilot.press("enter")
        await settle(pilot)
        assert "missing.pdf: No such file or directory" in screen_text(app)
        assert [a.name for a in app.screen.draft.attachments] == ["quarterly-report.pdf", "notes.txt"]
        await pilot.press("escape")  # leaves the attach field
        listing.focus()
        listing.highlighted = 0
        await pilot.press("d")
        await settle(pilot)
        assert [a.name for a in app.screen.draft.attachments] == ["notes.txt"]
        await pilot.press("ctrl+s")
        await settle(pilot)
        [request] = sent(app)
        message = email.message_from_bytes(request.message, policy=email.policy.default)
        [part] = list(message.iter_attachments())
        assert part.get_filename() == "notes.txt" and part.get_payload(decode=True) == b"notes\n"


EDITOR = """\
import sys
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
open(path, "w", encoding="utf-8").write("Written in my editor.\\n" + text)
"""


async def test_the_body_round_trips_through_the_users_editor(make_app, tmp_path) -> None:
    script = tmp_path / "fake-editor.py"
    script.write_text(EDITOR)
    app = make_app(editor=f"{sys.executable} {script}")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compose(pilot, "r")
        before = body(app)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert body(app) == "Written in my editor.\n" + before
        assert "Body taken from the editor" in screen_text(app)


async def test_the_editor_gets_a_private_file_and_a_failing_editor_changes_nothing(make_app, tmp_path) -> None:
    report = tmp_path / "report"
    script = tmp_path / "editor.sh"
    script.write_text(f'#!/bin/sh\nstat -c %a "$1" > {report}\nstat -c %a "$(dirname "$1")" >> {report}\nexit 3\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    app = make_app(editor=str(script))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compose(pilot, "r")
        before = body(app)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert body(app) == before
        assert "editor.sh exited with status 3; the text was not changed" in screen_text(app)
        assert report.read_text().split() == ["600", "700"]


async def test_closing_keeps_or_discards_the_draft(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compose(pilot, "r")
        await pilot.press(*"See you there.")
        await pilot.press("escape")
        await settle(pilot)
        assert "Keep the draft for later" in screen_text(app)
        await pilot.press("k")
        await settle(pilot)
        assert not isinstance(app.screen, ComposeScreen)
        [kept] = app.facade.drafts.load_all()
        assert "See you there." in kept.body and kept.subject == "Re: Quarterly report"
        [saved] = [r for r in app.facade.submitted if isinstance(r, SaveDraft) and r.raw is not None]
        assert saved.raw is not None and saved.message_id == kept.message_id
        assert b"See you there." in saved.raw
        app.facade.emit(RequestDone(saved.request_id))  # the Drafts folder has it: off the disk
        await settle(pilot)
        assert app.facade.drafts.load_all() == []
        # Resumed from the Drafts folder, then discarded: nothing is left anywhere.
        app.facade.add_message("work", "Drafts", row_id=900, subject="Re: Quarterly report", body="x")
        app.facade.raw[("work", "Drafts", 900)] = saved.raw
        app.main_screen.open_folder("work", "Drafts")
        await settle(pilot)
        await open_compose(pilot, "e")
        assert "See you there." in body(app) and app.screen.draft.message_id == kept.message_id
        await pilot.press("escape", "d")
        await settle(pilot)
        assert app.facade.drafts.load_all() == []
        removal = [r for r in app.facade.submitted if isinstance(r, SaveDraft)][-1]
        assert removal.raw is None and removal.message_id == kept.message_id


async def test_an_empty_draft_never_silently_replaces_one_with_text(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_compose(pilot, "c")
        await pilot.press(*"ann@example.org")
        screen.save_now()
        screen.query_one("#compose-to", Input).value = ""
        await pilot.press("escape")
        await settle(pilot)
        assert "The message is empty now" in screen_text(app)
        await pilot.press("k")
        await settle(pilot)
        [kept] = app.facade.drafts.load_all()
        assert kept.to == "ann@example.org"


def test_compose_screen_snapshot(snap_compare, make_app) -> None:
    async def reply(pilot: Pilot) -> None:
        await open_compose(pilot, "r")
        await pilot.press("ctrl+t", "escape")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=reply)



async def test_the_palette_has_the_writing_commands_where_they_apply(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        main = {c.title: c for c in app.get_system_commands(app.main_screen)}
        assert {"New message", "Reply to all", "Forward as attachment", "Reconnect, check POP3, retry set-aside"} <= set(main)
        assert "Send the message" not in main
        main["Forward as attachment"].callback()
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
        composing = {c.title: c for c in app.get_system_commands(app.screen)}
        assert {"Send the message", "Send later…", "Attach a file…", "Edit the body in $EDITOR"} <= set(composing)
        assert "Reply to all" not in composing
        composing["Attach a file…"].callback()
        await pilot.pause()
        assert app.focused is app.screen.query_one("#compose-attach")


async def test_mailbag_compose_opens_on_the_new_message_and_sends_it(make_app, tmp_path) -> None:
    report = tmp_path / "report.txt"
    report.write_text("figures\n")
    start = StartCompose(account="work", to="ann@example.org", cc="bob@example.org", subject="Numbers",
                         body="They look good.", attach=(str(report),))
    app = make_app(start=start)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)  # no key pressed: the new message is open
        assert (field(app, "to"), field(app, "cc"), field(app, "subject")) == (
            "ann@example.org", "bob@example.org", "Numbers")
        assert body(app).startswith("They look good.")
        assert "report.txt" in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        [request] = sent(app)
        assert request.account == "work" and request.recipients == ("ann@example.org", "bob@example.org")
        message = email.message_from_bytes(request.message, policy=email.policy.default)
        [attached] = message.iter_attachments()
        assert attached.get_filename() == "report.txt" and attached.get_content() == "figures\n"
        app.facade.emit(RequestDone(request.request_id))
        await settle(pilot)
        assert app.screen is app.main_screen  # mailbag stays open, on the mail
