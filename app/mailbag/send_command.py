"""``mailbag send``: a message read from stdin (as ``sendmail -t`` reads it) sent through the outbox.

The recipients come from To, Cc and Bcc, and Bcc is taken out of what is sent. The account is
the one whose address is the From address, or ``--account`` (a message without From gets the
account's). The message is committed to the outbox first, so it is never lost: when the server
cannot be reached it waits there, and ``mailbag send --flush`` or the next start of mailbag sends
it. While the full-screen mailbag runs, it sends, and this command waits for its verdict.

Exit status (sysexits): 0 sent (and its copy kept in Sent, or waiting to be), 75 queued for later
(the server could not be reached, or answered "try later"), 69 not sent and kept in the outbox
(refused, or it may have gone out already and is not sent twice), 65 a message that cannot be
sent as it is (a header injection, no recipient), 64 no such account, 2 a cache that cannot be
used. ``mailbag compose`` run by a script sends its message so too (``run_composed``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sys
from dataclasses import dataclass
from email.utils import formataddr
from typing import TYPE_CHECKING

from mailbag.domain.config import AccountConfig, Config
from mailbag.domain.envelope import EnvelopeError, prepare
from mailbag.store.local import QUEUED, SENDING

if TYPE_CHECKING:
    from mailbag.domain.compose import StartCompose
    from mailbag.services.outbox import OutboxService

log = logging.getLogger(__name__)

EX_OK, EX_USAGE, EX_DATAERR, EX_UNAVAILABLE, EX_TEMPFAIL = 0, 64, 65, 69, 75
#: While another mailbag sends, how often its progress is looked at.
WATCH_SECONDS = 0.2


@dataclass(frozen=True)
class Verdict:
    """What became of a message: the exit status and a line for stderr ("" when all went well)."""

    status: int
    line: str = ""


def choose_account(config: Config, raw: bytes, name: str | None) -> tuple[AccountConfig, bytes]:
    """The account to send ``raw`` with, and the message with a From field (added when it has
    none). Raises LookupError (no such account) or EnvelopeError."""
    if name is not None:
        account = config.accounts.get(name)
        if account is None:
            raise LookupError(f"no account named {name!r} in {config.path}")
    else:
        account = None
    sender = prepare(raw, domain="localhost", strip_bcc=True).sender
    if not sender:
        account = account or config.default_account()
        assert account is not None
        header = b"From: " + formataddr((account.display_name, account.email)).encode("utf-8") + b"\r\n"
        return account, header + raw
    if account is None:
        matches = [a for a in config.accounts.values() if a.email.lower() == sender.lower()]
        if not matches:
            raise LookupError(f"no account sends as {sender}; choose one with --account")
        account = matches[0]
    return account, raw


async def run_composed(config: Config, start: StartCompose, text: bytes) -> int:
    """``mailbag compose`` from a script: the message of ``start`` with ``text`` (UTF-8) as its
    body (else the mailto link's), sent as ``mailbag send`` sends; returns the exit status."""
    from datetime import datetime, timezone

    from mailbag.domain.compose import Identity
    from mailbag.domain.outgoing import ComposeError, build_message

    body = text.decode("utf-8", "replace") or start.body
    draft = dataclasses.replace(start, body=body).draft(Identity.of(config.accounts[start.account]))
    try:
        outgoing = build_message(draft, now=datetime.now(timezone.utc))
    except ComposeError as exc:
        return _say(Verdict(EX_DATAERR, f"the message cannot be sent: {exc}"))
    except OSError as exc:
        return _say(Verdict(EX_DATAERR, f"the message cannot be sent: {exc.filename}: {exc.strerror}"))
    return await run_send(config, start.account, False, outgoing.message)


async def run_send(config: Config, account_name: str | None, flush: bool, raw: bytes) -> int:
    """``mailbag send`` (``flush``: ``mailbag send --flush``); returns the exit status."""
    from mailbag import paths
    from mailbag.services.outbox import DirectCopier, OutboxService
    from mailbag.store.store import Store

    if not flush:
        try:
            account, raw = choose_account(config, raw, account_name)
        except LookupError as exc:
            return _say(Verdict(EX_USAGE, str(exc).strip("'\"")))
        except EnvelopeError as exc:
            return _say(Verdict(EX_DATAERR, f"the message cannot be sent: {exc}"))
    db = paths.cache_db()
    try:
        paths.private_dir(db.parent)
        store = Store.open(db)
    except Exception as exc:  # noqa: BLE001 - a cache that cannot be used is answered here
        from mailbag.store.cache_file import cache_problem

        problem = cache_problem(exc, db)
        if problem is None:
            raise
        return _say(Verdict(2, problem))
    service = OutboxService(config, store.local, lambda _event: None, DirectCopier(config, store))
    try:
        sending = store.local.lock_outbox()
        if flush:
            if not sending:
                return _say(Verdict(EX_OK, "mailbag is running and sends the outbox itself"))
            return _say(await _flush(service))
        try:
            item_id = await asyncio.to_thread(service.queue, account.name, raw)
        except EnvelopeError as exc:
            return _say(Verdict(EX_DATAERR, f"the message cannot be sent: {exc}"))
        except LookupError as exc:
            return _say(Verdict(EX_USAGE, str(exc)))
        if not sending:
            return _say(await _watch(service, item_id))
        await asyncio.to_thread(service.recover)
        state = await service.attempt(item_id)
        await service.copies_done()
        return _say(_verdict(service, item_id, state))
    finally:
        store.close()


async def _flush(service: OutboxService) -> Verdict:
    """Send every queued message whose time has come, and store the copies owed."""
    await asyncio.to_thread(service.recover)
    await service.step(now_or_never=True)
    await service.copies_done()
    messages = service.messages()
    left = [m for m in messages if m.state == "queued"]
    if left:
        return Verdict(EX_TEMPFAIL, f"{len(left)} message(s) still wait in the outbox: {left[0].reason}")
    held = [m for m in messages if m.state in ("held", "uncertain")]
    if held:  # not sent again unasked: the outbox in mailbag (W) sends or drops them
        return Verdict(EX_OK, f"{len(held)} message(s) held in the outbox, not sent again here ({held[0].reason});"
                              " mailbag's outbox (W) sends them again or drops them")
    return Verdict(EX_OK)


async def _watch(service: OutboxService, item_id: int) -> Verdict:
    """Another mailbag sends: wait until it has tried this message (while it is being handed
    over, its state is "sending": no verdict yet)."""
    while True:
        item = await asyncio.to_thread(service.local.outbox_item, item_id)
        if item is None:
            return _verdict(service, item_id, "")
        being_sent = item.state == SENDING or (item.state == QUEUED and item.attempts == 0)
        if not being_sent:
            return _verdict(service, item_id, item.state)
        await asyncio.sleep(WATCH_SECONDS)


def _verdict(service: OutboxService, item_id: int, state: str) -> Verdict:
    item = service.local.outbox_item(item_id)
    reason = item.last_error if item is not None else ""
    if state == "" or (state == "sent" and not reason):
        return Verdict(EX_OK)
    if state == "sent":
        return Verdict(EX_OK, f"{reason}; mailbag send --flush or the next start of mailbag stores it")
    if state == "held":
        return Verdict(EX_UNAVAILABLE, f"not sent: {reason}; it is kept in the outbox (held)")
    if state == "uncertain":
        return Verdict(
            EX_UNAVAILABLE,
            f"{reason}; it is kept in the outbox and not sent again unless you say so",
        )
    return Verdict(
        EX_TEMPFAIL,
        f"not sent yet: {reason}; it waits in the outbox, and mailbag send --flush or the next"
        " start of mailbag sends it",
    )


def _say(verdict: Verdict) -> int:
    if verdict.line:
        log.info("send: %s", verdict.line)
        print(f"mailbag: {verdict.line}", file=sys.stderr)
    return verdict.status
