"""The triage journal: actions take effect in the cache at once, are written down, and are replayed
to the server in order — after a reconnect or a restart too. A refusal rolls the cache back.

Every action is a row of the store's ``pending_actions`` table (LOCAL data, never dropped by a
cache rebuild) with ``state`` pending -> done | failed | cancelled.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mailbag.domain.events import (
    ActionApplied,
    ActionRolledBack,
    ErrorReported,
    MessagesChanged,
    RequestDone,
    RequestFailed,
)
from mailbag.domain.models import FolderRole
from mailbag.domain.requests import DeleteMessages, MoveMessages, Request, SetFlags
from mailbag.store.records import PendingAction

if TYPE_CHECKING:
    from mailbag.services.backend import Backend as AccountWorker

log = logging.getLogger(__name__)

FLAGS, MOVE, COPY, EXPUNGE = "flags", "move", "copy", "expunge"
TRIAGE = (SetFlags, MoveMessages, DeleteMessages)


class ServerRefused(Exception):
    """The server answered NO/BAD to an action: roll it back and tell the user."""


_ticket_numbers = itertools.count(1)


@dataclass(frozen=True, slots=True)
class UndoTicket:
    """What ``undo`` needs to take an action back: the journal row and its description.

    ``seq`` orders tickets across accounts, so undo takes back the newest action of all.
    """

    account: str
    action_id: int
    description: str
    seq: int = field(default_factory=lambda: next(_ticket_numbers))


def plural(count: int, word: str = "message") -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class ActionJournal:
    """One account's triage actions: applied locally in order, replayed on the server in order."""

    def __init__(self, worker: AccountWorker) -> None:
        self.worker = worker
        self.store = worker.store
        self._local: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._in_flight: int | None = None
        self._settled = asyncio.Event()
        self._settled.set()
        self._maybe_pending = True  # until a replay finds the journal empty
        self.undo_tickets: deque[UndoTicket] = deque(maxlen=50)

    # --- the local side: runs even while offline ----------------------------------------------

    def submit(self, request: Request) -> None:
        self._local.put_nowait(("request", request))

    def submit_undo(self, ticket: UndoTicket) -> None:
        self._local.put_nowait(("undo", ticket))

    async def run_local(self) -> None:
        """Apply queued actions to the cache and the journal, one at a time, in order."""
        while True:
            kind, item = await self._local.get()
            try:
                if kind == "undo":
                    await self._undo(item)
                else:
                    await self._apply_request(item)
            except Exception as exc:  # noqa: BLE001 - one bad action must not stop the others
                log.exception("account %s: local action failed", self.worker.name)
                if kind == "request":
                    self.worker.emit(RequestFailed(item.request_id, str(exc)))
                self.worker.emit(ErrorReported(self.worker.name, str(exc)))
            self.worker.poke()

    async def _apply_request(self, request: Request) -> None:
        worker = self.worker
        if isinstance(request, SetFlags):
            action_id, text = await self._record_flags(
                request.folder, request.uids, request.add, request.remove
            )
        elif isinstance(request, MoveMessages):
            target = request.target or await self._folder_with_role(request.target_role)
            if target == request.folder:
                raise ValueError(f"the messages are already in {target}")
            action_id, text = await self._record_move(
                request.folder, request.uids, target, copy=request.copy
            )
        elif isinstance(request, DeleteMessages):
            if request.permanent:
                action_id = await self._record(request.folder, request.uids, EXPUNGE, {})
                text = f"Deleted {plural(len(request.uids))} permanently"
            else:
                trash = await self._folder_with_role(FolderRole.TRASH)
                if trash == request.folder:
                    raise ValueError("already in Trash: delete permanently instead (D)")
                action_id, text = await self._record_move(request.folder, request.uids, trash)
        else:
            raise TypeError(f"not a triage request: {request!r}")
        undoable = not (isinstance(request, DeleteMessages) and request.permanent)
        if undoable:
            self.undo_tickets.append(UndoTicket(worker.name, action_id, text))
        worker.emit(RequestDone(request.request_id))
        worker.emit(ActionApplied(worker.name, text, undoable=undoable))

    async def _folder_with_role(self, role: FolderRole, *, required: bool = True) -> str:
        """The account's folder with ``role`` (off the event loop); "" when there is none and
        it is not ``required``."""
        folders = await self.worker.db(self.store.folders, self.worker.name)
        for folder in folders:
            if folder.role == role:
                return folder.name
        if not required:
            return ""
        raise ValueError(f"{self.worker.name} has no {role.value or 'such'} folder")

    async def _record_flags(
        self, folder: str, uids: Sequence[int], add: Iterable[str], remove: Iterable[str]
    ) -> tuple[int, str]:
        add, remove = sorted(set(add)), sorted(set(remove))
        before = await self.worker.db(current_flags, self.store, self.worker.name, folder, uids)
        after = [(uid, (flags | set(add)) - set(remove)) for uid, flags in before.items()]
        action_id = await self._record(
            folder,
            uids,
            FLAGS,
            {"add": add, "remove": remove, "before": {str(u): sorted(f) for u, f in before.items()}},
        )
        await self.worker.db(self.store.update_flags, self.worker.name, folder, after)
        await self._changed(folder, changed=len(after))
        return action_id, describe_flags(len(uids), add, remove)

    async def _record_move(
        self, folder: str, uids: Sequence[int], target: str, *, copy: bool = False
    ) -> tuple[int, str]:
        action_id = await self._record(folder, uids, COPY if copy else MOVE, {"target": target})
        if not copy:
            await self.worker.db(self.store.set_hidden, self.worker.name, folder, uids, True)
            await self._changed(folder, removed=len(uids))
        to_trash = target == await self._folder_with_role(FolderRole.TRASH, required=False)
        verb = "Copied" if copy else ("Deleted" if to_trash else "Moved")
        suffix = "" if verb == "Deleted" else f" to {target}"
        return action_id, f"{verb} {plural(len(uids))}{suffix}"

    async def _record(
        self, folder: str, uids: Sequence[int], action: str, args: dict[str, Any]
    ) -> int:
        state = await self.worker.db(self.store.folder_state, self.worker.name, folder)
        args = dict(args, uidvalidity=state.uidvalidity if state else 0)
        action_id = await self.worker.db(
            self.store.add_pending_action, self.worker.name, folder, list(uids), action, args
        )
        self._maybe_pending = True
        if action == EXPUNGE:
            await self.worker.db(self.store.set_hidden, self.worker.name, folder, uids, True)
            await self._changed(folder, removed=len(uids))
        return action_id

    async def _changed(self, folder: str, *, changed: int = 0, removed: int = 0, added: int = 0) -> None:
        await self.worker.publish_counts(folder)
        self.worker.emit(
            MessagesChanged(self.worker.name, folder, added=added, changed=changed, removed=removed)
        )

    # --- undo ---------------------------------------------------------------------------------

    async def _undo(self, ticket: UndoTicket) -> None:
        worker = self.worker
        while self._in_flight == ticket.action_id:
            self._settled.clear()
            await self._settled.wait()
        action = await worker.db(self.store.pending_action, ticket.action_id)
        if action is None or action.state in ("failed", "cancelled"):
            worker.emit(ActionApplied(worker.name, f"Nothing to undo: {ticket.description}", False))
            return
        if action.state == "pending":
            await worker.db(self.store.set_action_state, action.id, "cancelled")
            await self._roll_back(action)
        else:
            await self._record_inverse(action)
        worker.emit(ActionApplied(worker.name, f"Undone: {ticket.description}", undoable=False))

    async def _record_inverse(self, action: PendingAction) -> None:
        if action.action == FLAGS:
            before = {int(u): set(f) for u, f in action.args.get("before", {}).items()}
            groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[int]] = defaultdict(list)
            for uid, had in before.items():
                add = tuple(sorted(f for f in action.args["remove"] if f in had))
                remove = tuple(sorted(f for f in action.args["add"] if f not in had))
                if add or remove:
                    groups[(add, remove)].append(uid)
            for (add, remove), uids in groups.items():
                await self._record_flags(action.folder, uids, add, remove)
            return
        mapping = {int(k): int(v) for k, v in action.args.get("result", {}).items()}
        if not mapping:
            raise ValueError("cannot undo: the server did not say where the messages went")
        target = action.args["target"]
        if action.action == MOVE:
            await self._record_move(target, sorted(mapping.values()), action.folder)
        elif action.action == COPY:
            await self._record(target, sorted(mapping.values()), EXPUNGE, {})
        else:
            raise ValueError("a permanent delete cannot be undone")

    # --- the server side: runs on the account's connection -------------------------------------

    async def has_pending(self) -> bool:
        return self._maybe_pending

    def idle(self) -> bool:
        """True unless an action is being sent right now."""
        return self._in_flight is None

    async def replay(self) -> None:
        """Send every pending action to the server, oldest first.

        A connection error leaves the action pending (replayed after the reconnect); a refusal
        marks it failed and rolls the cache back.
        """
        worker = self.worker
        self._maybe_pending = False
        for action in await worker.db(self.store.pending_actions, worker.name):
            if not await self._still_valid(action):
                await worker.db(self.store.set_action_state, action.id, "failed")
                await self._roll_back(action)
                continue
            self._in_flight = action.id
            current = await worker.db(self.store.pending_action, action.id)
            if current is None or current.state != "pending":  # undone meanwhile
                self._in_flight = None
                self._settled.set()
                continue
            try:
                result = await self._send(action)
            except ServerRefused as exc:
                await worker.db(self.store.set_action_state, action.id, "failed")
                await self._roll_back(action)
                worker.emit(ActionRolledBack(worker.name, describe_action(action), str(exc)))
                continue
            except BaseException:
                self._maybe_pending = True  # still in the journal: replayed after the reconnect
                raise
            finally:
                self._in_flight = None
                self._settled.set()
            await self._settle(action, result)
            worker.emit(ActionApplied(worker.name, describe_action(action), on_server=True))

    async def _still_valid(self, action: PendingAction) -> bool:
        state = await self.worker.db(self.store.folder_state, self.worker.name, action.folder)
        expected = action.args.get("uidvalidity", 0)
        return not expected or state is None or state.uidvalidity == expected

    async def _send(self, action: PendingAction) -> dict[int, int]:
        worker, uids = self.worker, list(action.uids)
        if action.action == FLAGS:
            await worker.server_set_flags(
                action.folder, uids, set(action.args["add"]), set(action.args["remove"])
            )
            return {}
        if action.action in (MOVE, COPY):
            return await worker.server_move(
                action.folder, uids, action.args["target"], copy=action.action == COPY
            )
        if action.action == EXPUNGE:
            await worker.server_expunge(action.folder, uids)
            return {}
        raise ValueError(f"unknown journal action {action.action!r}")

    async def _settle(self, action: PendingAction, result: dict[int, int]) -> None:
        """The server did it: make the cache final and remember where moved messages went."""
        worker = self.worker
        args = dict(action.args, result={str(k): v for k, v in result.items()})
        await worker.db(self.store.finish_action, action.id, "done", args)
        if action.action in (MOVE, COPY) and result:
            target = action.args["target"]
            await worker.db(self.store.copy_to, worker.name, action.folder, target, result)
            await self._changed(target, added=len(result))
        if action.action in (MOVE, EXPUNGE):
            await worker.db(self.store.remove_uids, worker.name, action.folder, action.uids)
            await self._changed(action.folder, removed=len(action.uids))

    async def _roll_back(self, action: PendingAction) -> None:
        worker = self.worker
        if action.action == FLAGS:
            before = [(int(u), frozenset(f)) for u, f in action.args.get("before", {}).items()]
            await worker.db(self.store.update_flags, worker.name, action.folder, before)
            await self._changed(action.folder, changed=len(before))
        elif action.action in (MOVE, EXPUNGE):
            await worker.db(self.store.set_hidden, worker.name, action.folder, action.uids, False)
            await self._changed(action.folder, added=len(action.uids))


def current_flags(store, account: str, folder: str, uids: Sequence[int]) -> dict[int, frozenset[str]]:
    """The cached flags of ``uids`` (unknown uids are left out)."""
    result = {}
    for uid in uids:
        summary = store.summary(account, folder, uid)
        if summary is not None:
            result[uid] = summary.flags
    return result


_FLAG_WORDS = {"\\Seen": ("read", "unread"), "\\Flagged": ("flagged", "unflagged")}


def describe_flags(count: int, add: Sequence[str], remove: Sequence[str]) -> str:
    words = [_FLAG_WORDS.get(f, (f, ""))[0] for f in add]
    words += [_FLAG_WORDS.get(f, ("", f"not {f}"))[1] for f in remove]
    return f"Marked {plural(count)} {' and '.join(words)}"


def describe_action(action: PendingAction) -> str:
    count = len(action.uids)
    if action.action == FLAGS:
        return describe_flags(count, action.args.get("add", ()), action.args.get("remove", ()))
    if action.action == EXPUNGE:
        return f"Permanent delete of {plural(count)}"
    verb = "Copy" if action.action == COPY else "Move"
    return f"{verb} of {plural(count)} to {action.args.get('target', '?')}"
