"""Domain models shared by every layer. Pure Python, standard library only."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from mailbag.domain.sanitize import clean_line, visible_format_characters


class FolderRole(StrEnum):
    """What a folder is for, from SPECIAL-USE (RFC 6154) or well-known names."""

    INBOX = "inbox"
    DRAFTS = "drafts"
    SENT = "sent"
    TRASH = "trash"
    JUNK = "junk"
    ARCHIVE = "archive"
    NONE = ""


#: Display order of roles in the folder tree: Inbox first, special-use folders next.
ROLE_ORDER: dict[FolderRole, int] = {
    FolderRole.INBOX: 0,
    FolderRole.DRAFTS: 1,
    FolderRole.SENT: 2,
    FolderRole.ARCHIVE: 3,
    FolderRole.JUNK: 4,
    FolderRole.TRASH: 5,
    FolderRole.NONE: 6,
}


class ConnectionState(StrEnum):
    """Connection state of one account, as shown in the status bar."""

    OFFLINE = "offline"
    CONNECTING = "connecting"
    ONLINE = "online"
    SYNCING = "syncing"
    ERROR = "error"


# Standard IMAP system flags.
SEEN = "\\Seen"
FLAGGED = "\\Flagged"
ANSWERED = "\\Answered"
DELETED = "\\Deleted"
DRAFT = "\\Draft"
#: The keyword a forwarded message gets (where the folder takes keywords).
FORWARDED = "$Forwarded"
#: Set by the server for a session, never by a client (RFC 3501 2.3.2).
RECENT = "\\Recent"


def settable_flags(flags: Iterable[str], permanent: frozenset[str] | None = None) -> frozenset[str]:
    """The part of ``flags`` a client may set and expect kept: never ``\\Recent``, and only what
    the folder's PERMANENTFLAGS lists when the server gave them without ``\\*``."""
    result = {f for f in flags if f.lower() != RECENT.lower()}
    if permanent is not None and "\\*" not in permanent:
        allowed = {f.lower() for f in permanent}
        result = {f for f in result if f.lower() in allowed}
    return frozenset(result)


def unkept_keywords(flags: Iterable[str], permanent: frozenset[str] | None) -> frozenset[str]:
    """The keywords among ``flags`` (``$Forwarded``, not ``\\Seen``) that a folder with these
    PERMANENTFLAGS would not keep: none when it takes new ones (``\\*``) or did not say."""
    if permanent is None or "\\*" in permanent:
        return frozenset()
    allowed = {f.lower() for f in permanent}
    return frozenset(f for f in flags if not f.startswith("\\") and f.lower() not in allowed)


@dataclass(frozen=True, slots=True)
class MarkWhenSent:
    """The flag a replied-to or forwarded message gets once the reply or forward is sent."""

    account: str
    folder: str
    uid: int
    flag: str


@dataclass(frozen=True, slots=True)
class Address:
    """One mailbox address, already decoded (RFC 2047) to text."""

    name: str
    email: str

    def display(self) -> str:
        """The name when there is one, else the address (its invisible characters shown)."""
        return self.name or visible_format_characters(self.email)

    def __reduce__(self) -> tuple[type[Address], tuple[str, str]]:
        # Pickled by its fields, not by the state a frozen slotted dataclass gives by default
        # (that asks dataclasses.fields() of every instance, both ways): a POP3 download
        # process hands over thousands of summaries, and the UI's process takes each batch.
        return (Address, (self.name, self.email))


@dataclass(frozen=True, slots=True)
class Folder:
    """A mailbox on a server (or a local Maildir folder).

    ``name`` is the full decoded path (modified UTF-7 already decoded), using ``delimiter``, as
    the server has it; show :attr:`display_name`.
    """

    account: str
    name: str
    delimiter: str | None = "/"
    role: FolderRole = FolderRole.NONE
    attributes: frozenset[str] = frozenset()
    total: int = 0
    unread: int = 0

    @property
    def selectable(self) -> bool:
        return "\\noselect" not in {a.lower() for a in self.attributes} and (
            "\\nonexistent" not in {a.lower() for a in self.attributes}
        )

    @property
    def aggregate(self) -> bool:
        """Whether the folder is a view of messages kept in other folders too: all of them
        (RFC 6154 ``\\All``: Gmail's All Mail), the flagged ones (``\\Flagged``: Starred), or
        Gmail's ``\\Important``. A message arriving there has arrived elsewhere too."""
        return bool({"\\all", "\\flagged", "\\important"} & {a.lower() for a in self.attributes})

    @property
    def holds_folders(self) -> bool:
        """Whether folders can be made below this one: not where the server says ``\\Noinferiors``
        (RFC 3501: an mbox file on GNU Mailutils)."""
        return "\\noinferiors" not in {a.lower() for a in self.attributes}

    @property
    def leaf(self) -> str:
        """The last component of the path (as the server has it: clean it before showing)."""
        if self.delimiter and self.delimiter in self.name:
            return self.name.rsplit(self.delimiter, 1)[1]
        return self.name

    @property
    def display_name(self) -> str:
        """The name safe to show: ``name`` is the server's, which may hold control characters
        (bidi controls, C1, tabs) that commands must keep and the screen must not get."""
        return clean_line(self.name)

    @property
    def depth(self) -> int:
        return self.name.count(self.delimiter) if self.delimiter else 0

    @property
    def is_inbox(self) -> bool:
        """Whether this is the account's Inbox, which always exists (RFC 3501)."""
        return self.role == FolderRole.INBOX or self.name.upper() == "INBOX"

    @property
    def subscribed(self) -> bool:
        """Whether the server says the folder is subscribed to (LIST-EXTENDED's ``\\Subscribed``)."""
        return "\\subscribed" in {a.lower() for a in self.attributes}


