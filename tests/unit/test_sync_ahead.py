"""Which accounts ``mailbag sync`` starts a POP3 download process for before it knows the
listing: those whose Maildir is not there yet (their first download), in either layout."""

from __future__ import annotations

from pathlib import Path

from mailbag.__main__ import first_pop3_download
from mailbag.domain.config import AccountConfig, ServerConfig


def account(tmp_path: Path, kind: str = "pop3") -> AccountConfig:
    server = ServerConfig(host="pop.example", port=995, security="tls", username="me", password_env="X")
    if kind == "pop3":
        return AccountConfig(name="old", email="me@example.test", maildir=tmp_path / "Mail", pop3=server)
    return AccountConfig(name="work", email="me@example.test", imap=server)


def test_a_pop3_account_whose_maildir_is_not_there_or_empty_makes_its_first_download(tmp_path: Path) -> None:
    old = account(tmp_path)
    assert first_pop3_download(old)
    (tmp_path / "Mail").mkdir()
    assert first_pop3_download(old)


def test_a_pop3_account_with_a_maildir_of_either_layout_does_not(tmp_path: Path) -> None:
    old = account(tmp_path)
    (tmp_path / "Mail" / "cur").mkdir(parents=True)  # Maildir++: the Inbox at the root
    assert not first_pop3_download(old)
    (tmp_path / "Mail" / "cur").rmdir()
    (tmp_path / "Mail" / "INBOX" / "cur").mkdir(parents=True)  # nested
    assert not first_pop3_download(old)


def test_an_imap_account_does_not(tmp_path: Path) -> None:
    assert not first_pop3_download(account(tmp_path, "imap"))
