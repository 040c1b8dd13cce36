"""The worker of each kind of account, made from its config without the full-screen client's
service (``mailbag sync`` and ``mailbag send`` need no more than this to import)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailbag.domain.config import AccountConfig
from mailbag.domain.events import EventSink

if TYPE_CHECKING:
    from mailbag.services.backend import Backend
    from mailbag.store.store import Store


def check_backend(account: AccountConfig) -> None:
    """Raise ValueError unless some worker can serve ``account``."""
    if not account.keeps_folders:
        raise ValueError(f"account {account.name}: no supported backend configured")


def make_worker(
    account: AccountConfig, store: Store, sink: EventSink, *, sync_in_child: bool = False, headless: bool = False
) -> Backend:
    """The worker that serves ``account``, by its kind; with ``sync_in_child`` (the full-screen
    client), an IMAP worker fetches the bulk of a first sync in a child process (see
    ``sync_child``), and a POP3 worker runs a big download in one (see ``pop3_child``), which
    reads the headers too, so that this interpreter stays free for the UI. ``headless`` (``mailbag
    sync``): a POP3 worker shares a big download with a child process, which fetches and writes
    the messages while this one reads their headers into the cache."""
    check_backend(account)
    if account.imap is not None:
        from mailbag.services.imap_account import ImapAccount

        worker = ImapAccount(account, store, sink)
        worker.sync_in_child = sync_in_child
        return worker
    if account.pop3 is not None:
        from mailbag.paths import pop3_maildir
        from mailbag.services.pop3_account import Pop3Account

        pop3 = Pop3Account(account, account.maildir or pop3_maildir(account.name), store, sink)
        pop3.download_in_child = sync_in_child or headless
        pop3.headers_in_child = not headless
        return pop3
    from mailbag.services.maildir_account import MaildirAccount

    assert account.maildir is not None
    maildir = MaildirAccount(account.name, account.maildir, store, sink, layout=account.maildir_layout)
    maildir.plaintext = account.plaintext  # its [smtp], if any
    return maildir
