"""Requests the UI (or a CLI) posts to the service layer.

Each request carries a unique ``request_id``; the service answers each with exactly one terminal
event (see :mod:`mailbag.domain.events`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from mailbag.domain.models import FolderRole, MarkWhenSent

_ids = itertools.count(1)


def _next_id() -> int:
    return next(_ids)


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    account: str
    request_id: int = field(default_factory=_next_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncAccount(Request):
    """List folders, refresh counts and sync every folder's headers."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenFolder(Request):
    """The user opened a folder: sync it first, ahead of anything else."""

    folder: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadBody(Request):
    folder: str
    uid: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SetFlags(Request):
    folder: str
    uids: tuple[int, ...]
    add: frozenset[str] = frozenset()
    remove: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class MoveMessages(Request):
    """Move (or copy) messages to another folder of the same account.

    The target is ``target`` by name, or the account's folder with ``target_role`` (Archive, Junk,
    Trash) when ``target`` is empty. With ``new_folder`` the target is a folder the user named,
    made first where it does not exist (on an account whose folders are local).
    """

    folder: str
    uids: tuple[int, ...]
    target: str = ""
    target_role: FolderRole = FolderRole.NONE
    copy: bool = False
    new_folder: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteMessages(Request):
    """Delete: move to Trash; or, with ``permanent`` (asked only after the user confirmed), expunge."""

    folder: str
    uids: tuple[int, ...]
    permanent: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Search(Request):
    """Search the server for what the cache cannot answer (bodies not cached).

    ``account`` may be empty: every account. ``folder`` None: every folder.
    """

    query: str
    folder: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AppendMessage(Request):
    """Store a message (a draft, a copy of sent mail) in ``folder`` of the account, or, when
    ``folder`` is empty, in its folder with ``role`` (Sent, Drafts).

    With ``message_id``, a folder that already holds a message with that Message-ID is left as it
    is: an APPEND whose answer was lost (the link dropped, mailbag was killed) can be asked again
    without storing the message twice.
    """

    folder: str = ""
    role: FolderRole = FolderRole.NONE
    raw: bytes
    flags: frozenset[str] = frozenset()
    message_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckFolders(Request):
    """Look at every folder for changes the server does not push (a server without NOTIFY):
    the app regained focus, the folder tree was opened, or the schedule says it is time."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryAccount(Request):
    """Connect now: after a refused login (fix the password first), or to cut a reconnect wait
    short. Answered at once; the connection state follows as ``ConnectionChanged``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SignIn(Request):
    """Sign the account in with its OAuth2 provider (the device-code flow of its ``[oauth2]``):
    ``SignInCode`` tells what to show; answered once signed in (the account then connects), or
    failed with the reason (declined, the code expired, the provider unreachable)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SendMessage(Request):
    """Send ``message`` (RFC 5322 bytes as they go out: no Bcc header) to ``recipients`` (the
    envelope: every To, Cc and Bcc address) through the account's outbox, at once or not before
    ``send_at`` (seconds since the epoch).

    Its one terminal reply comes once the message is durably in the outbox, not once it is sent:
    ``OutboxChanged`` tells how it goes on (``MessageQueued`` names its outbox id first).
    """

    message: bytes
    recipients: tuple[str, ...]
    send_at: float | None = None
    #: The message this one answers or forwards, flagged once this one is sent (not queued).
    mark: MarkWhenSent | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelOutgoing(Request):
    """Take a message out of the outbox before it goes (queued, held or uncertain; not one being
    sent). ``account`` may be left empty: the outbox knows it."""

    account: str = ""
    outbox_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SendOutgoingNow(Request):
    """Send a message of the outbox now: a queued one without waiting for its time or backoff, a
    held or uncertain one again because the user says so. ``account`` may be left empty."""

    account: str = ""
    outbox_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SaveDraft(Request):
    """Keep a draft in the account's Drafts folder in place of its earlier versions there (the
    messages with the same ``message_id``): the new one is stored first, then the old ones are
    removed through the journal. ``raw`` None removes every version (sent or discarded)."""

    message_id: str
    raw: bytes | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FolderRequest(Request):
    """A change to the account's folders themselves (not to messages). Served only while the
    account is connected: it is refused at once offline, never queued."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateFolder(FolderRequest):
    """Make the folder ``name`` (its full path, parts joined by the account's delimiter)."""

    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RenameFolder(FolderRequest):
    """Rename ``folder`` (and the folders below it) to ``new_name``. INBOX is special in IMAP:
    its messages move to the new folder and INBOX stays, empty."""

    folder: str
    new_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteFolder(FolderRequest):
    """Delete ``folder`` with the messages in it (the UI asks first)."""

    folder: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscribeFolder(FolderRequest):
    """Subscribe to ``folder`` (``subscribe`` False: unsubscribe)."""

    folder: str
    subscribe: bool = True
