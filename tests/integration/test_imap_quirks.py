"""Quirks of IMAP servers other than Dovecot, played by a scripted server: GNU Mailutils' imap4d
ends its answer to AUTHENTICATE with a bare LF, and says ``* 3 EXPUNGED`` for ``* 3 EXPUNGE``; a
server that offers LOGIN alone (no AUTH=PLAIN) is given a password of more than ASCII as a
literal."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable

import pytest

from mailbag.protocols.imap import FromUid, ImapClient, ServerPush
from mailbag.protocols.imap.errors import ImapError
from tests.integration.test_imap_faults import CAPS, Script, command, logged_in, serve, settings
from tests.integration.test_notify_refused import first_push


#: A LOGIN's handler: given its tag, the rest of its line, and the link; writes the answer.
Login = Callable[[bytes, bytes, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def mailutils_like(
    answers: dict[bytes, Callable[[bytes], bytes]], caps: bytes = CAPS + b" IDLE", login: Login | None = None
) -> Script:
    """A server offering ``caps`` that answers a command whose verb is in ``answers`` with
    ``answers[verb](tag)`` (an IDLE then waits for DONE), a LOGIN as ``login`` does, and every
    other one OK."""

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK IMAP4rev1\r\n")
        while True:
            tag, rest = await command(reader)
            if not tag:
                return
            verb = rest.split(b" ")[0].upper()
            if verb == b"CAPABILITY":
                writer.write(b"* CAPABILITY " + caps + b"\r\n" + tag + b" OK CAPABILITY Completed\r\n")
            elif verb == b"LOGIN" and login is not None:
                await login(tag, rest, reader, writer)
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


@pytest.mark.parametrize("literal_plus", [False, True], ids=["synchronizing", "LITERAL+"])
async def test_a_password_of_more_than_ascii_goes_to_login_as_a_literal(literal_plus: bool) -> None:
    password = "pässwörd \"quoted\""
    said: list[bytes] = []

    async def login(tag: bytes, rest: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        said.append(rest)
        size = int(rest.rsplit(b"{", 1)[1].rstrip(b"+}"))
        if not literal_plus:
            writer.write(b"+ go ahead\r\n")
        literal = await reader.readexactly(size)
        await reader.readline()
        good = literal == password.encode()
        writer.write(tag + (b" OK logged in\r\n" if good else b" NO [AUTHENTICATIONFAILED] wrong\r\n"))

    script = mailutils_like({}, b"IMAP4rev1" + (b" LITERAL+" if literal_plus else b""), login)
    server, port = await serve(script)
    async with server:
        client = ImapClient(dataclasses.replace(settings(port), username="me", password=password), "acct")
        await client.connect()
        await client.logout()
    # a quoted string holds 7-bit text only (RFC 3501 4.3): the user name is quoted, the password not
    assert said == [b'LOGIN "me" {%d%s}' % (len(password.encode()), b"+" if literal_plus else b"")]


async def test_a_search_answer_of_billions_of_uids_is_a_failed_search_not_a_list() -> None:
    script = mailutils_like({b"UID": lambda tag: b'* ESEARCH (TAG "' + tag + b'") UID ALL 1:4294967295\r\n' + tag + b" OK\r\n"})
    async with logged_in(script) as client:
        await client.select("INBOX")
        with pytest.raises(ImapError, match="SEARCH failed: the server sent a set of more than 5,000,000 UIDs"):
            await client.search("ALL")


_PLACEHOLDER_SUMMARY = (b'* 1 FETCH (UID 1 FLAGS () INTERNALDATE "02-Mar-2024 08:00:00 +0100" RFC822.SIZE 10 ENVELOPE'
                        b' (NIL "s" ((NIL NIL "MISSING_MAILBOX" "MISSING_DOMAIN")) NIL NIL NIL NIL NIL NIL "<a@x>")'
                        b' BODYSTRUCTURE ("text" "plain" NIL NIL NIL "7bit" 10 1 NIL NIL NIL NIL)'
                        b" BODY[HEADER.FIELDS (REFERENCES)] {0}\r\n)\r\n")
_FIELDS = b"From: Ann <ann@example.org>\r\n\r\n"


@pytest.mark.parametrize("second, sender", [
    (b"* 1 FETCH (UID 1 BODY[HEADER.FIELDS (FROM TO CC REPLY-TO)] {%d}\r\n%s)\r\n" % (len(_FIELDS), _FIELDS),
     "ann@example.org"),
    (b"", "MISSING_MAILBOX@MISSING_DOMAIN"),  # refused (below): the summary as the server gave it
], ids=["read", "refused"])
async def test_addresses_a_server_could_not_read_are_fetched_again_or_kept_when_that_is_refused(
        second: bytes, sender: str) -> None:
    fetches: list[bytes] = []

    def uid_fetch(tag: bytes) -> bytes:
        fetches.append(tag)
        if len(fetches) == 1:
            return _PLACEHOLDER_SUMMARY + tag + b" OK done\r\n"
        return second + tag + (b" OK done\r\n" if second else b" NO [SERVERBUG] not now\r\n")

    select = b"* 1 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 2] ok\r\n%s OK [READ-WRITE] done\r\n"
    async with logged_in(mailutils_like({b"UID": uid_fetch, b"SELECT": lambda tag: select % tag})) as client:
        await client.select("INBOX")
        summaries = [s async for batch in client.fetch_summaries(FromUid(1)) for s in batch]
        assert [a.email for s in summaries for a in s.from_] == [sender]
        assert [s.message_id for s in summaries] == ["<a@x>"]  # once, either way
        assert len(fetches) == 2
        await client.noop()  # the session goes on