def tells_subscriptions(folders: Iterable[Folder]) -> bool:
    """Whether these folders come from a server that says which are subscribed to (a server
    that says nothing of it leaves every folder without ``\\Subscribed``)."""
    return any(f.subscribed for f in folders)


def default_folder(folders: Sequence[Folder]) -> Folder | None:
    """The folder an account opens on: its Inbox (by role, else by name), else its first
    selectable folder; None when it has none."""
    selectable = [f for f in folders if f.selectable]
    inbox = next((f for f in selectable if f.role == FolderRole.INBOX), None)
    inbox = inbox or next((f for f in selectable if f.name.upper() == "INBOX"), None)
    return inbox or (selectable[0] if selectable else None)


@dataclass(frozen=True, slots=True)
class FolderState:
    """What the cache knows of a folder's sync position (RFC 3501 / 7162).

    ``complete`` is False while a full sync of the folder is under way, or after one was cut
    short: the cache may then lack messages, or hold some the server has expunged since.
    """

    uidvalidity: int
    uidnext: int = 0
    highestmodseq: int = 0
    complete: bool = True


class MessageSummary(NamedTuple):
    """What the message list needs of one message: envelope, flags and a few header fields.

    It is what a sync fetches for every message; the body is fetched only when opened. A named
    tuple, not a frozen dataclass: a sync builds one per message, and this is several times cheaper.
    """

    uid: int
    flags: frozenset[str] = frozenset()
    date: datetime | None = None  # Date: header, else INTERNALDATE; always timezone-aware
    size: int = 0
    subject: str = ""
    from_: tuple[Address, ...] = ()
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    message_id: str = ""
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    has_attachment: bool = False
    modseq: int = 0

    @property
    def unread(self) -> bool:
        return SEEN not in self.flags

    @property
    def flagged(self) -> bool:
        return FLAGGED in self.flags


@dataclass(frozen=True, slots=True)
class MessageRow:
    """One row of the message list, read from the cache. ``row_id`` is the cache's key."""

    row_id: int
    account: str
    folder: str
    uid: int
    flags: frozenset[str]
    date: datetime | None
    size: int
    subject: str
    sender: str  # display form of the first From address
    sender_email: str
    has_attachment: bool
    has_body: bool = False
    recipients: tuple[Address, ...] = ()  # the To addresses

    @property
    def unread(self) -> bool:
        return SEEN not in self.flags

    @property
    def flagged(self) -> bool:
        return FLAGGED in self.flags

    @property
    def answered(self) -> bool:
        return ANSWERED in self.flags


@dataclass(frozen=True, slots=True)
class Attachment:
    """An attachment as listed in the reader. ``filename`` is already made safe for display.

    ``section`` is its IMAP section number ("2.1"); ``start`` and ``end`` are where the part lies
    in the message's bytes, so that it can be decoded alone (``mime.extract_part``).
    """

    filename: str
    content_type: str
    size: int
    part_index: int
    section: str = ""
    start: int = 0
    end: int = 0


@dataclass(slots=True)
class RenderedMessage:
    """A message made ready for the reader: decoded headers, body text, attachments.

    Every string here is untrusted text that has been stripped of control sequences.
    """

    subject: str
    from_: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    date: datetime | None
    body: str
    body_was_html: bool = False
    attachments: list[Attachment] = field(default_factory=list)
    message_id: str = ""
    notices: tuple[str, ...] = ()  # limits the reading hit ("more than 50,000 parts: ...")
    #: What the reader shows in place of a text it cannot open (an encrypted message), else "".
    sealed: str = ""


class OutgoingState(StrEnum):
    """Where a message in the outbox stands.

    queued -> sending -> sent; or held (the server refused it for good: the reason is kept, and
    the user edits or sends it again) or uncertain (the link dropped after the message was handed
    over: it may have gone out, so it is never sent again unless the user says so).
    """

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    HELD = "held"
    UNCERTAIN = "uncertain"


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message of the outbox as the Outbox folder and the status bar show it."""

    id: int
    account: str
    state: OutgoingState
    subject: str = ""
    recipients: tuple[str, ...] = ()
    #: Why the last attempt failed (the server's words, cleaned for the screen), or "".
    reason: str = ""
    #: Not before this time (seconds since the epoch; send later), or None.
    send_at: float | None = None
    attempts: int = 0
    created: float = 0.0
