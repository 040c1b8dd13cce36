"""Quirks of IMAP servers other than Dovecot, played by a scripted server: GNU Mailutils' imap4d
ends its answer to AUTHENTICATE with a bare LF, and says ``* 3 EXPUNGED`` for ``* 3 EXPUNGE``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from mailbag.protocols.imap import ServerPush
from tests.integration.test_imap_faults import CAPS, Script, command, logged_in
from tests.integration.test_notify_refused import first_push


def mailutils_like(answers: dict[bytes, Callable[[bytes], bytes]]) -> Script:
    """A server that answers a command whose verb is in ``answers`` with ``answers[verb](tag)``
    (an IDLE then waits for DONE), and every other one OK."""

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK IMAP4rev1\r\n")
        while True:
            tag, rest = await command(reader)
            if not tag:
                return
            verb = rest.split(b" ")[0].upper()
            if verb == b"CAPABILITY":
                writer.write(b"* CAPABILITY " + CAPS + b" IDLE\r\n" + tag + b" OK CAPABILITY Completed\r\n")
            elif verb in answers:
                writer.write(answers[verb](tag))
                if verb == b"IDLE":
                    await reader.readline()  # DONE
                    writer.write(tag + b" OK IDLE terminated\r\n")
            else:
                writer.write(tag + b" OK done\r\n")

    return script


async def test_a_login_answered_with_a_bare_line_feed_goes_on() -> None:
    script = mailutils_like({
        b"AUTHENTICATE": lambda tag: tag + b" OK AUTHENTICATE PLAIN authentication successful\n",
        b"LIST": lambda tag: b'* LIST (\\NoInferiors) NIL INBOX\r\n* LIST () "/" Work\n' + tag + b" OK LIST Completed\r\n",
    })
    async with logged_in(script) as client:
        folders = await client.list_folders()
    assert [f.name for f in folders] == ["INBOX", "Work"]


async def test_expunged_is_taken_for_expunge() -> None:
    script = mailutils_like({b"IDLE": lambda _tag: b"+ idling\r\n* 3 EXPUNGED\r\n"})
    async with logged_in(script) as client:
        push = await asyncio.wait_for(first_push(client), 30)  # the bound only stops a hung run
    assert push == ServerPush("EXPUNGE", number=3, folder="INBOX")
