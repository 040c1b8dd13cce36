"""On a machine with no system keyring (one reached over SSH, often), the setup says so on the
keyring's choice and starts on a command instead, and an account saved so reads its password
from it; the keyring chosen anyway is refused in plain words, and nothing is written."""

from __future__ import annotations

from pathlib import Path

from keyring.backends import fail

from mailbag.domain.config import load_config
from mailbag.services.keyring_entries import NO_KEYRING
from mailbag.services.secrets import resolve_password
from mailbag.ui.screens.setup import PasswordScreen, SavedScreen
from tests.memory_keyring import keyring_backend
from tests.servers.autoconfig import AutoconfigServer
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import SmtpServer
from tests.ui.helpers import screen_text
from tests.ui.test_setup import SIZE, publish, setup_app, to_password, to_servers, type_text, wait_for


async def test_without_a_keyring_the_setup_starts_on_a_command_and_says_why(
    dovecot: DovecotServer, smtp_server: SmtpServer, autoconfig_server: AutoconfigServer, tmp_path: Path,
) -> None:
    user = dovecot.add_user(password=smtp_server.password)
    publish(autoconfig_server, dovecot, smtp_server)
    path = tmp_path / "config.toml"
    app = setup_app(path, dovecot, autoconfig_server)
    with keyring_backend(fail.Keyring()):
        async with app.run_test(size=SIZE) as pilot:
            await to_servers(pilot, app, user.email)
            await to_password(pilot, app, dovecot.ca_file)
            await wait_for(pilot, lambda: "none on this machine" in screen_text(app), "the keyring looked for")
            shown = screen_text(app)
            assert "○▌ System keyring: there is none on this machine" in shown
            assert "●▌ A command prints it" in shown

            await pilot.click("#source-keyring")  # chosen anyway
            await pilot.pause()
            assert "There is no system keyring on this machine" in screen_text(app)
            app.screen.query_one("#secret").focus()
            await type_text(pilot, "some password")
            await pilot.press("enter")
            await wait_for(pilot, lambda: "Nothing was written" in screen_text(app), "the save refused")
            assert f"keyring: {NO_KEYRING}" in " ".join(screen_text(app).split())
            assert isinstance(app.screen, PasswordScreen) and not path.exists()

            await pilot.click("#source-command")
            await pilot.pause()
            app.screen.query_one("#secret").focus()
            await type_text(pilot, f"printf '%s\\n' '{smtp_server.password}'")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, SavedScreen), "the config saved")
            await pilot.press("enter")
    account = load_config(path).accounts["example"]
    assert account.imap is not None and not account.imap.keyring and account.imap.password_command
    assert await resolve_password(account.imap) == smtp_server.password
