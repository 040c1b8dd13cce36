"""Snapshots of the setup screens at 80x24 and 120x40: the servers an autoconfig document names
(served over HTTPS on loopback; nothing connects to them), and the password step.

Regenerate with ``pytest --snapshot-update tests/ui`` and look at the SVGs before committing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from textual.pilot import Pilot

from mailbag.domain.discovery import PortPlan
from mailbag.protocols.https_fetch import HttpsFetcher
from mailbag.services.account_setup import SetupService
from mailbag.services.discovery import Discovery
from mailbag.ui.screens.setup import PasswordScreen, ServersScreen
from mailbag.ui.setup_app import SetupApp
from tests.servers.autoconfig import DOMAIN, AutoconfigServer, thunderbird_xml


class NoSrv:
    async def srv(self, name: str) -> list[object]:
        return []


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[AutoconfigServer, Path]]:
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = AutoconfigServer(ca)
    server.serve(f"autoconfig.{DOMAIN}", "/mail/config-v1.1.xml", thunderbird_xml([
        {"type": "imap", "hostname": "imap.example.test", "port": "993", "socketType": "SSL",
         "username": "%EMAILADDRESS%"},
        {"type": "smtp", "hostname": "smtp.example.test", "port": "587", "socketType": "STARTTLS",
         "username": "%EMAILADDRESS%"},
    ]))
    server.start()
    try:
        yield server, ca_file
    finally:
        server.stop()


def app(served: tuple[AutoconfigServer, Path], tmp_path: Path) -> SetupApp:
    server, ca_file = served
    fetch = HttpsFetcher(ca_file=str(ca_file), connect_to=server.connect_to(), timeout=5)
    discovery = Discovery(fetch=fetch, resolver=NoSrv(), ports=PortPlan(ports={}))  # type: ignore[arg-type]
    return SetupApp(tmp_path / "config.toml", SetupService(discovery))


async def to_servers(pilot: Pilot) -> None:
    await pilot.press(*"ann@example.test", "enter", *"Ann", "space", *"Lee", "enter")
    for _ in range(400):  # bounded only so that a regression cannot hang the run
        screen = pilot.app.screen
        if isinstance(screen, ServersScreen) and not screen.query_one("#server-form").disabled:
            break
        await pilot.pause(0.05)
    await pilot.pause()


async def to_password(pilot: Pilot) -> None:
    await to_servers(pilot)
    await pilot.press("enter")
    for _ in range(100):
        if isinstance(pilot.app.screen, PasswordScreen):
            break
        await pilot.pause(0.05)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_setup_servers_found(snap_compare, served, tmp_path, size):
    assert snap_compare(app(served, tmp_path), terminal_size=size, run_before=to_servers)


def test_setup_password(snap_compare, served, tmp_path):
    assert snap_compare(app(served, tmp_path), terminal_size=(80, 24), run_before=to_password)
