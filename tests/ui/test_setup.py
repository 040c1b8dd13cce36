"""The setup screens, driven by keys: an address whose domain publishes autoconfig (served over
HTTPS on loopback), the servers found and shown, the keyring chosen, the logins tried on the
private Dovecot and the test SMTP server, the config written 0600; cancelling writes nothing."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, Select

from mailbag.domain.config import load_config
from mailbag.domain.discovery import PortPlan
from mailbag.protocols.https_fetch import HttpsFetcher
from mailbag.services.account_setup import SetupService
from mailbag.services.discovery import Discovery
from mailbag.services.secrets import resolve_password
from mailbag.store.store import Store
from mailbag.ui.screens.setup import AddressScreen, PasswordScreen, SavedScreen, ServersScreen
from mailbag.ui.setup_app import SetupApp
from tests.memory_keyring import MemoryKeyring
from tests.servers.autoconfig import DOMAIN, AutoconfigServer, thunderbird_xml
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.smtp import SmtpServer
from tests.ui.helpers import screen_text
from tests.ui.real_services import real_app, simple_message

pytestmark = pytest.mark.dovecot
SIZE = (80, 24)


class NoSrv:
    async def srv(self, name: str) -> list[object]:
        return []


def setup_app(path: Path, dovecot: DovecotServer, autoconfig: AutoconfigServer,
              taken: list[str] | None = None) -> SetupApp:
    """The setup app, its network reaching the loopback servers only (and trusting the test CA)."""
    fetch = HttpsFetcher(ca_file=str(dovecot.ca_file), connect_to=autoconfig.connect_to(), timeout=5)
    discovery = Discovery(fetch=fetch, resolver=NoSrv(), ports=PortPlan(ports={}),  # type: ignore[arg-type]
                          ca_file=str(dovecot.ca_file))
    return SetupApp(path, SetupService(discovery), taken=taken)


def publish(autoconfig: AutoconfigServer, dovecot: DovecotServer, smtp: SmtpServer) -> None:
    """example.test's autoconfig document: the Dovecot's IMAPS port, the SMTP server's STARTTLS
    port, and (never to be chosen) a plain-text IMAP port."""
    autoconfig.serve(f"autoconfig.{DOMAIN}", "/mail/config-v1.1.xml", thunderbird_xml([
        {"type": "imap", "hostname": "localhost", "port": str(dovecot.imap_port), "socketType": "plain",
         "username": "%EMAILLOCALPART%"},
        {"type": "imap", "hostname": "localhost", "port": str(dovecot.imaps_port), "socketType": "SSL",
         "username": "%EMAILLOCALPART%"},
        {"type": "smtp", "hostname": "localhost", "port": str(smtp.port), "socketType": "STARTTLS",
         "username": smtp.username},
    ]))


async def wait_for(pilot: Pilot, predicate: Callable[[], bool], what: str) -> None:
    """Let the app run until ``predicate()`` holds; the bound only stops a test that would hang."""
    for _ in range(600):
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"never got there: {what}; the screen shows:\n{screen_text(pilot.app)}")


async def type_text(pilot: Pilot, text: str) -> None:
    await pilot.press(*[{" ": "space"}.get(c, c) for c in text])


def value(app: SetupApp, selector: str) -> str:
    widget = app.screen.query_one(selector)
    return str(widget.value) if isinstance(widget, (Input, Select)) else ""


async def to_servers(pilot: Pilot, app: SetupApp, address: str, name: str = "Ann Lee") -> None:
    """Type the address and the name on the first screen and wait for the servers found."""
    await type_text(pilot, address)
    await pilot.press("enter")
    await type_text(pilot, name)
    await pilot.press("enter")
    await wait_for(pilot, lambda: servers_shown(app), "the servers found")


def servers_shown(app: SetupApp) -> bool:
    """Whether the servers screen shows what the search found, ready to edit. Its form is also
    enabled for a moment before it is mounted (it is disabled while the search runs), so the
    search's answer is what tells."""
    return (isinstance(app.screen, ServersScreen) and app.state.found is not None
            and not app.screen.query_one("#server-form").disabled)


