"""The triage journal: actions take effect in the cache at once, are written down, and are replayed
to the server in order — after a reconnect or a restart too. A refusal rolls the cache back.

Every action is a row of the local store's journal (``mailbag.store.local``, its own file, never
part of the disposable cache). Its state goes pending -> in_flight -> done, or to failed (refused),
cancelled (undone before it was sent, or its folder was recreated) or aside (it kept failing).

Three rules keep a replay from ever hitting the wrong message or doing a thing twice:

* every action carries the UIDVALIDITY its UIDs belong to; the account compares it with the one
  the SELECT made for the action reports, and a mismatch cancels the action (the folder was
  recreated: those UIDs now name other messages);
* an action is marked in flight, durably, before it is sent; an action found in flight by a later
  replay (the link dropped or the process died before the answer) is checked on the server first,
  so that a move or copy that already happened is settled, not sent again;
* an action that keeps failing without an answer is set aside after :data:`MAX_ATTEMPTS` tries:
  kept, shown, undoable, retried only when the user asks.

Two mailbags on the same files (two terminals) each replay the account's journal, so a replay
holds the account's journal lock (``LocalStore.journal_lock_file``, ``flock``) from reading the
journal to settling its last action. An action found in flight is therefore one a process left
without its answer (it died, or lost its link, and the lock went with it), never one another
mailbag is sending right now; a replay that finds the lock taken sends nothing and is tried again
a moment later (the scheduler's ``journal_busy_seconds``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import os
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from mailbag.domain.action_words import ActionWords, delete_words, flag_words, move_words
from mailbag.domain.events import (
    ActionApplied,
    ActionRolledBack,
    ErrorReported,
    MessagesChanged,
    RequestDone,
    RequestFailed,
)
from mailbag.domain.folder_names import known_prefix, typed_name
from mailbag.domain.models import FolderRole, settable_flags, unkept_keywords
from mailbag.domain.requests import DeleteMessages, MoveMessages, Request, SetFlags
from mailbag.domain.wording import plural
from mailbag.paths import try_lock
from mailbag.store.local import (
    ACTIVE,
    ASIDE,
    CANCELLED,
    COPY,
    DONE,
    EXPUNGE,
    FAILED,
    FLAGS,
    HOUSEKEEPING,
    IN_FLIGHT,
    MOVE,
    PENDING,
    UNSENT,
)
from mailbag.store.records import PendingAction

if TYPE_CHECKING:
    from mailbag.services.backend import Backend as AccountWorker
    from mailbag.store.local import LocalStore
    from mailbag.store.store import Store

log = logging.getLogger(__name__)

TRIAGE = (SetFlags, MoveMessages, DeleteMessages)
#: Sends without an answer (link lost, unexpected error) before an action is set aside.
MAX_ATTEMPTS = 3
#: Finished actions kept per account besides those undo can still reach (another mailbag on
#: the same files, ``mailbag sync`` beside the UI, may still want to undo them).
KEEP_FINISHED = 200
#: Actions replayed between two prunings of the finished ones (the first replay prunes too).
PRUNE_EVERY = 100


class ServerRefused(Exception):
    """The server answered NO/BAD to an action: roll it back and tell the user."""


class UidValidityChanged(ServerRefused):
    """The folder's UIDVALIDITY is not the one the action was made under: its UIDs name other
    messages now, so the action is cancelled."""

    def __init__(self, folder: str) -> None:
        super().__init__(self.worded(folder))
        self.folder = folder

    @staticmethod
    def worded(folder: str) -> str:
        """What happened, ``folder`` named as the user knows it."""
        return f"{folder} was recreated on the server; the action was cancelled so that it cannot touch other messages"


@dataclass(frozen=True, slots=True)
class MoveOutcome:
    """Where moved or copied messages went: the target's UIDVALIDITY (0 when unknown) and
    old uid -> new uid (empty when the server did not say)."""

    uidvalidity: int = 0
    mapping: dict[int, int] = field(default_factory=dict)


_ticket_numbers = itertools.count(1)
#: Tickets of actions an earlier run recorded sort before this run's: their ``seq`` is this plus
#: the action's creation time in milliseconds (negative for the next 30,000 years).
RECOVERED_SEQ = -(10**15)


@dataclass(frozen=True, slots=True)
class UndoTicket:
    """What ``undo`` needs to take an action back: the request that made it and its description.

    A ticket is made when the request is submitted, before the action is written down, so undo
    always takes back the action the user made last; the undo then waits behind that action in
    the same ordered queue. ``seq`` orders tickets across accounts.
    """

    account: str
    request_id: int
    description: str
    seq: int = field(default_factory=lambda: next(_ticket_numbers))


class ActionJournal:
    """One account's triage actions: applied locally in order, replayed on the server in order."""

    def __init__(self, worker: AccountWorker) -> None:
        self.worker = worker
        self.store: Store = worker.store
        self.local = worker.store.local
        self._local: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._in_flight: int | None = None
        self._settled = asyncio.Event()
        self._settled.set()
        self._maybe_pending = True  # until a replay finds the journal empty
        self.undo_tickets: deque[UndoTicket] = deque(maxlen=50)
        self._actions: dict[int, int] = {}  # request id -> journal id, until undone
        # Held while one queued item is applied locally: a replay lists the journal only between
        # two, so it never sends (or rolls back) an action whose cache change is still to come.
        self._applying = asyncio.Lock()
        self._undoing: list[UndoTicket] = []  # taken off undo_tickets, not yet undone
        self._replayed_since_prune = PRUNE_EVERY  # the first replay prunes what earlier runs left
        self._prefix = ""  # the folders' namespace prefix as last seen (INBOX. on Courier), for words
        #: The last replay found another mailbag sending this account's journal (and sent nothing).
        self.held_elsewhere = False

    # --- the local side: runs even while offline ----------------------------------------------

    def submit(self, request: Request) -> None:
        """Queue a triage request; an undoable one gets its undo ticket now."""
        if not (isinstance(request, DeleteMessages) and request.permanent):
            self.undo_tickets.append(
                UndoTicket(self.worker.name, request.request_id, self._request_words(request).done)
            )
        self._local.put_nowait(("request", request))

    async def discard(self, folder: str, uids: Sequence[int]) -> None:
        """Remove messages for good, journalled like a permanent delete but neither announced nor
        undoable: an earlier version of a draft that a newer one replaces."""
        async with self._applying:
            await self._record(folder, uids, EXPUNGE, {HOUSEKEEPING: True})
        self.worker.poke()

    def submit_undo(self, ticket: UndoTicket) -> None:
        self._undoing.append(ticket)
        self._local.put_nowait(("undo", ticket))

    async def run_local(self) -> None:
        """Apply queued actions to the cache and the journal, one at a time, in order (first
        giving back the undo tickets of actions an earlier run left unsent)."""
        try:
            async with self._applying:
                await self._recover_tickets()
        except Exception:  # noqa: BLE001 - undo is lost for them, the actions are not
            log.exception("account %s: the earlier run's undo tickets could not be read", self.worker.name)
        while True:
            kind, item = await self._local.get()
            try:
                async with self._applying:
                    if kind == "undo":
                        await self._undo(item)
                    elif kind == "retry":
                        if await self.worker.db(self.local.retry_aside, self.worker.name):
                            self._maybe_pending = True
                    else:
                        await self._apply_request(item)
            except Exception as exc:  # noqa: BLE001 - one bad action must not stop the others
                log.exception("account %s: local action failed", self.worker.name)
                if kind == "request":
                    self._drop_ticket(item.request_id)
                    self.worker.emit(RequestFailed(item.request_id, str(exc)))
                self.worker.emit(ErrorReported(self.worker.name, str(exc)))
            self.worker.poke()

    async def _recover_tickets(self) -> None:
        """Actions an earlier run recorded but did not finish sending (mailbag was closed or
        killed first) are the user's latest: they get undo tickets again, older than any of this
        run, so that ``u`` takes them back once they are replayed, as it would have then."""
        worker = self.worker
        unsent = await worker.db(self.local.actions, worker.name, UNSENT)
        mine = [a for a in unsent if a.action != EXPUNGE and not a.args.get("inverse")]
        if not mine:
            return
        recovered = []
        for action in mine:
            request_id = -action.id  # request ids of this run are positive
            self._actions[request_id] = action.id
            seq = RECOVERED_SEQ + int(action.created * 1000)  # before this run's, in their order
            words = await self._words(action)
            recovered.append(UndoTicket(worker.name, request_id, words.done, seq))
        tickets = recovered + list(self.undo_tickets)
        self.undo_tickets.clear()
        self.undo_tickets.extend(tickets)  # the newest, up to the deque's length
        log.info("account %s: %d unsent actions of an earlier run can be undone", worker.name, len(mine))

    def _reword_ticket(self, request_id: int, words: str) -> None:
        """Give the request's undo ticket the words of what it did, now that they are known."""
        for i, ticket in enumerate(self.undo_tickets):
            if ticket.request_id == request_id:
                self.undo_tickets[i] = dataclasses.replace(ticket, description=words)

    def _request_words(self, request: Request) -> ActionWords:
        """What a triage request does, in words, before it is applied (its folder named with the
        prefix last seen)."""
        count = len(request.uids) if isinstance(request, TRIAGE) else 0
        if isinstance(request, SetFlags):
            return flag_words(count, sorted(request.add), sorted(request.remove))
        if isinstance(request, MoveMessages):
            role = request.target_role.value.capitalize() if request.target_role else "?"
            where = typed_name(request.target, self._prefix) if request.target else role
            return move_words(count, where, copy=request.copy)
        return delete_words(count)

    async def _names(self) -> tuple[str, str]:
        """The account's namespace prefix (``INBOX.`` on Courier, else "") and its Trash."""
        folders = await self.worker.db(self.store.folders, self.worker.name)
        self._prefix = known_prefix(self.worker.folder_prefix, folders)
        return self._prefix, next((f.name for f in folders if f.role == FolderRole.TRASH), "")

    async def _words(self, action: PendingAction) -> ActionWords:
        """What a journalled action does, in words, its folder named as the tree shows it now."""
        count = len(action.uids)
        if action.action == FLAGS:
            return flag_words(count, action.args.get("add", ()), action.args.get("remove", ()))
        if action.action == EXPUNGE:
            return delete_words(count, permanent=True)
        return await self._move_words(count, str(action.args.get("target", "?")), copy=action.action == COPY)

    async def _move_words(self, count: int, target: str, *, copy: bool) -> ActionWords:
        prefix, trash = await self._names()
        return move_words(count, typed_name(target, prefix), copy=copy, to_trash=target == trash)

    def _drop_ticket(self, request_id: int) -> None:
        for ticket in list(self.undo_tickets):
            if ticket.request_id == request_id:
                self.undo_tickets.remove(ticket)

    async def _apply_request(self, request: Request) -> None:
        worker = self.worker
        target = ""  # where messages go, to count them there
        if isinstance(request, SetFlags):
            # A keyword the folder does not keep ($Forwarded where PERMANENTFLAGS lacks \*) is
            # neither shown nor sent: the server would refuse or forget it.
            unkept = unkept_keywords(request.add | request.remove, worker.permanent_flags(request.folder))
            add, remove = request.add - unkept, request.remove - unkept
            if not add and not remove:
                log.info("account %s: %s keeps no %s; not set", worker.name, request.folder, ", ".join(sorted(unkept)))
                self._drop_ticket(request.request_id)
                worker.emit(RequestDone(request.request_id))
                return
            action_id, words = await self._record_flags(request.folder, request.uids, add, remove)
        elif isinstance(request, MoveMessages):
            target = request.target or await self._folder_with_role(request.target_role)
            if request.new_folder:
                await worker.make_folder(target)
            if target == request.folder:
                raise ValueError(f"the messages are already in {typed_name(target, (await self._names())[0])}")
            action_id, words = await self._record_move(
                request.folder, request.uids, target, copy=request.copy
            )
        elif isinstance(request, DeleteMessages):
            if request.permanent:
                action_id = await self._record(request.folder, request.uids, EXPUNGE, {})
                words = delete_words(len(request.uids), permanent=True)
            else:
                target = await self._folder_with_role(FolderRole.TRASH)
                if target == request.folder:
                    raise ValueError("already in Trash: delete permanently instead (D)")
                action_id, words = await self._record_move(request.folder, request.uids, target)
        else:
            raise TypeError(f"not a triage request: {request!r}")
        undoable = not (isinstance(request, DeleteMessages) and request.permanent)
        if undoable:
            self._reword_ticket(request.request_id, words.done)
            self._actions[request.request_id] = action_id
            if len(self._actions) > 4 * (self.undo_tickets.maxlen or 50):  # tickets long gone
                del self._actions[next(iter(self._actions))]
        worker.emit(RequestDone(request.request_id))
        if target:  # counted there once the request's overlay has ended, so never twice
            await self._count_target(target)
        worker.emit(ActionApplied(worker.name, words.pending, undoable=undoable))

    async def _folder_with_role(self, role: FolderRole, *, required: bool = True) -> str:
        """The account's folder with ``role`` (off the event loop); "" when there is none and
        it is not ``required``. A required one the account lacks (Courier and Cyrus make no Trash
        or Archive by themselves; nor does a POP3 account's Maildir) is made the first time it is
        needed, as the folder for the Sent copy is."""
        if required:
            from mailbag.services.failures import Offline  # failures imports this module

            try:
                found = await self.worker.folder_to_store_in(role)
            except Offline:
                found = ""
            if found:
                return found
            raise ValueError(f"{self.worker.name} has no {role.value or 'such'} folder yet: it is made once connected")
        folders = await self.worker.db(self.store.folders, self.worker.name)
        return next((folder.name for folder in folders if folder.role == role), "")

    async def _record_flags(
        self,
        folder: str,
        uids: Sequence[int],
        add: Iterable[str],
        remove: Iterable[str],
        *,
        uidvalidity: int | None = None,
        undoes: str = "",
    ) -> tuple[int, ActionWords]:
        add, remove = sorted(set(add)), sorted(set(remove))
        before = await self.worker.db(current_flags, self.store, self.worker.name, folder, uids)
        after = [(uid, (flags | set(add)) - set(remove)) for uid, flags in before.items()]
        # What undo may set again: never \Recent, nor a flag the server would not keep.
        permanent = self.worker.permanent_flags(folder)
        had = {str(u): sorted(settable_flags(f, permanent)) for u, f in before.items()}
        action_id = await self._record(
            folder, uids, FLAGS, {"add": add, "remove": remove, "before": had},
            uidvalidity=uidvalidity, undoes=undoes,
        )
        await self.worker.db(self.store.update_flags, self.worker.name, folder, after)
        await self._changed(folder, changed=len(after))
        return action_id, flag_words(len(uids), add, remove)

    async def _record_move(
        self,
        folder: str,
        uids: Sequence[int],
        target: str,
        *,
        copy: bool = False,
        uidvalidity: int | None = None,
        undoes: str = "",
    ) -> tuple[int, ActionWords]:
        ids = await self.worker.db(message_ids, self.store, self.worker.name, folder, uids)
        action_id = await self._record(
            folder,
            uids,
            COPY if copy else MOVE,
            {"target": target, "message_ids": ids},
            uidvalidity=uidvalidity,
            undoes=undoes,
        )
        if not copy:
            await self.worker.db(self.store.set_hidden, self.worker.name, folder, uids, True, target)
            await self._changed(folder, removed=len(uids))
        return action_id, await self._move_words(len(uids), target, copy=copy)

    async def _record(
        self,
        folder: str,
        uids: Sequence[int],
        action: str,
        args: dict[str, Any],
        *,
        uidvalidity: int | None = None,
        undoes: str = "",
    ) -> int:
        """Journal one action on ``uids`` of ``folder`` under ``uidvalidity`` (by default the
        one the cache holds those uids under); one that ``undoes`` an action (named in words)
        is an undo's, which gets no undo ticket of its own."""
        if uidvalidity is None:
            uidvalidity = await self._known_validity(folder, uids)
        args = dict(args, uidvalidity=uidvalidity)
        if undoes:  # an undo's action: it gets no undo ticket of its own
            args["inverse"] = True
            args["undoes"] = undoes
        action_id = await self.worker.db(
            self.local.add_action, self.worker.name, folder, list(uids), action, args
        )
        self._maybe_pending = True
        if action == EXPUNGE:
            await self.worker.db(self.store.set_hidden, self.worker.name, folder, uids, True)
            await self._changed(folder, removed=len(uids))
        return action_id

    async def _known_validity(self, folder: str, uids: Sequence[int]) -> int:
        """The UIDVALIDITY ``uids`` of ``folder`` belong to, as far as known (0: not yet): the
        cache's; for a folder in its first sync, the last SELECT's; for one not synced yet,
        that of the COPYUID of the move that brought them there."""
        worker = self.worker
        state = await worker.db(self.store.folder_state, worker.name, folder)
        if state is not None:
            return state.uidvalidity
        return worker.last_uidvalidity(folder) or await worker.db(
            copied_under, self.local, worker.name, folder, uids
        )

    async def _adopt_validity(self, action: PendingAction) -> PendingAction:
        """An action recorded before its folder's UIDVALIDITY was known takes the one known
        now, else the server's (the folder is first seen now), and keeps it: from then on a
        folder recreated meanwhile cancels it, as it does any other action."""
        worker = self.worker
        # The move that brought the uids first: the folder may have been recreated since.
        validity = await worker.db(copied_under, self.local, worker.name, action.folder, action.uids)
        validity = validity or await self._known_validity(action.folder, action.uids)
        if not validity:
            validity, _uidnext = await worker.server_position(action.folder)
        adopt = {"uidvalidity": validity}
        if validity and await worker.db(self.local.transition, action.id, (action.state,), action.state, adopt):
            log.info("account %s: action %d taken under UIDVALIDITY %d", worker.name, action.id, validity)
            return await _reread(self, action)
        return action

    async def _count_target(self, target: str) -> None:
        """Publish the counts of the folder messages were moved or copied to (the journal's
        moves still to be done count there); a folder the account does not have is left out."""
        folders = await self.worker.db(self.store.folders, self.worker.name)
        if any(f.name == target for f in folders):
            await self.worker.publish_counts(target)

    async def _changed(self, folder: str, *, changed: int = 0, removed: int = 0, added: int = 0) -> None:
        await self.worker.publish_counts(folder)
        self.worker.emit(
            MessagesChanged(self.worker.name, folder, added=added, changed=changed, removed=removed)
        )

    # --- undo ---------------------------------------------------------------------------------

    async def _undo(self, ticket: UndoTicket) -> None:
        """Take back the ticket's action: not sent yet (or set aside) -> cancel it and roll the
        cache back; done on the server -> journal the inverse action; being sent -> wait for
        the answer first, so an undo never races the replay."""
        worker = self.worker
        if ticket in self._undoing:
            self._undoing.remove(ticket)
        action_id = self._actions.pop(ticket.request_id, None)
        words = ticket.description
        while action_id is not None:
            if await worker.db(self.local.transition, action_id, (PENDING, ASIDE), CANCELLED):
                action = await worker.db(self.local.action, action_id)
                assert action is not None
                words = (await self._words(action)).done  # its folders as they are named now
                await self._roll_back(action)
                break
            action = await worker.db(self.local.action, action_id)
            if action is None or action.state in (FAILED, CANCELLED):
                action_id = None
                continue
            words = (await self._words(action)).done
            if action.state == DONE:
                await self._record_inverse(action, words)
                break
            elif self._in_flight == action_id:  # being sent right now: wait for its answer
                self._settled.clear()
                await self._settled.wait()
            else:  # sent before, answer never seen: the next replay settles it, then undoes it
                undo = {"undo": words}
                if await worker.db(self.local.transition, action_id, (IN_FLIGHT,), IN_FLIGHT, undo):
                    self._maybe_pending = True
                    worker.poke()
                    break
        if action_id is None:
            worker.emit(ActionApplied(worker.name, f"Nothing to undo: {ticket.description}", False))
            return
        worker.emit(ActionApplied(worker.name, f"Undone: {words}", undoable=False))

    async def _record_inverse(self, action: PendingAction, undoes: str) -> None:
        """Journal the action that takes ``action`` (done on the server) back, on the messages
        where they are now: later moves are followed (see :meth:`_where_now`). ``undoes`` is
        what the user undid, in words: the server's confirmation says it again."""
        validity = int(action.args.get("uidvalidity", 0))
        if action.action == FLAGS:
            before = recorded_before(action)
            now = await self._where_now(action.folder, validity, list(before), action.id)
            groups: dict[tuple[str, int, tuple[str, ...], tuple[str, ...]], list[int]]
            groups = defaultdict(list)
            permanent = self.worker.permanent_flags(action.folder)
            taken = settable_flags(action.args["add"], permanent)
            given = settable_flags(action.args["remove"], permanent)
            for uid, had in before.items():
                add = tuple(sorted(f for f in given if f in had))
                remove = tuple(sorted(f for f in taken if f not in had))
                if (add or remove) and uid in now:
                    folder, folder_validity, current = now[uid]
                    groups[(folder, folder_validity, add, remove)].append(current)
            for (folder, folder_validity, add, remove), uids in groups.items():
                await self._record_flags(
                    folder, uids, add, remove, uidvalidity=folder_validity, undoes=undoes
                )
            return
        mapping = {int(k): int(v) for k, v in action.args.get("result", {}).items()}
        if not mapping:
            raise ValueError("cannot undo: the server did not say where the messages went")
        target = action.args["target"]
        target_validity = int(action.args.get("target_uidvalidity", 0))
        now = await self._where_now(target, target_validity, list(mapping.values()), action.id)
        places: dict[tuple[str, int], list[int]] = defaultdict(list)
        for folder, folder_validity, uid in now.values():
            places[(folder, folder_validity)].append(uid)
        for (folder, folder_validity), uids in places.items():
            if action.action == MOVE and folder != action.folder:
                await self._record_move(
                    folder, sorted(uids), action.folder, uidvalidity=folder_validity, undoes=undoes
                )
                await self._count_target(action.folder)
            elif action.action == COPY:
                await self._record(
                    folder, sorted(uids), EXPUNGE, {}, uidvalidity=folder_validity, undoes=undoes
                )
        if action.action == EXPUNGE:
            raise ValueError("a permanent delete cannot be undone")

    async def _where_now(
        self, folder: str, uidvalidity: int, uids: Sequence[int], since_action: int
    ) -> dict[int, tuple[str, int, int]]:
        """uid -> (folder, uidvalidity, uid) of each message after the moves done on the server
        since the journal action ``since_action`` (an undone move brings a message back under a
        new uid). Messages moved away without a known new uid are left out."""
        where = {uid: (folder, uidvalidity, uid) for uid in uids}
        later = await self.worker.db(self.local.actions, self.worker.name, (DONE,), since_action)
        for move in later:
            if move.action != MOVE:
                continue
            result = {int(k): int(v) for k, v in move.args.get("result", {}).items()}
            source_validity = int(move.args.get("uidvalidity", 0))
            for uid, (place, validity, current) in list(where.items()):
                if place != move.folder or validity != source_validity or current not in move.uids:
                    continue
                if current in result:
                    new_validity = int(move.args.get("target_uidvalidity", 0))
                    where[uid] = (move.args["target"], new_validity, result[current])
                else:
                    del where[uid]
        return where

    def retry_set_aside(self) -> None:
        """Send the actions set aside once more (the user asked)."""
        self._local.put_nowait(("retry", None))

    # --- the server side: runs on the account's connection -------------------------------------

    async def has_pending(self) -> bool:
        return self._maybe_pending

    def idle(self) -> bool:
        """True unless an action is being sent right now."""
        return self._in_flight is None

    async def replay(self) -> None:
        """Send every pending action to the server, oldest first, holding the account's journal
        lock; when another mailbag holds it, send nothing and set :attr:`held_elsewhere`.

        A connection error leaves the action in flight (checked, then settled or sent again,
        after the reconnect); a refusal marks it failed and rolls the cache back.
        """
        async with self._applying:
            if self._replayed_since_prune >= PRUNE_EVERY:
                await self._prune()
            if not await self.worker.db(self.local.count_actions, self.worker.name, ACTIVE):
                self._maybe_pending = self.held_elsewhere = False
                return  # nothing to send (and no lock file made for it)
        # Taken on the loop (a file opened and flock'd without waiting): a lock taken in a
        # thread whose await was cancelled would stay held, unclosed, until the process ends.
        lock = try_lock(self.local.journal_lock_file(self.worker.name))
        self.held_elsewhere = lock is None
        if lock is None:
            # Another mailbag is sending the account's journal: an action in flight is being
            # sent by it (not left by a process that died). Nothing goes from here now; our
            # actions go at the next try, unless it sends them first.
            self._maybe_pending = True
            log.debug("account %s: another mailbag is sending the journal", self.worker.name)
            return
        self._maybe_pending = False
        try:
            async with self._applying:
                actions = await self.worker.db(self.local.actions, self.worker.name, ACTIVE)
            for action in actions:
                self._replayed_since_prune += 1
                await self._replay_one(action)
        finally:
            os.close(lock)  # and with it the lock

    async def _prune(self) -> None:
        """Drop the finished actions no undo ticket can reach any more (keeping the newest
        KEEP_FINISHED): the journal does not grow for ever. Runs between two local changes, so
        never under an undo that is reading its action."""
        tickets = [*self.undo_tickets, *self._undoing]
        reachable = [self._actions[t.request_id] for t in tickets if t.request_id in self._actions]
        below = min(reachable) if reachable else None
        pruned = await self.worker.db(self.local.prune_actions, self.worker.name, KEEP_FINISHED, below)
        self._replayed_since_prune = 0
        if pruned:
            log.info("account %s: %d finished journal actions pruned", self.worker.name, pruned)

    async def _replay_one(self, action: PendingAction) -> None:
        worker = self.worker
        if action.attempts >= MAX_ATTEMPTS:
            await self._set_aside(action)
            return
        resumed = action.state == IN_FLIGHT
        changes: dict[str, Any] = {}
        claimed = False
        try:
            if not action.args.get("uidvalidity"):
                action = await self._adopt_validity(action)
            if action.action in (MOVE, COPY) and not resumed:
                # Where the target stood before: a check after a lost answer looks only at
                # messages that arrived since (see _resume).
                changes["since"] = list(await worker.server_position(action.args["target"]))
                changes["fingerprints"] = await self._fingerprints(action)
            self._in_flight = action.id
            claim = partial(self.local.transition, attempt=True)
            claimed = await worker.db(claim, action.id, ACTIVE, IN_FLIGHT, changes)
            if not claimed:
                return  # undone meanwhile
            action = await _reread(self, action)  # what an undo may have added meanwhile
            if resumed:
                outcome = await self._resume(action)
            else:
                outcome = await self._send(action)
            await self._settle(action, outcome)  # before an undo waiting for it may look
        except ServerRefused as exc:
            final = CANCELLED if isinstance(exc, UidValidityChanged) else FAILED
            words = await self._words(action)
            reason = str(exc)
            if isinstance(exc, UidValidityChanged):
                reason = exc.worded(typed_name(exc.folder, (await self._names())[0]))
            log.info("account %s: %s: refused: %s", worker.name, words.failed, exc)
            fail = partial(self.local.transition, error=str(exc))
            await worker.db(fail, action.id, ACTIVE, final, None)
            await self._roll_back(action)
            worker.emit(ActionRolledBack(worker.name, words.failed, reason))
            return
        except BaseException as exc:
            self._maybe_pending = True  # still in the journal: checked and replayed later
            if isinstance(exc, Exception):
                text = worker.describe(exc)
                await worker.db(self.local.record_failure, action.id, text, not claimed)
            raise
        finally:
            self._in_flight = None
            self._settled.set()
        undoes = str(action.args.get("undoes", ""))
        done = (await self._words(action)).done
        if not action.args.get(HOUSEKEEPING):  # the user asked for none of it: nothing to tell
            worker.emit(ActionApplied(worker.name, done, on_server=True, undoes=undoes))
        settled = await _reread(self, action)
        undone = settled.args.get("undo")
        if undone:  # undone while its answer was unknown: take it back now
            try:
                await self._record_inverse(settled, undone if isinstance(undone, str) else done)
            except ValueError as exc:
                worker.emit(ErrorReported(worker.name, f"{done}: {exc}"))

    async def _set_aside(self, action: PendingAction) -> None:
        if await self.worker.db(self.local.transition, action.id, ACTIVE, ASIDE):
            reason = action.last_error or "no answer"
            words = await self._words(action)
            self.worker.emit(
                ErrorReported(
                    self.worker.name,
                    f"{words.failed} (tried {plural(action.attempts, 'time')}: {reason}); set aside:"
                    " it stays as it is here until you retry or undo it",
                    retry=True,
                )
            )

    async def _send(self, action: PendingAction) -> MoveOutcome:
        worker, uids = self.worker, list(action.uids)
        validity = int(action.args.get("uidvalidity", 0))
        if action.action == FLAGS:
            add, remove = set(action.args["add"]), set(action.args["remove"])
            await worker.server_set_flags(action.folder, validity, uids, add, remove)
            return MoveOutcome()
        if action.action in (MOVE, COPY):
            outcome = await worker.server_move(
                action.folder, validity, uids, action.args["target"], copy=action.action == COPY
            )
            if not outcome.mapping and "since" in action.args:
                outcome = await self._copies_found(action, uids)  # no COPYUID (no UIDPLUS)
            return outcome
        if action.action == EXPUNGE:
            await worker.server_expunge(action.folder, validity, uids)
            return MoveOutcome()
        raise ValueError(f"unknown journal action {action.action!r}")

    async def _resume(self, action: PendingAction) -> MoveOutcome:
        """Finish an action that was sent before but whose answer never came. Flags and expunges
        can simply be sent again; a move or copy is checked first, so nothing is copied twice."""
        if action.action not in (MOVE, COPY):
            return await self._send(action)
        worker, validity = self.worker, int(action.args.get("uidvalidity", 0))
        target = action.args["target"]
        present = await worker.server_present(action.folder, validity, list(action.uids))
        found = await self._copies_found(action, action.uids)
        mapping, target_validity = dict(found.mapping), found.uidvalidity
        if action.action == MOVE:
            done_here = [u for u in action.uids if u in mapping and u in present]
            if done_here:  # copied, not yet removed (a move without MOVE, cut half-way)
                await worker.server_expunge(action.folder, validity, done_here)
        rest = [u for u in action.uids if u in present and u not in mapping]
        if rest:
            outcome = await worker.server_move(
                action.folder, validity, rest, target, copy=action.action == COPY
            )
            mapping.update(outcome.mapping)
            target_validity = outcome.uidvalidity or target_validity
        log.info("account %s: resumed %s: %d already done", worker.name, action.action, len(found.mapping))
        return MoveOutcome(target_validity, mapping)

    async def _fingerprints(self, action: PendingAction) -> dict[str, str]:
        """uid (as text) -> fingerprint of the messages of a move or copy that have no
        Message-ID, taken before it is sent (so a replay can still find their copies)."""
        with_id = action.args.get("message_ids", {})
        bare = [u for u in action.uids if not with_id.get(str(u))]
        if not bare:
            return {}
        validity = int(action.args.get("uidvalidity", 0))
        prints = await self.worker.server_fingerprints(action.folder, validity, bare)
        return {str(u): mark for u, mark in prints.items()}

    async def _copies_found(self, action: PendingAction, uids: Sequence[int]) -> MoveOutcome:
        """Where the copies of ``uids`` are in the target, found by Message-ID, else by
        fingerprint, among the messages that arrived there since the action was sent (its answer
        was lost, or had no COPYUID)."""
        wanted = {int(u): m for u, m in action.args.get("message_ids", {}).items() if m}
        prints = {int(u): m for u, m in action.args.get("fingerprints", {}).items() if m}
        target_validity, since = (int(x) for x in action.args.get("since", (0, 0)))
        target = action.args["target"]
        if target_validity and since <= 1:
            # The target had given out no UID yet, so no UID of it could name another message:
            # a server may give it another UIDVALIDITY with its first message (GNU Mailutils'
            # imap4d does, for an empty mbox). Its UIDs are read under the one it has now.
            target_validity = (await self.worker.server_position(target))[0] or target_validity
        found = await self.worker.server_find(target, target_validity, since, set(wanted.values()))
        if prints:
            found.update(
                await self.worker.server_find_fingerprints(target, target_validity, since, set(prints.values()))
            )
        mapping: dict[int, int] = {}
        for uid in uids:
            copies = found.get(wanted.get(uid) or prints.get(uid, ""), [])
            if copies:
                mapping[uid] = copies.pop(0)
        return MoveOutcome(target_validity, mapping)

    async def _settle(self, action: PendingAction, outcome: MoveOutcome) -> None:
        """The server did it: make the cache final and remember where moved messages went."""
        worker = self.worker
        result = outcome.mapping
        answer = {
            "result": {str(k): v for k, v in result.items()},
            "target_uidvalidity": outcome.uidvalidity,
        }
        await worker.db(self.local.transition, action.id, (IN_FLIGHT,), DONE, answer)
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
            # Only the action's own flags go back; the rest stays as the cache has it now.
            before = recorded_before(action)
            added, removed = set(action.args.get("add", ())), set(action.args.get("remove", ()))
            now = await worker.db(current_flags, self.store, worker.name, action.folder, list(before))
            restored = [
                (uid, frozenset((flags - (added - before[uid])) | (removed & before[uid])))
                for uid, flags in now.items()
            ]
            await worker.db(self.store.update_flags, worker.name, action.folder, restored)
            await self._changed(action.folder, changed=len(restored))
        elif action.action in (MOVE, EXPUNGE):
            target = action.args.get("target", "") if action.action == MOVE else ""
            await worker.db(self.store.set_hidden, worker.name, action.folder, action.uids, False, target)
            await self._changed(action.folder, added=len(action.uids))
        if action.action in (MOVE, COPY):  # no longer on its way to its target
            await self._count_target(action.args.get("target", ""))


