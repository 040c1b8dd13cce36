"""The wire names of folders a server lists by names not in modified UTF-7."""

from __future__ import annotations

from mailbag.protocols.imap.names import Spelling, spelling_of


def test_a_name_in_modified_utf7_is_spelled_so_and_one_listed_otherwise_as_listed() -> None:
    spelling = Spelling()
    spelling.learn(["INBOX", "Entw&APw-rfe", "R&D", "Café", "&AOQ-&APY-", "Lists/R&-D"])
    assert spelling.wire("Entwürfe") == "Entw&APw-rfe"  # listed canonically: encoded
    assert spelling.wire("R&D") == "R&D"  # an & that starts no run, as a file is named
    assert spelling.wire("Café") == "Café"  # raw UTF-8
    assert spelling.wire("äö") == "&AOQ-&APY-"  # two runs where one would do
    assert spelling.wire("Lists/R&D") == "Lists/R&-D"
    assert spelling.wire("New & shiny") == "New &- shiny"  # one it never listed: encoded


def test_a_whole_listing_forgets_what_is_gone_and_a_folder_deleted_is_spelled_anew() -> None:
    spelling = Spelling()
    spelling.learn(["R&D", "Café"])
    spelling.learn(["Café"])
    assert spelling.wire("R&D") == "R&-D"
    spelling.forget("Café")
    assert spelling.wire("Café") == "Caf&AOk-"


def test_sessions_with_one_server_and_user_share_a_spelling() -> None:
    assert spelling_of("imap.example.org", 993, "ann") is spelling_of("imap.example.org", 993, "ann")
    assert spelling_of("imap.example.org", 993, "ann") is not spelling_of("imap.example.org", 993, "bob")