async def to_password(pilot: Pilot, app: SetupApp, ca_file: Path) -> None:
    """Give the CA file (the test servers' certificates are from a private CA) and go on."""
    app.screen.query_one("#ca-file", Input).focus()
    await type_text(pilot, str(ca_file))
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, PasswordScreen), "the password step")


async def save_account(pilot: Pilot, app: SetupApp, address: str, password: str, ca_file: Path) -> None:
    """The whole way through: address, servers as found, the keyring and ``password``."""
    await to_servers(pilot, app, address)
    await to_password(pilot, app, ca_file)
    await type_text(pilot, password)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, SavedScreen), "the config saved")


async def test_from_the_address_to_the_written_config_with_the_keyring(
    dovecot: DovecotServer, smtp_server: SmtpServer, autoconfig_server: AutoconfigServer,
    memory_keyring: MemoryKeyring, tmp_path: Path,
) -> None:
    user = dovecot.add_user(password=smtp_server.password)
    publish(autoconfig_server, dovecot, smtp_server)
    path = tmp_path / "mailbag" / "config.toml"
    app = setup_app(path, dovecot, autoconfig_server)

    async with app.run_test(size=SIZE) as pilot:
        await to_servers(pilot, app, user.email)
        shown = screen_text(app)
        assert "Found by autoconfig (https://autoconfig.example.test/mail/config-v1.1.xml)" in shown
        assert value(app, "#account-name") == "example"
        assert (value(app, "#in-host"), value(app, "#in-port"), value(app, "#in-security")) == (
            "localhost", str(dovecot.imaps_port), "tls")
        assert value(app, "#in-username") == user.name
        assert (value(app, "#smtp-port"), value(app, "#smtp-security"), value(app, "#smtp-username")) == (
            str(smtp_server.port), "starttls", smtp_server.username)
        await to_password(pilot, app, dovecot.ca_file)
        assert "System keyring" in screen_text(app)
        await type_text(pilot, smtp_server.password)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SavedScreen), "the config saved")
        assert "Written to" in screen_text(app)
        assert "[accounts.example.imap]" in screen_text(app)
        await pilot.press("enter")

    assert app.return_value == ["example"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    account = load_config(path).accounts["example"]
    assert account.email == user.email and account.display_name == "Ann Lee" and account.default
    assert account.imap is not None and account.imap.keyring and account.imap.port == dovecot.imaps_port
    assert account.smtp is not None and account.smtp.security == "starttls"
    assert await resolve_password(account.imap) == smtp_server.password
    assert smtp_server.password not in path.read_text()


async def test_an_smtp_server_with_a_password_of_its_own_is_given_it(
    dovecot: DovecotServer, smtp_server: SmtpServer, autoconfig_server: AutoconfigServer,
    memory_keyring: MemoryKeyring, tmp_path: Path,
) -> None:
    """A relay whose login is not the mailbox's: with the box under the password ticked, the
    SMTP server gets a password of its own (kept as the other is), and each server is tried
    with its own."""
    user = dovecot.add_user(password="the mailbox's")
    publish(autoconfig_server, dovecot, smtp_server)
    path = tmp_path / "config.toml"
    app = setup_app(path, dovecot, autoconfig_server)

    async with app.run_test(size=SIZE) as pilot:
        await to_servers(pilot, app, user.email)
        await to_password(pilot, app, dovecot.ca_file)
        assert "SMTP password" not in screen_text(app)  # until the box is ticked
        shown = screen_text(app)  # each mark says its state without colour
        assert "●▌ System keyring" in shown and "○▌ A command" in shown and "○▌ An environment" in shown
        assert "▐ ▌ The SMTP server has a password of its own" in shown
        await type_text(pilot, "the mailbox's")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Nothing was written" in screen_text(app), "the SMTP login refused")
        problems = screen_text(app).split("Test the login and save")[1]
        assert f"SMTP localhost:{smtp_server.port}: login refused" in problems and "IMAP" not in problems
        await pilot.press("tab", "space")  # the box
        await wait_for(pilot, lambda: "SMTP password" in screen_text(app), "its own field")
        assert "▐X▌ The SMTP server has a password of its own" in screen_text(app)
        await pilot.press("tab")
        await type_text(pilot, smtp_server.password)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SavedScreen), "the config saved")
        await pilot.press("enter")

    account = load_config(path).accounts["example"]
    assert account.imap is not None and account.smtp is not None
    assert account.imap.keyring and account.smtp.keyring
    assert await resolve_password(account.imap) == "the mailbox's"
    assert await resolve_password(account.smtp) == smtp_server.password


