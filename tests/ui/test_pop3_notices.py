"""What a POP3 server's download tells that is no failure (no UIDL offered, a message too big to
fetch) reads in the status bar as information: no "error:" word, not in the error's colour."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailbag.domain.config import AccountConfig, Config, ServerConfig
from mailbag.ui.app import MailbagApp
from tests.servers.dovecot import DovecotServer
from tests.servers.pop3_script import Script, ScriptedPop3
from tests.ui.helpers import status_text
from tests.ui.real_services import running, simple_message, wait_until

pytestmark = pytest.mark.dovecot


def error_coloured(app: MailbagApp, told: str) -> bool:
    """Whether any of ``told`` in the status bar is painted in the error's style."""
    bar = app.main_screen.status
    line = bar.render()
    error = bar.get_component_rich_style("status-bar--error", partial=True)
    start = line.plain.index(told)
    end = start + len(told)
    return any(span.style == error and span.start < end and start < span.end for span in line.spans)


@pytest.mark.parametrize(
    ("script", "told"),
    [
        (Script(uidl=False, messages=[simple_message(1), simple_message(2)]),
         "old: localhost offers no UIDL: mailbag tells its messages apart by size and header (TOP)"),
        (Script(messages=[simple_message(1), simple_message(2)], sizes={1: 100 * 2**20}),
         "old: 1 message over 64 MB left on the server"),
    ],
    ids=["no-uidl", "too-big"],
)
async def test_a_pop3_notice_is_shown_as_information(
    dovecot: DovecotServer, tmp_path: Path, script: Script, told: str
) -> None:
    server = ScriptedPop3(dovecot, script).start()
    try:
        pop3 = ServerConfig(host="localhost", port=server.port, security="none", username="me",
                            password_command="printf 'pw\\n'")
        old = AccountConfig(name="old", email="me@scripted.test", default=True, maildir=tmp_path / "Mail", pop3=pop3)
        config = Config(path=None, accounts={"old": old})
        rows = 1 if script.sizes else 2
        async with running(config, tmp_path / "cache.sqlite3", rows, size=(200, 30)) as (app, pilot, _store):
            await wait_until(pilot, lambda: told in status_text(app), "the notice in the status bar")
            assert "error" not in status_text(app)
            assert not error_coloured(app, told)
    finally:
        server.stop()
