"""Events the service layer reports to whoever listens (the UI, a CLI, a test).

Every request gets exactly one terminal event (RequestDone / RequestFailed / RequestCancelled /
RequestUnsupported) carrying its ``request_id``, plus any number of data events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mailbag.domain.models import ConnectionState, Folder, OutgoingMessage, OutgoingState


@dataclass(frozen=True, slots=True)
class Event:
    """Base of all events."""


EventSink = Callable[[Event], None]


# --- terminal events -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestDone(Event):
    request_id: int


@dataclass(frozen=True, slots=True)
class RequestFailed(Event):
    """A request could not be done, for ``error``; ``told``: the account tells that failure itself
    (an error of its own, or its state), so a UI need not say it a second time."""

    request_id: int
    error: str
    told: bool = False


@dataclass(frozen=True, slots=True)
class RequestCancelled(Event):
    request_id: int


@dataclass(frozen=True, slots=True)
class RequestUnsupported(Event):
    request_id: int
    reason: str


#: The four terminal events: exactly one of them answers each request.
TERMINAL = (RequestDone, RequestFailed, RequestCancelled, RequestUnsupported)


# --- data events -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConnectionChanged(Event):
    """An account's connection state changed; ``detail`` is a short human text."""

    account: str
    state: ConnectionState
    detail: str = ""
    #: True when the account will not try again by itself (the server refused the login): it waits
    #: for the user to fix the configuration and ask for a retry (``RetryAccount``).
    waiting_for_user: bool = False
    #: The account's servers named here are reached without TLS (``security = "none"``).
    plaintext: tuple[str, ...] = ()
    #: The refused login is the account's OAuth2 sign-in: signing in (``SignIn``) may fix it.
    sign_in: bool = False
    #: Why the login was refused, as the server (or the password source) said it.
    reason: str = ""
    #: The server the account fetches its mail from (POP3) cannot be reached (``detail`` says
    #: why); the account serves the mail it holds all the same.
    fetch_offline: bool = False


@dataclass(frozen=True, slots=True)
class SignInCode(Event):
    """What a ``SignIn`` asks the user to do: open ``verification_uri`` on any device and enter
    ``user_code`` there (``verification_uri_complete`` holds the code already, when given)."""

    request_id: int
    account: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str = ""
    expires_in: int = 0


@dataclass(frozen=True, slots=True)
class FoldersChanged(Event):
    """The folder list (or counts) of an account changed; read them from the cache."""

    account: str
    folders: tuple[Folder, ...]


@dataclass(frozen=True, slots=True)
class FolderCountsChanged(Event):
    account: str
    folder: str
    total: int
    unread: int


@dataclass(frozen=True, slots=True)
class SyncProgress(Event):
    """``folder`` is being filled: ``done`` of ``total`` ``items`` (message headers read; or
    messages downloaded, for a POP3 account's Inbox)."""

    account: str
    folder: str
    done: int
    total: int
    items: str = "headers"


@dataclass(frozen=True, slots=True)
class MessagesChanged(Event):
    """Rows of a folder were added, changed or removed in the cache: re-read what is visible."""

    account: str
    folder: str
    added: int = 0
    changed: int = 0
    removed: int = 0


@dataclass(frozen=True, slots=True)
class BodyLoaded(Event):
    account: str
    folder: str
    uid: int


@dataclass(frozen=True, slots=True)
class ErrorReported(Event):
    """Something went wrong that the user should read in the status bar; ``retry``: the user
    can have it tried again (the UI names the key of its retry binding)."""

    account: str
    message: str
    retry: bool = False


@dataclass(frozen=True, slots=True)
class Notice(Event):
    """Something the user should know that is no failure (a server without UIDL, a message left
    on the server, a folder another program removed): said in the status bar as information."""

    account: str
    message: str


@dataclass(frozen=True, slots=True)
class NewMail(Event):
    """New messages arrived in a folder (after the first sync): ring the bell, notify."""

    account: str
    folder: str
    count: int
    senders: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ActionApplied(Event):
    """A triage action took effect (locally at once; on the server when ``on_server``).
    ``undoes``: the action is an undo's, and this is what was undone (as the undo said it)."""

    account: str
    description: str  # e.g. "Moved 3 messages to Archive"
    undoable: bool = True
    on_server: bool = False
    undoes: str = ""


@dataclass(frozen=True, slots=True)
class ActionRolledBack(Event):
    """The server refused an action: the cache was put back as it was; ``reason`` says why."""

    account: str
    description: str
    reason: str


@dataclass(frozen=True, slots=True)
class SearchResults(Event):
    """Rows that match a Search request; ``complete`` is False while more may come. ``more``
    counts the matches the server found that are not among them: older ones the cache did not
    hold, left on the server so one search cannot download a whole mailbox."""

    request_id: int
    row_ids: tuple[int, ...]
    complete: bool = True
    more: int = 0


@dataclass(frozen=True, slots=True)
class MessageQueued(Event):
    """A ``SendMessage`` request's message is in the outbox under ``outbox_id`` (comes before the
    request's terminal reply)."""

    request_id: int
    account: str
    outbox_id: int


@dataclass(frozen=True, slots=True)
class OutboxChanged(Event):
    """The outbox changed: every message still in it (waiting, being sent, held, uncertain),
    oldest first. Sent messages leave it."""

    messages: tuple[OutgoingMessage, ...]

    def count(self, state: OutgoingState, account: str | None = None) -> int:
        """How many messages are in ``state`` (of ``account``, or of every account)."""
        return sum(
            1
            for m in self.messages
            if m.state == state and (account is None or m.account == account)
        )