async def test_a_refused_login_is_shown_and_nothing_is_written_and_esc_goes_back(
    dovecot: DovecotServer, mail_user: MailUser, smtp_server: SmtpServer,
    autoconfig_server: AutoconfigServer, memory_keyring: MemoryKeyring, tmp_path: Path,
) -> None:
    publish(autoconfig_server, dovecot, smtp_server)
    path = tmp_path / "config.toml"
    app = setup_app(path, dovecot, autoconfig_server)

    async with app.run_test(size=SIZE) as pilot:
        await to_servers(pilot, app, mail_user.email)
        await to_password(pilot, app, dovecot.ca_file)
        await type_text(pilot, "wrong")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Nothing was written" in screen_text(app), "the refusal")
        shown = screen_text(app)
        assert f"IMAP localhost:{dovecot.imaps_port}: login failed" in shown
        assert f"SMTP localhost:{smtp_server.port}: login refused: 535" in shown
        await pilot.press("escape")  # back to the servers, as they were left
        assert isinstance(app.screen, ServersScreen)
        assert value(app, "#ca-file") == str(dovecot.ca_file)
        await pilot.press("escape")
        assert isinstance(app.screen, AddressScreen)
        await pilot.press("escape")  # cancel

    assert app.return_value == []
    assert not path.exists()
    assert memory_keyring.entries == {}


async def test_cancelling_on_the_first_screen_writes_nothing(
    dovecot: DovecotServer, autoconfig_server: AutoconfigServer, tmp_path: Path
) -> None:
    path = tmp_path / "config.toml"
    app = setup_app(path, dovecot, autoconfig_server)

    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "me@example.test")
        await pilot.press("escape")

    assert app.return_value == []
    assert not path.exists()


async def test_a_second_account_is_added_below_the_first_and_keeps_its_comments(
    dovecot: DovecotServer, smtp_server: SmtpServer, autoconfig_server: AutoconfigServer,
    memory_keyring: MemoryKeyring, tmp_path: Path,
) -> None:
    user = dovecot.add_user(password=smtp_server.password)
    publish(autoconfig_server, dovecot, smtp_server)
    path = tmp_path / "config.toml"
    first = '# my first account\n[accounts.example]  # the old one\nemail = "old@example.test"\nmaildir = "~/Mail"\n'
    path.write_text(first)
    app = setup_app(path, dovecot, autoconfig_server, taken=["example"])

    async with app.run_test(size=SIZE) as pilot:
        await save_account(pilot, app, user.email, smtp_server.password, dovecot.ca_file)
        assert "[accounts.example-2]" in screen_text(app)  # the name "example" is taken
        await pilot.press("a")  # and another: its first screen, empty
        await wait_for(pilot, lambda: isinstance(app.screen, AddressScreen), "the first step again")
        assert value(app, "#address") == ""
        await pilot.press("escape")

    assert app.return_value == ["example-2"]
    assert path.read_text().startswith(first)
    config = load_config(path)
    assert list(config.accounts) == ["example", "example-2"]
    assert config.default_account().name == "example"  # type: ignore[union-attr]


