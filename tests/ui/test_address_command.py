"""The compose screen completes addresses from the user's address book through the configured
command (mutt's query_command format), once the cache has none for what is typed: the command is
run once per start of an address, with what was typed quoted for the shell, and what it prints is
cleaned before it reaches a field."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from mailbag.ui.app import MailbagApp

from tests.ui.conftest import settle
from tests.ui.test_compose import field, open_compose

BOOK = """#!/bin/sh
printf '%s\\n' "$1" >> "{log}"
echo "Searching the address book... 2 found"
printf 'zoe.quinn@example.net\\tZo\\303\\253 Quinn\\tfriends\\n'
printf 'zack@example.net\\tZack \\033[31mRed\\033[0m\\n'
printf 'no-at-sign\\tNobody\\n'
"""


@asynccontextmanager
async def composing(make_app: Callable[..., MailbagApp], tmp_path: Path) -> AsyncIterator[tuple[MailbagApp, Pilot, Path]]:
    """A new message being written, with the address book script as ``ui.address_command``;
    (the app, its pilot, the file each query is logged in)."""
    log = tmp_path / "queries.log"
    script = tmp_path / "book.sh"
    script.write_text(BOOK.format(log=log))
    script.chmod(0o755)
    app = make_app(address_command=f"{script} %s")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compose(pilot, "c")
        yield app, pilot, log


async def test_addresses_come_from_the_address_book_command_asked_once_per_start(make_app, tmp_path: Path) -> None:
    async with composing(make_app, tmp_path) as (app, pilot, log):
        await pilot.press(*"Zo")
        await settle(pilot)  # the command has answered
        await pilot.press("tab")
        assert field(app, "to") == "zoe.quinn@example.net"  # as the address book writes it
        await pilot.press("tab")  # Cc
        assert app.focused is app.screen.query_one("#compose-cc", Input)
        await pilot.press(*"Za")
        await settle(pilot)
        await pilot.press(*"ck ")  # by the name now: answered from what "za" found
        await settle(pilot)
        await pilot.press("tab")
        assert field(app, "cc") == "Zack Red <zack@example.net>"  # its colours left out
        await pilot.press("tab", *"o'k")  # Bcc: asked as typed, quoted for the shell
        await settle(pilot)
        assert field(app, "bcc") == "o'k"
    assert log.read_text().splitlines() == ["Zo", "Za", "o'"]  # as typed; "o'k" from what "o'" found


async def test_an_address_the_cache_knows_does_not_ask_the_command_and_is_taken_as_written(make_app, tmp_path: Path) -> None:
    async with composing(make_app, tmp_path) as (app, pilot, log):
        await pilot.press(*"carol")
        await settle(pilot)
        await pilot.press("tab")
        assert field(app, "to") == "Carol Danvers <ann@example.org>"
    assert not log.exists(), log.read_text()
