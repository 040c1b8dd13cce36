"""Ctrl+b lists the links of the message in the reader with their real targets; a link is
opened after asking (mailto in mailbag's compose screen, http(s) in the browser, started with
an argument list), or copied through the terminal (OSC 52); other schemes are never opened.
Over the real services on a Maildir account."""

from __future__ import annotations

import base64
import stat
from email.message import EmailMessage
from pathlib import Path

from mailbag.ui.screens.compose import ComposeScreen
from mailbag.ui.screens.dialogs import ConfirmDialog
from mailbag.ui.screens.link_picker import LinkPicker
from mailbag.ui.widgets.reader import FULL_SCREEN, ReaderBody
from tests.ui.helpers import screen_text, status_text
from tests.ui.real_services import maildir_config, reader_text, running, simple_message, wait_until

TRICKY = "https://example.org/a?q=$(touch%20pwned);b=`id`&c=1"

NEWSLETTER_HTML = f"""<html><body>
<p>Your parcel is on its way: <a href="https://track.example/A-1042?utm=mail&amp;id=7">Track it</a>.</p>
<p><a href="https://evil.example/login">https://www.paypal.com/signin</a></p>
<p><a href="java&#10;script:alert(document.cookie)">Unsubscribe</a>
<a href="file:///etc/passwd">Your invoice</a></p>
<p>Questions? <a href="mailto:help@shop.example?subject=Parcel%20A-1042&amp;bcc=spy@evil.example">Write to us</a>
or see https://shop.example/faq.</p>
<p><a href="{TRICKY}">odd link</a></p>
</body></html>
"""


def html_message(sender: str, subject: str, message_id: str, html: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "Me <me@example.test>"
    msg["Subject"] = subject
    msg["Date"] = "Tue, 03 Mar 2026 10:15:00 +0100"
    msg["Message-ID"] = message_id
    msg.set_content(html, subtype="html")
    return msg.as_bytes()


def newsletter() -> bytes:
    return html_message("Shop <news@shop.example>", "Your parcel", "<parcel@shop.example>", NEWSLETTER_HTML)


def recording_browser(tmp_path: Path) -> tuple[Path, Path]:
    """A browser that writes each argument it gets on a line of its own, and says it is done."""
    script, record = tmp_path / "browser", tmp_path / "browser-args"
    script.write_text(f'#!/bin/sh\nfor arg in "$@"; do printf "%s\\n" "$arg"; done > {record}.tmp\nmv {record}.tmp {record}\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, record


async def open_picker(pilot, app) -> LinkPicker:
    await wait_until(pilot, lambda: "Your parcel is on its way" in reader_text(app)[1], "the newsletter shown")
    await pilot.press("ctrl+b")
    await wait_until(pilot, lambda: isinstance(app.screen, LinkPicker), "the links listed")
    await pilot.pause()
    assert isinstance(app.screen, LinkPicker)
    return app.screen


async def test_the_links_are_listed_with_their_real_targets_and_the_phishing_tell(tmp_path):
    config = maildir_config(tmp_path / "Mail", [newsletter()])
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(100, 40)) as (app, pilot, store):
        await pilot.press("enter")
        picker = await open_picker(pilot, app)
        assert [link.target for link in picker.links] == [
            "https://track.example/A-1042?utm=mail&id=7",
            "https://evil.example/login",
            "javascript:alert(document.cookie)",
            "file:///etc/passwd",
            "mailto:help@shop.example?subject=Parcel%20A-1042&bcc=spy@evil.example",
            "https://shop.example/faq",
            TRICKY,
        ]
        screen = screen_text(app)
        assert "7 links in this message" in screen
        assert "1 https://track.example/A-1042?utm=mail&id=7" in screen and "Track it" in screen
        assert " 2 https://evil.example/login" in screen
        assert "⚠ the text says paypal.com: the link goes elsewhere" in screen
        rows = [row.split("│", 1)[-1].strip("│ ") for row in screen.splitlines()]  # inside the frame
        assert rows[rows.index("3 javascript:alert(document.cookie)") + 1] == "not opened: javascript"
        assert rows[rows.index("4 file:///etc/passwd") + 1] == "not opened: file"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, LinkPicker) and app.is_running


