"""Triage and live sync against scripted servers: fallbacks and failures Dovecot will not show."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from mailbag.protocols.imap import CopyResult, ImapClient, ImapConnectionError, ImapError
from tests.integration.test_imap_faults import command, login_dialogue, serve, settings


@contextlib.asynccontextmanager
async def fake_client(script, timeout: float = 2.0) -> AsyncIterator[ImapClient]:
    """A client connected to the scripted server ``script``."""
    server, port = await serve(script)
    async with server:
        client = ImapClient(settings(port, timeout=timeout), "acct")
        await client.connect()
        yield client


SELECTED = b"* 5 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 9] ok\r\n"


class Recorder:
    """A scripted server: logs in, selects, then answers each command from ``replies``."""

    def __init__(self, caps: bytes, replies: dict[bytes, bytes | list[bytes]]) -> None:
        self.caps = caps
        # command word(s) after the tag -> response lines before the tagged OK (a list: one
        # reply after the other)
        self.replies = replies
        self.seen: list[bytes] = []

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await login_dialogue(reader, writer, self.caps)
        while True:
            tag, rest = await command(reader)
            if not tag:
                return
            self.seen.append(rest)
            if rest.startswith((b"SELECT", b"EXAMINE")):
                writer.write(SELECTED + tag + b" OK [READ-WRITE] selected\r\n")
                continue
            untagged, text = b"", b"done"
            for prefix, reply in self.replies.items():
                if rest.startswith(prefix):
                    if isinstance(reply, list):
                        reply = reply.pop(0)
                    untagged, _, text = reply.rpartition(b"\r\n")
                    untagged = untagged + b"\r\n" if untagged else b""
            writer.write(untagged + tag + b" OK " + text + b"\r\n")


async def run(recorder: Recorder, action) -> tuple[object, list[bytes]]:
    async with fake_client(recorder) as client:
        await client.select("INBOX")
        try:
            return await action(client), recorder.seen[1:]
        finally:
            await client.logout()


async def test_move_without_move_copies_then_expunges_exactly_those_uids() -> None:
    recorder = Recorder(b"IMAP4rev1 AUTH=PLAIN SASL-IR UIDPLUS", {
        b"UID COPY": b"[COPYUID 31 3,5 10:11] copied",
        b"UID EXPUNGE": b"* 3 EXPUNGE\r\n* 4 EXPUNGE\r\nexpunged",
    })
    result, sent = await run(recorder, lambda c: c.move([5, 3], "Archiv/Größe"))
    assert result == CopyResult(31, (3, 5), (10, 11))
    assert sent == [
        b'UID COPY 3,5 "Archiv/Gr&APYA3w-e"',
        b"UID STORE 3,5 +FLAGS.SILENT (\\Deleted)",
        b"UID EXPUNGE 3,5",
    ]


async def test_without_uidplus_nothing_changes_while_others_are_marked_deleted() -> None:
    # message 7 was marked \\Deleted by another program: a plain EXPUNGE would remove it too
    recorder = Recorder(b"IMAP4rev1 AUTH=PLAIN SASL-IR", {b"UID SEARCH DELETED": b"* SEARCH 2 7\r\nfound"})

    async def action(client: ImapClient) -> None:
        with pytest.raises(ImapError, match="UIDPLUS.*1 other message"):
            await client.move([1, 2], "Archive")
        with pytest.raises(ImapError, match="UIDPLUS.*1 other message"):
            await client.expunge_uids([2])

    _result, sent = await run(recorder, action)
    assert sent == [b"NOOP", b"UID SEARCH DELETED"] * 2  # not even a COPY


async def test_without_uidplus_a_move_expunges_when_only_its_messages_are_deleted() -> None:
    recorder = Recorder(b"IMAP4rev1 AUTH=PLAIN SASL-IR", {b"UID SEARCH DELETED": b"* SEARCH 1 2\r\nfound"})
    result, sent = await run(recorder, lambda c: c.move([1, 2], "Archive"))
    assert result == CopyResult()  # no COPYUID without UIDPLUS
    assert sent == [
        b"NOOP",
        b"UID SEARCH DELETED",
        b'UID COPY 1:2 "Archive"',
        b"UID STORE 1:2 +FLAGS.SILENT (\\Deleted)",
        b"NOOP",
        b"UID SEARCH DELETED",
        b"EXPUNGE",
    ]


async def test_without_uidplus_a_message_marked_deleted_meanwhile_stops_the_expunge() -> None:
    # another program marks message 9 \\Deleted between the two looks
    recorder = Recorder(b"IMAP4rev1 AUTH=PLAIN SASL-IR",
                        {b"UID SEARCH DELETED": [b"* SEARCH\r\nnone", b"* SEARCH 3 9\r\nfound"]})

    async def action(client: ImapClient) -> None:
        with pytest.raises(ImapError, match="marked deleted"):
            await client.expunge_uids([3])

    _result, sent = await run(recorder, action)
    assert sent == [
        b"NOOP",
        b"UID SEARCH DELETED",
        b"UID STORE 3 +FLAGS.SILENT (\\Deleted)",
        b"NOOP",
        b"UID SEARCH DELETED",
        b"UID STORE 3 -FLAGS.SILENT (\\Deleted)",  # taken back; nothing expunged
    ]


async def test_move_uses_move_when_offered() -> None:
    recorder = Recorder(b"IMAP4rev1 AUTH=PLAIN SASL-IR UIDPLUS MOVE", {
        b"UID MOVE": b"* OK [COPYUID 31 4 12] moving\r\n* 4 EXPUNGE\r\nmoved",
    })
    result, sent = await run(recorder, lambda c: c.move([4], "Archive"))
    assert result == CopyResult(31, (4,), (12,))
    assert sent == [b'UID MOVE 4 "Archive"']


async def test_copy_without_copyuid_gives_an_empty_mapping() -> None:
    recorder = Recorder(b"IMAP4rev1 AUTH=PLAIN SASL-IR", {})
    result, sent = await run(recorder, lambda c: c.copy([1], "Archive"))
    assert result == CopyResult() and sent[0] == b'UID COPY 1 "Archive"'


async def test_search_waits_for_the_server_before_each_literal() -> None:
    received: list[bytes] = []

    async def script(reader, writer):
        await login_dialogue(reader, writer, b"IMAP4rev1 AUTH=PLAIN SASL-IR")  # no LITERAL+
        tag, _ = await command(reader)
        writer.write(SELECTED + tag + b" OK selected\r\n")
        line = await reader.readline()
        while line.rstrip(b"\r\n").endswith(b"}"):
            received.append(line)
            size = int(line.rstrip(b"\r\n").rsplit(b"{", 1)[1][:-1])
            writer.write(b"+ go ahead\r\n")
            received.append(await reader.readexactly(size))
            line = await reader.readline()
        received.append(line)
        tag = received[0].split(b" ", 1)[0]
        writer.write(b"* SEARCH 4 9\r\n" + tag + b" OK searched\r\n")
        await reader.read()

    async with fake_client(script) as client:
        await client.select("INBOX")
        assert await client.search('OR SUBJECT "Größe" BODY 日本語') == [4, 9]
    tag = received[0].split(b" ", 1)[0]
    assert received == [
        tag + b" UID SEARCH CHARSET UTF-8 OR SUBJECT {7}\r\n", "Größe".encode(),
        b" BODY {9}\r\n", "日本語".encode(), b"\r\n",
    ]


async def test_search_uses_literal_plus_when_offered() -> None:
    recorder = Recorder(b"IMAP4rev1 AUTH=PLAIN SASL-IR LITERAL+ ESEARCH", {
        b"UID SEARCH": b'* ESEARCH (TAG "x") UID ALL 2:3,8\r\nsearched',
    })
    uids, sent = await run(recorder, lambda c: c.search('SUBJECT "Größe"'))
    assert uids == [2, 3, 8]
    assert sent[0] == b"UID SEARCH RETURN (ALL) CHARSET UTF-8 SUBJECT {7+}"  # the literal follows


async def test_status_many_pipelines_status_and_skips_refused_folders() -> None:
    batch: list[bytes] = []

    async def script(reader, writer):
        await login_dialogue(reader, writer)
        for _ in range(3):
            batch.append(await reader.readline())  # all three arrive before any answer
        for line in batch:
            tag, rest = line.rstrip(b"\r\n").split(b" ", 1)
            name = rest.split(b" ")[1]
            if name == b'"Gone"':
                writer.write(tag + b" NO no such mailbox\r\n")
            else:
                writer.write(b"* STATUS " + name + b" (MESSAGES 4 UNSEEN 1 UIDNEXT 5 UIDVALIDITY 3)\r\n"
                             + tag + b" OK status\r\n")
        await reader.read()

    async with fake_client(script) as client:
        counts = await client.status_many(["INBOX", "Gone", "Zoë"])
    assert counts == {"INBOX": {"MESSAGES": 4, "UNSEEN": 1, "UIDNEXT": 5, "UIDVALIDITY": 3},
                      "Zoë": {"MESSAGES": 4, "UNSEEN": 1, "UIDNEXT": 5, "UIDVALIDITY": 3}}
    assert [line.split(b" ", 1)[1] for line in batch] == [
        b'STATUS "INBOX" (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)\r\n',
        b'STATUS "Gone" (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)\r\n',
        b'STATUS "Zo&AOs-" (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)\r\n',
    ]


async def test_append_sends_the_message_as_a_literal() -> None:
    raw = b"Subject: x\r\n\r\n\xff 8-bit body\r\n"
    received: list[bytes] = []

    async def script(reader, writer):
        await login_dialogue(reader, writer)
        line = await reader.readline()
        received.append(line)
        writer.write(b"+ ready\r\n")
        received.append(await reader.readexactly(len(raw) + 2))
        writer.write(line.split(b" ")[0] + b" OK [APPENDUID 77 12] appended\r\n")
        await reader.read()

    async with fake_client(script) as client:
        assert await client.append("Sent", raw, flags=["\\Seen"]) == 12
    assert received[0].split(b" ", 1)[1] == b'APPEND "Sent" (\\Seen) {%d}\r\n' % len(raw)
    assert received[1] == raw + b"\r\n"


IDLE_CAPS = b"IMAP4rev1 AUTH=PLAIN SASL-IR IDLE"


async def test_silent_server_during_idle_is_detected_by_the_liveness_check() -> None:
    async def script(reader, writer):
        await login_dialogue(reader, writer, IDLE_CAPS)
        tag, _ = await command(reader)
        writer.write(SELECTED + tag + b" OK selected\r\n")
        await command(reader)  # IDLE
        writer.write(b"+ idling\r\n")
        await asyncio.sleep(30)  # then nothing, not even an answer to DONE

    async with fake_client(script, timeout=0.5) as client:
        # the liveness check's DONE goes unanswered: the watch ends on that, not on the close
        with pytest.raises(ImapConnectionError, match="DONE"):
            async for _push in client.idle("INBOX", liveness_seconds=0.5):
                pass


async def test_quiet_but_healthy_server_is_checked_and_idle_resumes() -> None:
    seen: list[bytes] = []

    async def script(reader, writer):
        await login_dialogue(reader, writer, IDLE_CAPS)
        tag, _ = await command(reader)
        writer.write(SELECTED + tag + b" OK selected\r\n")
        idle_tag, idles = b"", 0
        while line := await reader.readline():
            seen.append(line.rstrip(b"\r\n"))
            tag, _, rest = seen[-1].partition(b" ")
            if rest == b"IDLE":
                idle_tag, idles = tag, idles + 1
                writer.write(b"+ idling\r\n")
                if idles == 2:  # silent during the first IDLE, news in the second
                    writer.write(b"* 6 EXISTS\r\n")
            elif tag == b"DONE":
                writer.write(idle_tag + b" OK idle done\r\n")
            else:
                writer.write(tag + b" OK " + rest + b" done\r\n")

    async with fake_client(script, timeout=0.5) as client:
        async for push in client.idle("INBOX", liveness_seconds=0.3):
            assert push.kind == "EXISTS" and push.number == 6 and push.folder == "INBOX"
            break
        await client.logout()
    words = [line.split(b" ", 1)[-1] if b" " in line else line for line in seen]
    assert words[:4] == [b"IDLE", b"DONE", b"NOOP", b"IDLE"]


async def test_without_idle_noop_polls_and_yields_what_it_reports() -> None:
    noops = 0

    async def script(reader, writer):
        nonlocal noops
        await login_dialogue(reader, writer)
        tag, _ = await command(reader)
        writer.write(SELECTED + tag + b" OK selected\r\n")
        while True:
            tag, rest = await command(reader)
            if not tag:
                return
            if rest == b"NOOP":
                noops += 1
                extra = b"* 6 EXISTS\r\n* 2 FETCH (UID 4 FLAGS (\\Seen))\r\n" if noops == 2 else b""
                writer.write(extra + tag + b" OK noop\r\n")
            else:
                writer.write(tag + b" OK\r\n")

    async with fake_client(script) as client:
        pushes = []
        async for push in client.idle("INBOX", poll_seconds=0.05):
            pushes.append(push)
            if len(pushes) == 2:
                break
        await client.logout()
    assert [(p.kind, p.number, p.uids, p.flags) for p in pushes] == [
        ("EXISTS", 6, (), None), ("FETCH", 2, (4,), frozenset({"\\Seen"}))]
    assert noops == 2
