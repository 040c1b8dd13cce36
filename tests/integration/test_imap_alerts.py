"""[ALERT] response codes (RFC 3501 7.1) reach the user, cleaned, wherever the server sends them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mailbag.domain.config import AccountConfig, ServerConfig
from mailbag.domain.events import ErrorReported
from mailbag.protocols.imap import ImapClient, ImapError
from mailbag.services.imap_account import ImapAccount
from mailbag.store.store import Store
from tests.integration.accounts import Recorder
from tests.integration.test_imap_faults import CAPS, answer_all, command, serve, settings


async def test_alerts_in_greeting_untagged_and_tagged_answers_are_reported_cleaned() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK [ALERT] Maintenance tonight\x1b[2J at 22:00\r\n")
        for _ in range(3):  # CAPABILITY, AUTHENTICATE, CAPABILITY
            tag, rest = await command(reader)
            if rest.startswith(b"AUTHENTICATE"):
                writer.write(b"* NO [ALERT] Your quota is 95% full\r\n" + tag + b" OK logged in\r\n")
            else:
                writer.write(b"* CAPABILITY " + CAPS + b"\r\n" + tag + b" OK done\r\n")
        tag, _ = await command(reader)  # SELECT
        writer.write(b"* 1 EXISTS\r\n* OK [ALERT] This folder is archived\r\n* OK [UIDVALIDITY 3] ok\r\n"
                     + tag + b" OK [READ-WRITE] selected\r\n")
        tag, _ = await command(reader)  # NOOP
        writer.write(tag + b" NO [ALERT] Mailbox locked" + "\u202e".encode() + b" by admin\r\n")
        await reader.read()

    alerts: list[str] = []
    server, port = await serve(script)
    async with server:
        client = ImapClient(settings(port), "acct", on_alert=alerts.append)
        await client.connect()
        selected = await client.select("INBOX")
        assert selected.uidvalidity == 3  # the alert among SELECT's answers did not disturb it
        with pytest.raises(ImapError, match="Mailbox locked"):
            await client.noop()
    assert alerts == ["Maintenance tonight at 22:00", "Your quota is 95% full", "This folder is archived",
                      "Mailbox locked by admin"]


async def test_an_alert_at_login_reaches_the_status_bar(tmp_path: Path) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK [ALERT] Password expires in 3 days\r\n")
        await answer_all(reader, writer, [])

    server, port = await serve(script)
    config = AccountConfig(name="work", email="me@example.org", imap=ServerConfig(
        host="127.0.0.1", port=port, security="none", username="u", password_command="echo p", timeout=5))
    store = Store.open(tmp_path / "cache.db")
    events = Recorder()
    account = ImapAccount(config, store, events)
    try:
        async with server:
            await account.connect()
            await account.disconnect()
    finally:
        store.close()
    assert [(e.account, e.message) for e in events.of(ErrorReported)] == [
        ("work", "server alert: Password expires in 3 days")]
