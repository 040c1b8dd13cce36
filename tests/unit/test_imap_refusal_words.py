"""A refusal's response code in plain words, the server's own words after it (RFC 3501 7.1,
RFC 5530) in parentheses, as the lines Cyrus, Courier and Dovecot send."""

from __future__ import annotations

import pytest

from mailbag.protocols.imap.codes import refusal_code, worded


@pytest.mark.parametrize("text, shown", [
    ("[HASCHILDREN] Mailbox has inferior hierarchical names",
     "the folder has folders below it, delete those first (Mailbox has inferior hierarchical names)"),
    ("[ALREADYEXISTS] Mailbox already exists", "a folder of that name exists already (Mailbox already exists)"),
    ("[NONEXISTENT] Mailbox doesn't exist: Work", "no such folder on the server (Mailbox doesn't exist: Work)"),
    ("[NOPERM] Permission denied", "you are not allowed to do this there (Permission denied)"),
    ("[OVERQUOTA] Quota exceeded (mailbox for user is full)",
     "over the mailbox's quota (Quota exceeded (mailbox for user is full))"),
    ("[LIMIT] Too many mailboxes", "beyond a limit of the server (Too many mailboxes)"),
    ("[INUSE]", "in use by another program, try again later"),
    ("[cannot] read-only folder", "the server cannot do this (read-only folder)"),
    ("[BADCHARSET (UTF-8)] no such charset", "the server cannot search in that character set (no such charset)"),
    ("[X-SOMETHING] what the server says", "[X-SOMETHING] what the server says"),
    ("Mailbox has children, delete them first", "Mailbox has children, delete them first"),
])
def test_a_refusal_is_worded_with_the_servers_text_after_it(text: str, shown: str) -> None:
    assert worded(text) == shown


def test_the_code_is_kept_for_the_client_to_act_on() -> None:
    assert refusal_code("[UNAVAILABLE] Temporary authentication failure.") == "UNAVAILABLE"
    assert refusal_code("[inuse] locked") == "INUSE"
    assert refusal_code("no code [NOPERM] here") == ""


def test_the_same_refusal_timed_with_or_without_a_wait_is_said_alike() -> None:
    # Dovecot adds a third term to its timing when a command waited (a busy machine): the same
    # refusal was then told twice, as two.
    from mailbag.domain.wording import said_alike

    quick = "has no Sent folder: NO [NOPERM] Permission denied (0.001 + 0.000 secs)."
    waited = "has no Sent folder: NO [NOPERM] Permission denied (0.002 + 0.000 + 0.031 secs)."
    assert said_alike(quick) == said_alike(waited)