async def test_a_plain_text_message_lists_its_urls(tmp_path):
    body = "See https://example.org/notes (and mailto:ann@example.org).\nBye\n"
    config = maildir_config(tmp_path / "Mail", [simple_message(1, body=body), simple_message(2)])
    async with running(config, tmp_path / "cache.sqlite3", 2, size=(80, 24)) as (app, pilot, store):
        await pilot.press("enter")  # message 2, the newest: no link in it
        await wait_until(pilot, lambda: "message 2." in reader_text(app)[1], "message 2 shown")
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: "No links in this message" in status_text(app), "no links")
        await pilot.press("h", "j")  # back to the list, the next message
        await wait_until(pilot, lambda: "example.org/notes" in reader_text(app)[1], "the message shown")
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: isinstance(app.screen, LinkPicker), "the links listed")
        picker = app.screen
        assert isinstance(picker, LinkPicker)
        assert [link.target for link in picker.links] == ["https://example.org/notes", "mailto:ann@example.org"]
        await pilot.press("q")  # q closes the list, not mailbag
        await pilot.pause()
        assert app.is_running and not isinstance(app.screen, LinkPicker)


HIDDEN_LINKS_HTML = """<html><head><style>.pre { display: none } #tiny { font-size: 0 }</style></head><body>
<span class="pre">Preview https://preview.evil.example/p</span>
<p>Your bank needs you: <a href="https://bank.example/login">Sign in</a>.</p>
<div style="visibility:hidden"><a href="https://second.evil.example/steal">Sign in here</a></div>
<p id="tiny">also https://tiny.evil.example/x</p>
<!--[if mso]><![endif]--><div style="mso-hide:all"><a href="https://mso.evil.example/">Outlook</a></div>
<p hidden><a href="https://attr.evil.example/">hidden attribute</a></p>
<p><a href="https://bank.example/help" style="font-size:0">x</a>Help: https://bank.example/help-desk</p>
<p>Or write to <a href="mailto:care@bank.example">care@bank.example</a>.</p>
</body></html>
"""


async def test_links_the_message_hides_are_not_listed(tmp_path):
    message = html_message("Bank <care@bank.example>", "Your account", "<hidden-links@bank.example>", HIDDEN_LINKS_HTML)
    config = maildir_config(tmp_path / "Mail", [message])
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(100, 40)) as (app, pilot, store):
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Your bank needs you" in reader_text(app)[1], "the message shown")
        shown = reader_text(app)[1]
        assert "evil" not in shown and "Sign in here" not in shown
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: isinstance(app.screen, LinkPicker), "the links listed")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, LinkPicker)
        assert [link.target for link in picker.links] == [
            "https://bank.example/login",
            "https://bank.example/help-desk",
            "mailto:care@bank.example",
        ]
        screen = screen_text(app)
        assert "3 links in this message" in screen and "evil" not in screen


async def test_javascript_and_file_links_are_never_opened(tmp_path, monkeypatch):
    script, record = recording_browser(tmp_path)
    monkeypatch.setenv("BROWSER", str(script))
    config = maildir_config(tmp_path / "Mail", [newsletter()])
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(100, 40)) as (app, pilot, store):
        await pilot.press("enter")
        for number in ("3", "4"):
            await open_picker(pilot, app)
            await pilot.press(number, "o")
            await pilot.pause()
            assert not isinstance(app.screen, ConfirmDialog)  # nothing to confirm: it is refused
            assert "opens only http, https and mailto links" in status_text(app)
        await pilot.pause(0.5)
        assert not record.exists()


async def test_opening_a_web_link_asks_then_starts_the_browser_with_the_url_as_one_argument(tmp_path, monkeypatch):
    script, record = recording_browser(tmp_path)
    monkeypatch.setenv("BROWSER", f"{script} --new-tab %s")
    monkeypatch.chdir(tmp_path)
    config = maildir_config(tmp_path / "Mail", [newsletter()])
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(100, 40)) as (app, pilot, store):
        await pilot.press("enter")
        await open_picker(pilot, app)
        await pilot.press("2", "enter")  # the phishing link: the question warns again
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "asked")
        assert "Open https://evil.example/login? The text says paypal.com. y/n" in screen_text(app)
        await pilot.press("n")
        await pilot.pause(0.5)
        assert not record.exists()
        await open_picker(pilot, app)
        await pilot.press("7", "o")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "asked")
        await pilot.press("y")
        await wait_until(pilot, record.exists, "the browser started")
        assert record.read_text().splitlines() == ["--new-tab", TRICKY]
        assert not (tmp_path / "pwned").exists()  # no shell ever saw the URL
        assert f"Opening {TRICKY}" in status_text(app)


