"""Drafts on the server: each saved version replaces the earlier ones in the Drafts folder.

The new version is stored first (APPEND), then the folder is synced and the earlier versions —
the messages with the same Message-ID — are removed through the journal, so a draft is never
missing from the folder and a removal interrupted by a lost link is finished after the reconnect.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailbag.domain.models import DRAFT, SEEN, FolderRole
from mailbag.domain.requests import SaveDraft
from mailbag.services.failures import Unsupported

if TYPE_CHECKING:
    from mailbag.services.backend import Backend
    from mailbag.services.journal import ActionJournal


async def drafts_folder(backend: Backend) -> str:
    """The account's Drafts folder (SPECIAL-USE, else by name, else made); Unsupported when it
    has none and none can be made (the draft is kept on this machine all the same)."""
    folder = await backend.folder_to_store_in(FolderRole.DRAFTS)
    if not folder:
        raise Unsupported(f"{backend.name} has no Drafts folder")
    return folder


async def save_draft(backend: Backend, journal: ActionJournal, request: SaveDraft) -> None:
    """Serve :class:`SaveDraft` on ``backend``."""
    folder = await drafts_folder(backend)
    new_uid: int | None = None
    if request.raw is not None:
        new_uid = await backend.server_append(folder, request.raw, frozenset({DRAFT, SEEN}))
    await backend.sync_folder(folder)
    reader = backend.store.reader
    uids = await backend.db(reader.uids_with_message_id, backend.name, folder, request.message_id)
    if request.raw is not None and uids:
        keep = new_uid if new_uid in uids else uids[-1]  # without APPENDUID: the newest one
        uids = [uid for uid in uids if uid != keep]
    if uids:
        await journal.discard(folder, uids)
