"""An in-memory MailFacade for UI tests: folders, rows and bodies in dicts, requests recorded."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.utils import format_datetime
from functools import partial

from mailbag import paths
from mailbag.domain.action_words import delete_words, flag_words, move_words
from mailbag.domain.compose import Identity
from mailbag.domain.deadline import Deadline
from mailbag.domain.folder_names import inbox_prefix
from mailbag.domain.events import (
    ActionApplied,
    ActionRolledBack,
    Event,
    EventSink,
    FoldersChanged,
    RequestDone,
    RequestFailed,
)
from mailbag.domain.models import (
    FLAGGED,
    SEEN,
    Address,
    Attachment,
    Folder,
    FolderRole,
    MessageRow,
    OutgoingMessage,
    RenderedMessage,
)
from mailbag.domain.requests import (
    CreateFolder,
    DeleteFolder,
    DeleteMessages,
    FolderRequest,
    MoveMessages,
    RenameFolder,
    Request,
    SetFlags,
    SubscribeFolder,
)
from mailbag.domain.search import parse_query
from mailbag.domain.threading import ThreadRecord, build_threads, flatten
from mailbag.services.api import ListOrder, SearchOutcome, ThreadedIndex, VirtualFolder
from mailbag.services.overlay import PendingOverlay
from mailbag.store.drafts import DraftFiles

#: The frozen "now" of every UI test.
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=timezone.utc)

_SORT_KEYS = {
    "date": lambda row: (row.date or NOW, row.row_id),
    "sender": lambda row: ((row.sender or row.sender_email).lower(), row.row_id),
    "subject": lambda row: (row.subject.lower(), row.row_id),
    "size": lambda row: (row.size, row.row_id),
}


def _contains(word: str, text: Callable[[MessageRow], str]) -> Callable[[MessageRow], bool]:
    """Whether a row's ``text`` holds ``word`` (in lower case)."""
    return lambda row: word in text(row).lower()


def _has_flag(flag: str, wanted: bool) -> Callable[[MessageRow], bool]:
    """Whether a row has ``flag`` set (``wanted``) or not."""
    return lambda row: (flag in row.flags) == wanted


def _as_message(rendered: RenderedMessage, uid: int) -> bytes:
    """A message with what the reader shows of it (for replies and forwards)."""
    message = EmailMessage()
    message["From"] = ", ".join(str(HeaderAddress(a.name, addr_spec=a.email)) for a in rendered.from_)
    message["To"] = ", ".join(str(HeaderAddress(a.name, addr_spec=a.email)) for a in rendered.to)
    message["Subject"] = rendered.subject
    if rendered.date is not None:
        message["Date"] = format_datetime(rendered.date)
    message["Message-ID"] = f"<{uid}@example.org>"
    message.set_content(rendered.body)
    return message.as_bytes()


