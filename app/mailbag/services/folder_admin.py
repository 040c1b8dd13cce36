"""Creating, renaming, deleting and (un)subscribing folders, with the cache and the journal kept
in step with the server.

A folder operation is served only while the account is connected (the scheduler refuses it at
once offline): done later, a rename could meet actions journalled meanwhile against either name.
Before a rename or a delete the journal is replayed; an action still waiting for the folder (or a
folder below it) then, set aside after failing, say, refuses the operation with the count, so no
action is ever applied to the wrong folder. A rename takes the folder's cached messages, bodies
and search rows along, and the journal's actions too (undo then finds the messages under the new
name, as they are on the server); a delete drops them.

Each change is written down in the local store before it is sent and forgotten once the cache
has followed: one whose answer the link lost, or whose mailbag was killed meanwhile, is settled
by the next folder list (the next start's), as the account's own change, never another program's.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, TypeVar

from mailbag.domain.events import ActionApplied
from mailbag.domain.folder_names import known_prefix, typed_name
from mailbag.domain.models import Folder
from mailbag.domain.requests import (
    CreateFolder,
    DeleteFolder,
    FolderRequest,
    RenameFolder,
    SubscribeFolder,
)
from mailbag.domain.wording import plural
from mailbag.paths import process_running
from mailbag.services.failures import Failure, Refused
from mailbag.store.local import UNSENT
from mailbag.store.records import FolderChange as FolderChange
from mailbag.store.records import PendingAction

if TYPE_CHECKING:
    from mailbag.services.backend import Backend

T = TypeVar("T")


async def manage_folder(backend: Backend, request: FolderRequest) -> None:
    """Serve one folder request on ``backend``; a refusal raises with the reason."""
    if isinstance(request, CreateFolder):
        name = await backend.server_name(checked_name(request.name))
        async with _written_down(backend, "", name) as change:
            made = await _answered(backend, change, backend.server_create_folder(name))
            await backend.refresh_folders()
        shown = await shown_names(backend, made)
        backend.emit(ActionApplied(backend.name, f"Folder {shown[0]} created", undoable=False, on_server=True))
    elif isinstance(request, RenameFolder):
        folder = await _known(backend, request.folder)
        new_name = await backend.server_name(checked_name(request.new_name))
        await _settle(backend, folder, "renamed")
        async with _written_down(backend, folder.name, new_name) as change:
            made = await _answered(backend, change, backend.server_rename_folder(folder.name, new_name))
            if folder.name.upper() == "INBOX":  # IMAP: the messages moved out, INBOX stays, empty
                await backend.db(backend.store.reset_folder, backend.name, "INBOX")
            else:
                await _rename_cached(backend, folder.name, made, folder.delimiter)
            await backend.refresh_folders()
        await backend.publish_counts(made)
        if folder.name.upper() == "INBOX":
            await backend.sync_folder("INBOX")
        old, new = await shown_names(backend, folder.name, made)
        backend.emit(ActionApplied(backend.name, f"Folder {old} renamed to {new}", undoable=False, on_server=True))
    elif isinstance(request, DeleteFolder):
        folder = await _known(backend, request.folder)
        if folder.name.upper() == "INBOX":
            raise Refused("the Inbox cannot be deleted")
        await _settle(backend, folder, "deleted")
        shown = await shown_names(backend, folder.name)
        async with _written_down(backend, folder.name, None) as change:
            await _answered(backend, change, backend.server_delete_folder(folder.name))
            await backend.db(backend.store.drop_folder, backend.name, folder.name)
            await backend.refresh_folders()
        backend.emit(ActionApplied(backend.name, f"Folder {shown[0]} deleted", undoable=False, on_server=True))
    elif isinstance(request, SubscribeFolder):
        folder = await _known(backend, request.folder)
        await backend.server_subscribe(folder.name, request.subscribe)
        await backend.refresh_folders()
        what = "Subscribed to" if request.subscribe else "Unsubscribed from"
        shown = await shown_names(backend, folder.name)
        backend.emit(ActionApplied(backend.name, f"{what} {shown[0]}", undoable=False, on_server=True))


@asynccontextmanager
async def _written_down(backend: Backend, folder: str, new_name: str | None) -> AsyncIterator[FolderChange]:
    """The change written down in the local store for the block (the server's side, then the
    cache's): a mailbag killed meanwhile leaves it for the next start to settle by the folder
    list, as a link lost before the server's answer leaves it for the next list (see
    :func:`settle_unanswered`); otherwise it is forgotten when the block ends."""
    local = backend.store.local
    change_id = await backend.db(local.add_folder_change, backend.name, folder, new_name)
    change = FolderChange(folder, new_name, change_id, os.getpid())
    try:
        yield change
    finally:
        if change not in backend.unanswered:
            await backend.db(local.forget_folder_change, change_id)


async def _answered(backend: Backend, change: FolderChange, step: Awaitable[T]) -> T:
    """Await ``step``, the server's side of ``change``; a link lost before its answer leaves
    the change in ``backend.unanswered`` for the next folder list to settle."""
    backend.unanswered.append(change)
    try:
        result = await step
    except Exception as exc:
        if backend.classify(exc) is not Failure.LINK:
            backend.unanswered.remove(change)
        raise
    backend.unanswered.remove(change)
    return result


async def _rename_cached(backend: Backend, folder: str, new_name: str, delimiter: str | None) -> None:
    """The cache and the journal follow a rename done on the server."""
    await backend.db(backend.store.rename_folder, backend.name, folder, new_name, delimiter)
    await backend.db(backend.store.local.rename_folder, backend.name, folder, new_name, delimiter)


async def settle_unanswered(backend: Backend, folders: list[Folder]) -> set[str]:
    """Settle the changes whose answer the link lost, and those a mailbag killed before the
    cache followed left in the local store, by the folder list the server gives now: a rename
    done moves the cache along, and each change done is told. The names the account itself
    took away (not to be reported as another program's doing)."""
    names = {f.name for f in folders}
    prefix = known_prefix(backend.folder_prefix, folders)
    changes, backend.unanswered = backend.unanswered, []
    written = await backend.db(backend.store.local.folder_changes, backend.name)
    changes += [c for c in written if c.pid != os.getpid() and not process_running(c.pid)]
    ours: set[str] = set()
    for change in changes:
        if not change.folder:
            if change.new_name in names:
                made = typed_name(change.new_name, prefix)
                backend.emit(ActionApplied(backend.name, f"Folder {made} created", undoable=False, on_server=True))
        elif change.folder not in names and change.new_name is None:
            ours.add(change.folder)
            gone = typed_name(change.folder, prefix)
            backend.emit(ActionApplied(backend.name, f"Folder {gone} deleted", undoable=False, on_server=True))
        elif change.folder not in names and change.new_name in names:
            delimiter = next((f.delimiter for f in folders if f.name == change.new_name), None)
            await _rename_cached(backend, change.folder, change.new_name, delimiter)
            old, new = typed_name(change.folder, prefix), typed_name(change.new_name, prefix)
            backend.emit(ActionApplied(backend.name, f"Folder {old} renamed to {new}", undoable=False, on_server=True))
        if change.id:
            await backend.db(backend.store.local.forget_folder_change, change.id)
    return ours


async def shown_names(backend: Backend, *names: str) -> list[str]:
    """``names`` as the tree shows them: without the ``INBOX.`` of a server that keeps every
    folder below it (read from the account's cached folders)."""
    prefix = known_prefix(backend.folder_prefix, await backend.db(backend.store.folders, backend.name))
    return [typed_name(name, prefix) for name in names]


def checked_name(name: str) -> str:
    """A folder name the user typed, trimmed; Refused when no server could take it."""
    name = name.strip()
    if not name:
        raise Refused("a folder needs a name")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise Refused("a folder name cannot hold control characters")
    return name


async def _known(backend: Backend, name: str) -> Folder:
    """The cached folder ``name``; Refused when the account has none of that name."""
    folders = await backend.db(backend.store.folders, backend.name)
    folder = next((f for f in folders if f.name == name), None)
    if folder is None:
        raise Refused(f"{backend.name} has no folder {typed_name(name, known_prefix(backend.folder_prefix, folders))}")
    return folder


async def _settle(backend: Backend, folder: Folder, what: str) -> None:
    """Replay the journal; refuse while an action still waits for ``folder`` (or one below it)
    or a sync is filling it."""
    if backend.journal.idle() and await backend.journal.has_pending():
        await backend.journal.replay()
    waiting = await backend.db(_waiting_for, backend, folder)
    (shown,) = await shown_names(backend, folder.name)
    if waiting:
        if backend.journal.held_elsewhere:
            remedy = "another mailbag is sending them: try again in a moment"
        else:
            remedy = "press $ to send again what was set aside"
        raise Refused(
            f"{shown} cannot be {what} yet: {plural(waiting, 'action')} on its messages "
            f"not done on the server ({remedy})"
        )
    if any(_below(folder, name) for name in backend.syncing):
        raise Refused(f"{shown} is being synced: try again in a moment")


def _waiting_for(backend: Backend, folder: Folder) -> int:
    """How many journal actions not yet done on the server act in ``folder`` or move into it."""
    actions: list[PendingAction] = backend.store.local.actions(backend.name, UNSENT)
    return sum(
        1 for a in actions if _below(folder, a.folder) or _below(folder, str(a.args.get("target", "")))
    )


def _below(folder: Folder, name: str) -> bool:
    """Whether ``name`` is ``folder`` or a folder below it."""
    return name == folder.name or bool(folder.delimiter and name.startswith(folder.name + folder.delimiter))