async def _reread(journal: ActionJournal, action: PendingAction) -> PendingAction:
    current = await journal.worker.db(journal.local.action, action.id)
    return current if current is not None else action


def current_flags(store: Store, account: str, folder: str, uids: Sequence[int]) -> dict[int, frozenset[str]]:
    """The cached flags of ``uids`` (unknown uids are left out)."""
    result = {}
    for uid in uids:
        summary = store.summary(account, folder, uid)
        if summary is not None:
            result[uid] = summary.flags
    return result


def copied_under(local: LocalStore, account: str, folder: str, uids: Sequence[int]) -> int:
    """The target UIDVALIDITY of the latest move or copy done into ``folder`` that gave one of
    ``uids`` (0: none the journal still holds)."""
    wanted = set(uids)
    for action in reversed(local.actions(account, (DONE,))):
        if action.action not in (MOVE, COPY) or action.args.get("target") != folder:
            continue
        if wanted.intersection(int(uid) for uid in action.args.get("result", {}).values()):
            return int(action.args.get("target_uidvalidity", 0))
    return 0


def recorded_before(action: PendingAction) -> dict[int, frozenset[str]]:
    """uid -> the settable flags a flag action recorded its messages had before it."""
    return {int(u): settable_flags(f) for u, f in action.args.get("before", {}).items()}


def message_ids(store: Store, account: str, folder: str, uids: Sequence[int]) -> dict[str, str]:
    """uid (as text) -> Message-ID of the cached ``uids`` (how a replay finds a copy it made)."""
    result = {}
    for uid in uids:
        summary = store.summary(account, folder, uid)
        if summary is not None and summary.message_id:
            result[str(uid)] = summary.message_id
    return result