class FakeFacade:
    """Implements mailbag.services.api.MailFacade over plain data."""

    def __init__(self, sink: EventSink, accounts: Sequence[str] = ("work",)) -> None:
        self.sink = sink
        self._accounts = list(accounts)
        self._folders: dict[str, list[Folder]] = {a: [] for a in accounts}
        self._index: dict[tuple[str, str], Sequence[int]] = {}
        self._rows: dict[int, MessageRow] = {}
        self._bodies: dict[tuple[str, str, int], RenderedMessage] = {}
        self._generated: dict[tuple[str, str], range] = {}
        self._parents: dict[int, int] = {}
        self._virtual: list[VirtualFolder] = []
        self.outbox: list[OutgoingMessage] = []  # what outbox_messages() answers
        self.submitted: list[Request] = []
        self.undo_stack: list[str] = []
        self.undo_calls = 0
        self.search_calls: list[tuple[str, str | None, str | None]] = []
        self.started = False
        self.stopped = False
        self.rows_calls = 0
        self.ready = False  # ready_index answers at once
        self.ready_calls: list[tuple[str, str, ListOrder]] = []
        self.overlay = PendingOverlay()
        self.drafts_dir = paths.data_dir() / "drafts"  # the test's own XDG data dir
        self._drafts: DraftFiles | None = None
        self.raw: dict[tuple[str, str, int], bytes] = {}  # messages given whole (else made up)
        self.local_accounts: set[str] = set()  # accounts whose folders are local (makes_folders)
        self.pop3_accounts: set[str] = set()  # accounts that fetch from a POP3 server (fetches_mail)
        self.aside: dict[str, int] = {}  # actions set aside per account (set_aside)
        self.answer_folders = True  # folder requests are done at once, as a server that agrees

    # --- MailFacade ----------------------------------------------------------------------------

    @property
    def accounts(self) -> list[str]:
        return list(self._accounts)

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    def submit(self, request: Request) -> int:
        self.submitted.append(request)
        self.overlay.record(request)  # as the service: hidden / flagged at once, until answered
        if isinstance(request, FolderRequest) and self.answer_folders:
            self.manage_folder(request)
        return request.request_id

    def folders(self, account: str) -> list[Folder]:
        """The folders as added, their counts changed by the triage pending (as the services)."""
        return self.overlay.folders(
            account,
            lambda places: (
                list(self._folders.get(account, [])),
                {folder: self._rows_of(account, folder, uids) for folder, uids in places.items()},
            ),
        )

    def message_index(self, account: str, folder: str, order: ListOrder = ListOrder()) -> Sequence[int]:
        return self.overlay.index(
            account, folder, self._listed(account, folder, order), partial(self._row_ids, account, folder)
        )

    def _row_ids(self, account: str, folder: str, uids: Iterable[int]) -> list[int]:
        """Row ids of the folder's messages with these uids."""
        generated = self._generated.get((account, folder))
        if generated is not None:  # uid n is the n-th generated row
            return [generated.start + uid - 1 for uid in uids if 0 < uid <= len(generated)]
        wanted = set(uids)
        ids = self._index.get((account, folder), ())
        return [i for i in ids if i in self._rows and self._rows[i].uid in wanted]

    def _rows_of(self, account: str, folder: str, uids: frozenset[int]) -> list[MessageRow]:
        """The folder's rows with these uids, as the data holds them (the services' cache)."""
        return self._stored_rows(self._row_ids(account, folder, uids))

    def _stored_rows(self, row_ids: Iterable[int]) -> list[MessageRow]:
        result = []
        for row_id in row_ids:
            row = self._rows.get(row_id) or self._generated_row(row_id)
            if row is not None:
                result.append(row)
        return result

    def _listed(self, account: str, folder: str, order: ListOrder) -> Sequence[int]:
        ids = self._index.get((account, folder), ())
        if (account, folder) in self._generated:  # generated ids are newest first by date
            return array("q", reversed(ids)) if order.reverse else ids
        return self._sorted(ids, order)

    def ready_index(
        self, account: str, folder: str, order: ListOrder = ListOrder()
    ) -> Sequence[int] | None:
        """Ready at once only when a test says so (``ready``), like a list read ahead."""
        self.ready_calls.append((account, folder, order))
        # FakeFacade's own read: a subclass's slow message_index stands for the cache read that
        # a list read ahead saves.
        return FakeFacade._listed(self, account, folder, order) if self.ready else None

    def _sorted(self, ids: Sequence[int], order: ListOrder) -> list[int]:
        """The cache's orders: newest / largest first by default, ties by uid, all flipped by
        ``reverse``; sender and subject A to Z (Z to A reversed), ties newest first either way."""
        rows = [self._rows[i] for i in ids if i in self._rows]
        if order.key in ("sender", "subject"):
            rows.sort(key=lambda row: row.date or NOW, reverse=True)
            rows.sort(key=lambda row: _SORT_KEYS[order.key](row)[0], reverse=order.reverse)  # stable
        else:
            rows.sort(key=_SORT_KEYS[order.key], reverse=not order.reverse)
        return [row.row_id for row in rows]

    def thread_index(self, account: str, folder: str, order: ListOrder = ListOrder()) -> ThreadedIndex:
        if (account, folder) in self._generated:
            return self._generated_threads(self.message_index(account, folder))
        # The services' own threading, over records made of the rows and their set parents.
        records = []
        gone = set(self._row_ids(account, folder, self.overlay.hidden_uids(account, folder)))
        for row_id in self._index.get((account, folder), ()):
            row = self._rows.get(row_id)
            if row is None or row_id in gone:
                continue
            parent = self._parents.get(row_id)
            records.append(ThreadRecord(
                row_id=row_id, message_id=f"<{row_id}@fake>", in_reply_to=f"<{parent}@fake>" if parent else "",
                subject=row.subject, date=row.date.timestamp() if row.date else None,
            ))
        rows = flatten(build_threads(records), newest_first=not order.reverse)
        return ThreadedIndex(row_ids=[r.row_id for r in rows], depths=[r.depth for r in rows])

    @staticmethod
    def _generated_threads(ids: Sequence[int]) -> ThreadedIndex:
        """Generated folders: every four messages form a thread (depths 0, 1, 2, 1)."""
        depths = array("l", [0, 1, 2, 1]) * (len(ids) // 4) + array("l", [0, 1, 2][: len(ids) % 4])
        return ThreadedIndex(row_ids=ids, depths=depths)

    def virtual_folders(self) -> list[VirtualFolder]:
        return list(self._virtual)

    def virtual_index(self, name: str, order: ListOrder = ListOrder()) -> Sequence[int]:
        folder = next(v for v in self._virtual if v.name == name)
        if folder.kind == "inboxes":
            ids = [i for account in self._accounts for i in self.message_index(account, "INBOX")]
        else:
            ids = list(self.local_search(folder.query).row_ids)
        return self._sorted(ids, order)

    def local_search(self, query: str, *, account: str | None = None, folder: str | None = None) -> SearchOutcome:
        """A small subset of the query syntax: words, from:, subject:, is:unread, is:flagged."""
        self.search_calls.append((query, account, folder))
        parsed = parse_query(query)  # what the services refuse, the fake refuses alike
        if parsed.error:
            return SearchOutcome(error=parsed.error)
        tests: list[Callable[[MessageRow], bool]] = []
        for term in query.split():
            field, _, value = term.partition(":") if ":" in term else ("", "", term)
            value = value.lower()
            if field == "from":
                tests.append(_contains(value, lambda r: r.sender + " " + r.sender_email))
            elif field == "subject":
                tests.append(_contains(value, lambda r: r.subject))
            elif field == "is" and value in ("unread", "flagged"):
                flag, wanted = (SEEN, False) if value == "unread" else (FLAGGED, True)
                tests.append(_has_flag(flag, wanted))
            elif field:
                return SearchOutcome(error=f"unknown search term {field}:")
            else:
                tests.append(_contains(value, lambda r: r.subject + " " + r.sender))
        ids = [
            i for (acc, fol), index in self._index.items() for i in index
            if i in self._rows and (account is None or acc == account) and (folder is None or fol == folder)
        ]
        # As the services: the rows as they are once the pending triage is done.
        rows = self.overlay.rows([self._rows[i] for i in ids])
        found = [row.row_id for row in rows if all(test(row) for test in tests)]
        return SearchOutcome(row_ids=tuple(self._sorted(found, ListOrder())))

    def undo(self) -> str | None:
        self.undo_calls += 1
        self.overlay = PendingOverlay()  # as the service: undo comes after what was submitted
        return self.undo_stack.pop() if self.undo_stack else None

    def outbox_messages(self) -> list[OutgoingMessage]:
        return list(self.outbox)

    def outgoing(self, outbox_id: int) -> tuple[bytes, tuple[str, ...]] | None:
        return None

    def rows(self, row_ids: Sequence[int]) -> list[MessageRow]:
        self.rows_calls += 1
        return self.overlay.rows(self._stored_rows(row_ids))

    def rendered(self, account: str, folder: str, uid: int, deadline: Deadline | None = None) -> RenderedMessage | None:
        return self._bodies.get((account, folder, uid))

    def raw_message(self, account: str, folder: str, uid: int) -> bytes | None:
        key = (account, folder, uid)
        if key in self.raw:
            return self.raw[key]
        rendered = self._bodies.get(key)
        return None if rendered is None else _as_message(rendered, uid)

    def folder_prefix(self, account: str) -> str:
        return inbox_prefix(self.folders(account))

    def makes_folders(self, account: str) -> bool:
        return account in self.local_accounts

    def fetches_mail(self, account: str) -> bool:
        return account in self.pop3_accounts

    def set_aside(self, account: str) -> int:
        return self.aside.get(account, 0)

    def message_with_id(self, account: str, message_id: str) -> tuple[str, int] | None:
        return None

    def identity(self, account: str) -> Identity:
        address = "me@example.org" if account == "work" else f"me@{account}.example.org"
        return Identity(account, address, "Me Example", "Me")

    def known_addresses(self) -> list[Address]:
        seen: dict[str, Address] = {}
        for row in self._rows.values():
            seen.setdefault(row.sender_email.lower(), Address(row.sender, row.sender_email))
        return list(seen.values())

    @property
    def drafts(self) -> DraftFiles:
        if self._drafts is None:
            self._drafts = DraftFiles(self.drafts_dir)
        return self._drafts

    # --- test helpers --------------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        """Report an event as the services would."""
        self.overlay.settle(event)
        self.sink(event)

    def refuse(self, request: SetFlags | MoveMessages | DeleteMessages, reason: str) -> None:
        """Answer a triage request as the services do when the server refuses it: the request
        is done (it was journalled), then the action is rolled back with the server's reason."""
        count = len(request.uids)
        if isinstance(request, MoveMessages):
            target = request.target or (request.target_role.value if request.target_role else "?")
            description = move_words(count, target, copy=request.copy).failed
        elif isinstance(request, DeleteMessages):
            description = delete_words(count).failed
        else:
            description = flag_words(count, sorted(request.add), sorted(request.remove)).failed
        self.emit(RequestDone(request.request_id))
        self.emit(ActionRolledBack(request.account, description, reason))

    def manage_folder(self, request: FolderRequest) -> None:
        """Do a folder request as the services do on a server that agrees (the Inbox is never
        deleted); a folder's rows go with it."""
        account = request.account
        folders = self._folders.setdefault(account, [])
        names = [f.name for f in folders]

        def fail(reason: str) -> None:
            self.emit(RequestFailed(request.request_id, reason))

        if isinstance(request, CreateFolder):
            if request.name in names:
                return fail(f"a folder {request.name} exists already")
            folders.append(Folder(account, request.name, "/"))
            done = f"Folder {request.name} created"
        elif isinstance(request, RenameFolder):
            if request.folder not in names:
                return fail(f"{account} has no folder {request.folder}")
            old, new = request.folder, request.new_name

            def renamed(name: str) -> str:
                return new + name[len(old):] if name == old or name.startswith(old + "/") else name

            self._folders[account] = [replace(f, name=renamed(f.name)) for f in folders]
            for (acc, name), ids in list(self._index.items()):
                if acc == account and renamed(name) != name:
                    self._index[(acc, renamed(name))] = self._index.pop((acc, name))
                    for i in ids:
                        if i in self._rows:
                            self._rows[i] = replace(self._rows[i], folder=renamed(name))
            done = f"Folder {old} renamed to {new}"
        elif isinstance(request, DeleteFolder):
            if request.folder.upper() == "INBOX":
                return fail("the Inbox cannot be deleted")
            if request.folder not in names:
                return fail(f"{account} has no folder {request.folder}")
            self._folders[account] = [f for f in folders if f.name != request.folder]
            self._index.pop((account, request.folder), None)
            done = f"Folder {request.folder} deleted"
        else:
            assert isinstance(request, SubscribeFolder)
            done = f"{'Subscribed to' if request.subscribe else 'Unsubscribed from'} {request.folder}"
        self.emit(FoldersChanged(account, tuple(self._folders[account])))
        self.emit(ActionApplied(account, done, undoable=False, on_server=True))
        self.emit(RequestDone(request.request_id))
        return None

    def add_virtual_folder(self, folder: VirtualFolder) -> None:
        self._virtual.append(folder)

    def set_parent(self, row_id: int, parent_id: int) -> None:
        """Make ``row_id`` a reply to ``parent_id`` (for thread_index)."""
        self._parents[row_id] = parent_id

    def apply(self, request: Request) -> None:
        """Do to the data what the services would do for a triage request."""
        if isinstance(request, SetFlags):
            for row_id in self._index.get((request.account, request.folder), ()):
                row = self._rows.get(row_id)
                if row is not None and row.uid in request.uids:
                    self.set_flags(row_id, (row.flags | request.add) - request.remove)
        elif isinstance(request, (MoveMessages, DeleteMessages)):
            if isinstance(request, MoveMessages) and request.copy:
                return
            key = (request.account, request.folder)
            self._index[key] = [i for i in self._index[key] if self._rows[i].uid not in request.uids]

    def add_folder(self, folder: Folder) -> None:
        self._folders.setdefault(folder.account, []).append(folder)

    def add_message(
        self,
        account: str,
        folder: str,
        *,
        row_id: int,
        subject: str,
        sender: str = "Ann Example",
        sender_email: str = "ann@example.org",
        date: datetime | None = None,
        flags: frozenset[str] = frozenset({SEEN}),
        has_attachment: bool = False,
        body: str | None = None,
        size: int = 1000,
        recipients: tuple[Address, ...] = (),
    ) -> MessageRow:
        """Add a row (appended: add newest first) and, when ``body`` is given, its cached body."""
        row = MessageRow(
            row_id=row_id, account=account, folder=folder, uid=row_id, flags=frozenset(flags),
            date=date or NOW, size=size, subject=subject, sender=sender, sender_email=sender_email,
            has_attachment=has_attachment, has_body=body is not None, recipients=recipients,
        )
        self._rows[row_id] = row
        self._index[(account, folder)] = list(self._index.get((account, folder), [])) + [row_id]
        if body is not None:
            self.set_body(row, body)
        return row

    def set_body(
        self,
        row: MessageRow,
        body: str,
        attachments: list[Attachment] | None = None,
        *,
        to: tuple[Address, ...] = (Address("Me Example", "me@example.org"),),
        cc: tuple[Address, ...] = (),
    ) -> None:
        self._bodies[(row.account, row.folder, row.uid)] = RenderedMessage(
            subject=row.subject,
            from_=(Address(row.sender, row.sender_email),),
            to=to,
            cc=cc,
            date=row.date,
            body=body,
            attachments=attachments or [],
        )

    def set_flags(self, row_id: int, flags: frozenset[str]) -> None:
        self._rows[row_id] = replace(self._rows[row_id], flags=flags)

    def remove_message(self, account: str, folder: str, row_id: int) -> None:
        self._index[(account, folder)] = [i for i in self._index[(account, folder)] if i != row_id]

    def add_big_folder(self, account: str, folder: str, count: int, first_id: int = 1_000_000) -> None:
        """A folder of ``count`` generated rows; only an id vector is stored."""
        ids = range(first_id, first_id + count)
        self._generated[(account, folder)] = ids
        self._index[(account, folder)] = array("q", reversed(ids))
        self.add_folder(Folder(account, folder, "/", FolderRole.NONE, total=count, unread=0))

    def _generated_row(self, row_id: int) -> MessageRow | None:
        for (account, folder), ids in self._generated.items():
            if row_id in ids:
                n = row_id - ids.start
                return MessageRow(
                    row_id=row_id, account=account, folder=folder, uid=n + 1, flags=frozenset({SEEN}),
                    date=NOW - timedelta(minutes=len(ids) - n), size=500, subject=f"Message {n + 1}",
                    sender=f"Sender {n % 97}", sender_email=f"s{n % 97}@example.org", has_attachment=False,
                )
        return None


def big_folder_facade(folder: str, count: int = 100_000) -> Callable[[EventSink], FakeFacade]:
    """A facade factory: account "work" with one generated folder of ``count`` rows."""

    def build(sink: EventSink) -> FakeFacade:
        facade = FakeFacade(sink)
        facade.add_big_folder("work", folder, count)
        return facade

    return build
