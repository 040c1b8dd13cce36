"""The download of a POP3 account's new messages in batches, as the account's worker runs it and
as its download process (``pop3_child``) does.

Each batch is read from the server (RETR, pipelined) and then, while the next one is read:

1. its UIDLs are recorded in the local store as *fetching*, under their Maildir keys, with a
   digest of each message's bytes; a message whose digest is that of one stored here under a
   UIDL the server no longer lists is that message under a new UIDL (a server whose UIDLs were
   made again, after a migration say): its record takes the new UIDL, and it is not written again;
2. it is written to the Maildir's ``tmp/``, made durable and renamed into ``new/``, its
   headers read meanwhile from memory (the summaries the cache will hold; unless ``summarise``
   is off, when the caller reads them from the files);
3. it is recorded as *stored* (one transaction);
4. and handed on (``on_batch``) once the batch before it has been, so that the messages reach
   the cache in the order the server lists them.

No DELE goes out during the download: :func:`delete_due` sends those once it is over, in the
same session.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mailbag.domain.models import MessageSummary
from mailbag.protocols.maildir import delivered_summary
from mailbag.protocols.maildir_delivery import deliver, locate, new_key
from mailbag.protocols.pop3.client import WINDOW, Listing, Pop3Client
from mailbag.protocols.pop3.errors import Pop3LinkLost, Pop3MessageFailed
from mailbag.store.local import STORED, LocalStore
from mailbag.store.records import Pop3Download

#: Messages fetched, written and recorded together: at most this many ...
BATCH = WINDOW * 8
#: ... and of at most this many bytes (a single bigger message is a batch of its own).
BATCH_BYTES = 32 * 2**20
#: Batches being written and recorded while the next one is read.
STORING = 2

#: A batch delivered: ``(key, summary)`` per message in the server's order (None: its headers
#: were not read, see ``summarise``).
Delivered = list[tuple[str, MessageSummary | None]]
#: Told of each batch once it is stored: how many messages of the listing it took care of
#: (one gone from the server meanwhile counts too) and what it delivered.
OnBatch = Callable[[int, Delivered], Awaitable[None]]
_DAY = 86400.0
#: The digest of a download whose file was not found when its digest was made afterwards.
NO_DIGEST = "-"


@dataclass(frozen=True)
class Keeping:
    """How long the server keeps a message once it is stored here: for ever
    (``leave_on_server``), ``delete_after_days`` days after its download, or not at all."""

    leave_on_server: bool = True
    delete_after_days: int | None = None

    def due(self, download: Pop3Download | None, now: float) -> bool:
        """Whether the message ``download`` records is to be deleted from the server now."""
        if download is None or download.state != STORED or download.deleted is not None:
            return False
        if not self.leave_on_server:
            return True
        days = self.delete_after_days
        return days is not None and now - download.downloaded >= days * _DAY


def stored_numbers(listing: Sequence[Listing], known: Mapping[str, Pop3Download]) -> list[int]:
    """The numbers of the messages in ``listing`` that are stored here (``known``: the local
    store's downloads), which a server may remove at QUIT without a loss."""
    return [
        m.number for m in listing
        if (d := known.get(m.uidl)) is not None and d.state == STORED and not not_here(m, known)
    ]


def not_here(message: Listing, known: Mapping[str, Pop3Download]) -> bool:
    """Whether ``message`` is one to download: its UIDL is new here; or it is that of a message
    the server removed (its QUIT said so), listed again. With another size it names another
    message now (a server that gives UIDLs again: some number them as the messages are). With
    the same size it may be the message removed, listed again by a server that keeps what it
    said it removed (as some do), or another one of that size: it is downloaded, and its bytes
    tell (see :func:`to_compare`); once they told that the server keeps it, it is not again."""
    download = known.get(message.uidl)
    if download is None:
        return True
    if download.deleted is None:
        return False
    if download.size > 0 and download.size != message.size:
        return True
    return not download.relisted and _has_digest(download)


def to_compare(listing: Sequence[Listing], known: Mapping[str, Pop3Download]) -> dict[str, str]:
    """UIDL -> digest of each message of ``listing`` stored here under its UIDL, which the server
    said it removed and lists again with the same size: :func:`download_batches` stores it
    again only if its bytes are not those stored (else it records that the server keeps it)."""
    out: dict[str, str] = {}
    for message in listing:
        download = known.get(message.uidl)
        if download is not None and not_here(message, known) and download.size in (0, message.size):
            out[message.uidl] = download.digest
    return out


def _has_digest(download: Pop3Download) -> bool:
    return download.digest not in ("", NO_DIGEST)


def vanished(listing: Sequence[Listing], known: Mapping[str, Pop3Download]) -> dict[str, list[str]]:
    """Digest -> UIDLs of the messages stored here under UIDLs ``listing`` does not hold: those
    :func:`download_batches` knows again by their bytes under a new UIDL."""
    listed = {m.uidl for m in listing}
    out: dict[str, list[str]] = {}
    for uidl, download in known.items():
        if _has_digest(download) and download.state == STORED and uidl not in listed:
            out.setdefault(download.digest, []).append(uidl)
    return out


def without_digests(listing: Sequence[Listing], known: Mapping[str, Pop3Download]) -> dict[str, str]:
    """UIDL -> Maildir key of each message of ``known`` stored by a mailbag that kept no digests,
    under a UIDL ``listing`` does not hold (see :func:`digests_of_files`)."""
    listed = {m.uidl for m in listing}
    return {
        uidl: d.key for uidl, d in known.items() if not d.digest and d.state == STORED and uidl not in listed
    }


def digests_of_files(inbox: Path, keys: Mapping[str, str]) -> dict[str, str]:
    """UIDL -> digest of each of ``keys`` (UIDL -> Maildir key) whose file is still in ``inbox``
    as it was written (its bytes are those the digest of a download is made of); the others
    get :data:`NO_DIGEST`, and are not looked for again."""
    files = locate(inbox, keys.values())
    out: dict[str, str] = {}
    for uidl, key in keys.items():
        path = files.get(key)
        try:
            out[uidl] = digest(path.read_bytes()) if path is not None else NO_DIGEST
        except OSError:  # gone meanwhile, or unreadable
            out[uidl] = NO_DIGEST
    return out


def digest(raw: bytes) -> str:
    """A digest of a message's bytes (BLAKE2b, 128 bits)."""
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def digests(raws: Sequence[bytes]) -> list[str]:
    return [digest(raw) for raw in raws]


def summaries(raws: Sequence[bytes], received: float) -> list[MessageSummary | None]:
    """The summary of each message (UID 0, no flags; None for one that cannot be read, see
    ``delivered_summary``)."""
    return [delivered_summary(raw, received) for raw in raws]


def batches(listing: Sequence[Listing]) -> Iterator[list[Listing]]:
    """``listing`` cut into batches of at most :data:`BATCH` messages and :data:`BATCH_BYTES`."""
    batch: list[Listing] = []
    size = 0
    for message in listing:
        if batch and (len(batch) == BATCH or size + message.size > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(message)
        size += message.size
    if batch:
        yield batch


async def download_batches(
    client: Pop3Client, wanted: Sequence[Listing], inbox: Path, local: LocalStore, account: str,
    on_batch: OnBatch, between: Callable[[], Awaitable[None]] | None = None, summarise: bool = True,
    known_by_digest: dict[str, list[str]] | None = None, compare: Mapping[str, str] | None = None,
) -> int:
    """Download ``wanted`` into the Maildir folder ``inbox`` (see the module's text); returns
    how many messages arrived. ``between`` runs after each batch handed on, before the next
    waits its turn (the worker serves what the user asked for there, never while a batch is
    being handed on: both may use the folder's index, which is not shared between threads).
    What was read is stored and handed on even when the link fails part-way, the messages of
    the batch before the one it failed on too; then the failure is raised (Pop3MessageFailed
    with that message's UIDL).
    Without ``summarise`` each message is handed on with None for its summary.
    ``known_by_digest`` (see :func:`vanished`) is used up as its messages are known again;
    a message of ``compare`` (see :func:`to_compare`) whose bytes are those stored is not
    stored again."""
    got = 0
    again = known_by_digest if known_by_digest is not None else {}
    kept = compare or {}
    sizes: dict[str, int] = {}  # UIDL -> the listing's size, of each message read
    storing: list[asyncio.Task[int]] = []  # in the order read; each hands on after the one before
    handing = asyncio.Lock()  # a batch handed on, or the worker's turn (``between``)
    try:
        for batch in batches(wanted):
            keys = {m.uidl: new_key() for m in batch}
            uidl_of = {m.number: m.uidl for m in batch}
            sizes.update((m.uidl, m.size) for m in batch)
            written: list[tuple[str, str, bytes]] = []
            listed = 0
            try:
                async for number, raw in client.retrieve([m.number for m in batch]):
                    listed += 1
                    if raw is not None:
                        written.append((keys[uidl_of[number]], uidl_of[number], raw))
            except Pop3LinkLost as exc:
                if written:
                    after = storing[-1] if storing else None
                    storing.append(asyncio.create_task(
                        _store(written, listed, inbox, local, account, on_batch, after, handing, summarise, again, kept, sizes)
                    ))
                if isinstance(exc, Pop3MessageFailed):
                    raise Pop3MessageFailed(str(exc), exc.number, uidl_of.get(exc.number, "")) from exc
                raise
            if len(storing) == STORING:
                got += await storing.pop(0)
                if between is not None:
                    async with handing:
                        await between()
            after = storing[-1] if storing else None
            storing.append(asyncio.create_task(
                _store(written, len(batch), inbox, local, account, on_batch, after, handing, summarise, again, kept,
                       sizes)
            ))
    finally:
        for task in storing:  # what was read is kept, whatever happens next
            await asyncio.wait([task])
        for task in storing:
            got += task.result()
    return got


async def _store(
    written: list[tuple[str, str, bytes]], listed: int, inbox: Path, local: LocalStore, account: str,
    on_batch: OnBatch, after: asyncio.Task[int] | None, handing: asyncio.Lock, summarise: bool,
    again: dict[str, list[str]], compare: Mapping[str, str], sizes: Mapping[str, int],
) -> int:
    """Steps 1 to 4 of the module's text for one batch of ``(key, uidl, message)``; returns how
    many messages it wrote. ``again``: see :func:`vanished` (used up here); ``compare``: see
    :func:`to_compare`; ``sizes``: UIDL -> the listing's size."""
    made_digests = await asyncio.to_thread(digests, [raw for _key, _uidl, raw in written])
    renamed: dict[str, str] = {}  # old UIDL -> new: known again (taken here, on the loop)
    fresh: list[tuple[str, str, bytes]] = []
    digest_of: dict[str, str] = {}
    relisted: list[str] = []  # the server keeps these, which it said it removed
    for (key, uidl, raw), its_digest in zip(written, made_digests):
        olds = again.get(its_digest)
        if compare.get(uidl) == its_digest:
            relisted.append(uidl)
        elif olds:
            renamed[olds.pop()] = uidl
        else:
            fresh.append((key, uidl, raw))
            digest_of[uidl] = its_digest
    written = fresh
    named = [uidl for _key, uidl, _raw in written] + list(renamed.values())
    listed_sizes = {uidl: sizes[uidl] for uidl in named}
    await asyncio.to_thread(
        local.pop3_fetching, account, {uidl: key for key, uidl, _raw in written}, digest_of, renamed, listed_sizes
    )
    if relisted:
        await asyncio.to_thread(local.pop3_relisted, account, relisted)
    delivered = [(key, raw) for key, _uidl, raw in written]
    if summarise:
        made, _ = await asyncio.gather(
            asyncio.to_thread(summaries, [raw for _key, raw in delivered], time.time()),
            asyncio.to_thread(deliver, inbox, delivered),
        )
    else:
        await asyncio.to_thread(deliver, inbox, delivered)
        made = [None] * len(delivered)
    await asyncio.to_thread(local.pop3_stored, account, sorted(uidl for _key, uidl, _raw in written))
    if after is not None:
        await asyncio.wait([after])  # handed on in the order the server lists the messages
    async with handing:
        await on_batch(listed, [(key, summary) for (key, _raw), summary in zip(delivered, made)])
    return len(written)


async def delete_due(
    client: Pop3Client, listing: Sequence[Listing], local: LocalStore, account: str, keeping: Keeping
) -> None:
    """DELE what ``listing`` holds that is stored here and due to go from the server, then QUIT
    (which commits it), and record what the server removed."""
    known = await asyncio.to_thread(local.pop3_downloads, account)
    now = time.time()
    victims = [m for m in listing if keeping.due(known.get(m.uidl), now)]
    refused = set(await client.delete([m.number for m in victims])) if victims else set()
    await client.quit(stored=stored_numbers(listing, known))
    if victims:
        done = [m.uidl for m in victims if m.number not in refused]
        await asyncio.to_thread(local.pop3_deleted, account, done)
