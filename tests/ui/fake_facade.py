"""An in-memory MailFacade for UI tests: folders, rows and bodies in dicts, requests recorded."""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from app.domain.events import Event, EventSink
from app.domain.models import SEEN, Address, Attachment, Folder, FolderRole, MessageRow, RenderedMessage
from app.domain.requests import Request

#: The frozen "now" of every UI test.
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=timezone.utc)


class FakeFacade:
    """Implements app.services.api.MailFacade over plain data."""

    def __init__(self, sink: EventSink, accounts: Sequence[str] = ("work",)) -> None:
        self.sink = sink
        self._accounts = list(accounts)
        self._folders: dict[str, list[Folder]] = {a: [] for a in accounts}
        self._index: dict[tuple[str, str], Sequence[int]] = {}
        self._rows: dict[int, MessageRow] = {}
        self._bodies: dict[tuple[str, str, int], RenderedMessage] = {}
        self._generated: dict[tuple[str, str], range] = {}
        self.submitted: list[Request] = []
        self.started = False
        self.stopped = False
        self.rows_calls = 0

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
        return request.request_id

    def folders(self, account: str) -> list[Folder]:
        return list(self._folders.get(account, []))

    def message_index(self, account: str, folder: str) -> Sequence[int]:
        return self._index.get((account, folder), ())

    def rows(self, row_ids: Sequence[int]) -> list[MessageRow]:
        self.rows_calls += 1
        result = []
        for row_id in row_ids:
            row = self._rows.get(row_id) or self._generated_row(row_id)
            if row is not None:
                result.append(row)
        return result

    def rendered(self, account: str, folder: str, uid: int) -> RenderedMessage | None:
        return self._bodies.get((account, folder, uid))

    # --- test helpers --------------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        """Report an event as the services would."""
        self.sink(event)

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
    ) -> MessageRow:
        """Add a row (appended: add newest first) and, when ``body`` is given, its cached body."""
        row = MessageRow(
            row_id=row_id, account=account, folder=folder, uid=row_id, flags=frozenset(flags),
            date=date or NOW, size=1000, subject=subject, sender=sender, sender_email=sender_email,
            has_attachment=has_attachment, has_body=body is not None,
        )
        self._rows[row_id] = row
        self._index[(account, folder)] = list(self._index.get((account, folder), [])) + [row_id]
        if body is not None:
            self.set_body(row, body)
        return row

    def set_body(self, row: MessageRow, body: str, attachments: list[Attachment] | None = None) -> None:
        self._bodies[(row.account, row.folder, row.uid)] = RenderedMessage(
            subject=row.subject,
            from_=(Address(row.sender, row.sender_email),),
            to=(Address("Me Example", "me@example.org"),),
            cc=(),
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
