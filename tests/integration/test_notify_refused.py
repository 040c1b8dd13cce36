"""A server with NOTIFY that refuses the folder events (RFC 5465: NO [BADEVENT], or a BAD from a
server that does not know them) still tells of other folders' new mail: the client asks again for
the message events alone; one that refuses those too is watched without NOTIFY."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from mailbag.protocols.imap import ImapClient, ServerPush
from tests.integration.test_imap_faults import CAPS, command, logged_in, login_dialogue

EVENTS = "(MessageNew MessageExpunge FlagChange"


async def watched(answer_notify: Callable[[bytes], bytes | None], pushed: bytes) -> tuple[bool, bool, ServerPush]:
    """Connect to a server that answers NOTIFY with ``answer_notify(command)`` (None: OK) and
    pushes ``pushed`` once IDLE starts; NOTIFY's result, the folder events, the first push."""

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await login_dialogue(reader, writer, caps=CAPS + b" IDLE NOTIFY")
        while True:
            tag, rest = await command(reader)
            if not tag:
                return
            verb = rest.split(b" ")[0].upper()
            refusal = answer_notify(rest) if verb == b"NOTIFY" else None
            if refusal is not None:
                writer.write(tag + b" " + refusal + b"\r\n")
                continue
            if verb == b"IDLE":
                writer.write(b"+ idling\r\n" + pushed)
                await reader.readline()  # DONE
            writer.write(tag + b" OK done\r\n")

    async with logged_in(script) as client:
        notifying = await client.notify(selected_folder="INBOX")
        push = await asyncio.wait_for(first_push(client), 30)  # the bound only stops a hung run
    return notifying, client.folder_events, push


@pytest.mark.parametrize("refusal", [b"NO [BADEVENT (MessageNew MessageExpunge FlagChange)] not here",
                                     b"BAD Unknown event MailboxName"])
async def test_folder_events_refused_fall_back_to_message_events(refusal: bytes) -> None:
    notifies: list[bytes] = []

    def answer(rest: bytes) -> bytes | None:
        notifies.append(rest)
        return refusal if b"MAILBOXNAME" in rest.upper() else None

    notifying, folder_events, push = await watched(answer, b"* STATUS Projects (MESSAGES 3 UIDNEXT 4)\r\n")
    assert (notifying, folder_events) == (True, False)
    assert notifies == [
        f"NOTIFY SET (SELECTED {EVENTS})) (PERSONAL {EVENTS} MailboxName SubscriptionChange))".encode(),
        f"NOTIFY SET (SELECTED {EVENTS})) (PERSONAL {EVENTS}))".encode(),
    ]
    assert push == ServerPush("STATUS", folder="Projects", counts=(("MESSAGES", 3), ("UIDNEXT", 4)))


async def test_notify_refused_altogether_is_watched_without_it() -> None:
    notifying, folder_events, push = await watched(lambda _rest: b"BAD Command unknown", b"* 4 EXISTS\r\n")
    assert (notifying, folder_events) == (False, False)
    assert push.kind == "EXISTS"


async def first_push(client: ImapClient) -> ServerPush:
    """The first thing the server pushes while ``client`` IDLEs in the Inbox."""
    async for push in client.idle("INBOX"):
        return push
    raise AssertionError("the watch ended without a push")