async def test_the_account_written_opens_on_its_inbox(
    dovecot: DovecotServer, smtp_server: SmtpServer, autoconfig_server: AutoconfigServer,
    memory_keyring: MemoryKeyring, tmp_path: Path,
) -> None:
    user = dovecot.add_user(password=smtp_server.password)
    dovecot.deliver(user.name, simple_message(1, subject="Welcome to example.test"))
    publish(autoconfig_server, dovecot, smtp_server)
    path = tmp_path / "config.toml"
    app = setup_app(path, dovecot, autoconfig_server)
    async with app.run_test(size=SIZE) as pilot:
        await save_account(pilot, app, user.email, smtp_server.password, dovecot.ca_file)
        await pilot.press("enter")

    store = Store.open(tmp_path / "cache.sqlite3")
    main = real_app(load_config(path), store)
    try:
        async with main.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: "Welcome to example.test" in screen_text(main), "the INBOX")
            await pilot.press("q")
    finally:
        store.close()
    await asyncio.sleep(0)


async def choose(pilot: Pilot, app: SetupApp, selector: str, *moves: str) -> None:
    """Pick an option of a list field by keys: focus it, open it, move, take it."""
    app.screen.query_one(selector, Select).focus()
    await pilot.press("enter", *moves, "enter")
    await pilot.pause()


async def test_choosing_pop3_or_another_security_moves_a_default_port_along(
    dovecot: DovecotServer, autoconfig_server: AutoconfigServer, tmp_path: Path,
) -> None:
    autoconfig_server.serve(f"autoconfig.{DOMAIN}", "/mail/config-v1.1.xml", thunderbird_xml([
        {"type": "imap", "hostname": "imap.example.test", "port": "993", "socketType": "SSL"},
        {"type": "smtp", "hostname": "smtp.example.test", "port": "465", "socketType": "SSL"},
    ]))
    app = setup_app(tmp_path / "config.toml", dovecot, autoconfig_server)

    async with app.run_test(size=SIZE) as pilot:
        await to_servers(pilot, app, "ann@example.test")
        await choose(pilot, app, "#in-kind", "down")  # POP3: none was found, the usual name and port
        assert (value(app, "#in-kind"), value(app, "#in-host"), value(app, "#in-port")) == (
            "pop3", "pop.example.test", "995")
        await choose(pilot, app, "#in-kind", "up")
        assert (value(app, "#in-host"), value(app, "#in-port")) == ("imap.example.test", "993")
        app.screen.query_one("#in-host", Input).value = "mail.example.test"  # one host for both
        await choose(pilot, app, "#in-kind", "down")
        assert (value(app, "#in-host"), value(app, "#in-port")) == ("mail.example.test", "995")
        await choose(pilot, app, "#in-security", "down")  # STARTTLS
        assert (value(app, "#in-security"), value(app, "#in-port")) == ("starttls", "110")
        await choose(pilot, app, "#smtp-security", "down")
        assert (value(app, "#smtp-security"), value(app, "#smtp-port")) == ("starttls", "587")
        app.screen.query_one("#smtp-port", Input).value = "2525"
        await choose(pilot, app, "#smtp-security", "up")  # back to TLS
        assert (value(app, "#smtp-security"), value(app, "#smtp-port")) == ("tls", "2525")  # yours stays


async def test_keys_typed_in_a_burst_land_in_the_fields_they_were_typed_for(
    dovecot: DovecotServer, autoconfig_server: AutoconfigServer, tmp_path: Path,
) -> None:
    app = setup_app(tmp_path / "config.toml", dovecot, autoconfig_server)

    def burst(text: str) -> None:  # as a paste or a burst over SSH brings them
        for char in text:
            app.post_message(events.Key({"\r": "enter", " ": "space"}.get(char, char), char))

    async with app.run_test(size=SIZE) as pilot:
        burst("ann@example.test\rAnn Lee\r")
        await wait_for(pilot, lambda: servers_shown(app), "the servers found")
        assert (app.state.address, app.state.display_name) == ("ann@example.test", "Ann Lee")
        burst("\rs3cret")
        await wait_for(pilot, lambda: isinstance(app.screen, PasswordScreen), "the password step")
        await pilot.pause()
        assert value(app, "#secret") == "s3cret"
