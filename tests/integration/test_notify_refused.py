"""A server with NOTIFY that refuses the folder events (RFC 5465: NO [BADEVENT]) still tells of
other folders' new mail: the client asks again for the message events alone."""

from __future__ import annotations

import asyncio

from mailbag.protocols.imap import ImapClient, ServerPush
from tests.integration.test_imap_faults import CAPS, command, login_dialogue, serve, settings


async def test_folder_events_refused_with_badevent_fall_back_to_message_events() -> None:
    notifies: list[bytes] = []

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await login_dialogue(reader, writer, caps=CAPS + b" IDLE NOTIFY")
        while True:
            tag, rest = await command(reader)
            if not tag:
                return
            verb = rest.split(b" ")[0].upper()
            if verb == b"NOTIFY":
                notifies.append(rest)
                if b"MAILBOXNAME" in rest.upper():
                    writer.write(tag + b" NO [BADEVENT (MessageNew MessageExpunge FlagChange)] not here\r\n")
                    continue
            if verb == b"IDLE":
                writer.write(b"+ idling\r\n* STATUS Projects (MESSAGES 3 UIDNEXT 4)\r\n")
                await reader.readline()  # DONE
            writer.write(tag + b" OK done\r\n")

    server, port = await serve(script)
    async with server:
        client = ImapClient(settings(port), "acct")
        await client.connect()
        try:
            assert await client.notify(selected_folder="INBOX") is True
            assert client.folder_events is False
            push = await asyncio.wait_for(first_push(client), 30)  # the bound only stops a hung run
        finally:
            await client.logout()
    events = "(MessageNew MessageExpunge FlagChange"
    assert notifies == [
        f"NOTIFY SET (SELECTED {events})) (PERSONAL {events} MailboxName SubscriptionChange))".encode(),
        f"NOTIFY SET (SELECTED {events})) (PERSONAL {events}))".encode(),
    ]
    assert push == ServerPush("STATUS", folder="Projects", counts=(("MESSAGES", 3), ("UIDNEXT", 4)))


async def first_push(client: ImapClient) -> ServerPush:
    """The first thing the server pushes while ``client`` IDLEs in the Inbox."""
    async for push in client.idle("INBOX"):
        return push
    raise AssertionError("the watch ended without a push")