async def test_a_mailto_link_opens_the_compose_screen_without_its_hidden_recipient(tmp_path):
    config = maildir_config(tmp_path / "Mail", [newsletter()])
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(100, 40)) as (app, pilot, store):
        await pilot.press("enter")
        await open_picker(pilot, app)
        await pilot.press("5", "o")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "asked")
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, ComposeScreen), "the compose screen")
        compose = app.screen
        assert isinstance(compose, ComposeScreen)
        draft = compose.draft
        assert (draft.to, draft.cc, draft.bcc, draft.subject) == ("help@shop.example", "", "", "Parcel A-1042")
        assert (draft.account, draft.from_) == ("home", "me@example.test")
        assert "spy@evil.example" not in screen_text(app)


async def test_copying_a_link_sends_it_to_the_terminal_clipboard_with_osc_52(tmp_path):
    config = maildir_config(tmp_path / "Mail", [newsletter()])
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(100, 40)) as (app, pilot, store):
        written: list[str] = []
        assert app._driver is not None
        app._driver.write = written.append  # type: ignore[method-assign,assignment]
        await pilot.press("enter")
        await open_picker(pilot, app)
        await pilot.press("1", "y")
        await pilot.pause()
        target = "https://track.example/A-1042?utm=mail&id=7"
        osc52 = "\x1b]52;c;" + base64.b64encode(target.encode()).decode() + "\a"
        assert osc52 in written
        assert f"Copied {target}" in status_text(app)


def row_links(app, y: int) -> list[tuple[str, str]]:
    """The (text, hyperlink target) pieces of reader row ``y`` that are links."""
    strip = app.main_screen.reader.body.render_line(y)
    return [(s.text, s.style.link) for s in strip if s.style is not None and s.style.link]


async def test_urls_in_the_reader_are_terminal_hyperlinks_and_only_web_and_mail_ones(tmp_path):
    long_url = "https://example.org/" + "very-long-path/" * 6 + "end"
    body = (
        f"Read https://example.org/a?b=1; and {long_url}\n"
        "Not these: file:///etc/passwd javascript:alert(1)\n"
        "Write to mailto:ann@example.org or https://exämple.org/ü\n"
    )
    config = maildir_config(tmp_path / "Mail", [simple_message(1, body=body)])
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(80, 24)) as (app, pilot, store):
        await pilot.press("v")
        await wait_until(pilot, lambda: "Read https://example.org" in reader_text(app)[1], "the message shown")
        await pilot.pause()
        body_widget = app.main_screen.reader.body
        rows = [body_widget.render_line(y) for y in range(6)]
        texts = ["".join(s.text for s in strip).rstrip() for strip in rows]
        first = texts.index(next(t for t in texts if t.startswith("Read ")))
        assert row_links(app, first)[0] == ("https://example.org/a?b=1", "https://example.org/a?b=1")
        # The long URL is wrapped over two rows: each piece is the one whole link.
        assert texts[first + 1].startswith("https://example.org/very-long-path/")
        pieces = row_links(app, first + 1) + row_links(app, first + 2)
        assert "".join(text for text, _ in pieces) == long_url and {target for _, target in pieces} == {long_url}
        assert texts[first + 3].startswith("Not these") and row_links(app, first + 3) == []  # left as text
        assert row_links(app, first + 4) == [
            ("mailto:ann@example.org", "mailto:ann@example.org"),
            ("https://exämple.org/ü", "https://ex%C3%A4mple.org/%C3%BC"),
        ]
        # What the terminal gets: an OSC 8 hyperlink around the text.
        output = rows[first].render(app.console)
        assert "\x1b]8;id=" in output and ";https://example.org/a?b=1\x1b\\" in output


async def test_the_links_over_the_full_screen_reader_give_it_back(tmp_path):
    config = maildir_config(tmp_path / "Mail", [newsletter()])
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(80, 24)) as (app, pilot, store):
        await pilot.press("v")
        for keys in (("escape",), ("1", "y"), ("1", "o", "n")):
            await open_picker(pilot, app)
            await pilot.press(*keys)
            await pilot.pause()
            assert app.main_screen.has_class(FULL_SCREEN) and isinstance(app.focused, ReaderBody), keys
            assert "▼ home" not in screen_text(app)
