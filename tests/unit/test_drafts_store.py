"""Drafts kept on this machine, and the addresses the cache offers for completion."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from mailbag.domain.compose import Draft, DraftAttachment
from mailbag.domain.models import Address, Folder, FolderRole, MessageSummary
from mailbag.store.drafts import DraftFiles
from mailbag.store.store import Store

DRAFT = Draft(
    account="work", from_="Me <me@example.org>", to="ann@example.org", subject="Plan",
    body="Dear Ann,\n\n-- \nMe\n", references=("<a@b>",), message_id="<d1@example.org>",
    attachments=(DraftAttachment(path="/tmp/x.pdf"), DraftAttachment(data=b"\x00\xff", filename="m.eml",
                                                                    content_type="message/rfc822")),
)


def test_a_draft_is_kept_whole_in_a_private_file(tmp_path: Path) -> None:
    drafts = DraftFiles(tmp_path / "drafts")
    old_umask = os.umask(0o022)
    try:
        assert drafts.save(DRAFT)
    finally:
        os.umask(old_umask)
    assert drafts.load_all() == [DRAFT]
    [path] = list((tmp_path / "drafts").iterdir())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "drafts").stat().st_mode) == 0o700
    assert DraftFiles(tmp_path / "drafts").load(DRAFT.message_id) == DRAFT  # a later start reads it
    drafts.remove(DRAFT.message_id)
    assert drafts.load_all() == []


def test_an_empty_draft_does_not_replace_one_with_text(tmp_path: Path) -> None:
    drafts = DraftFiles(tmp_path)
    drafts.save(DRAFT)
    emptied = DRAFT.with_(to="", subject="", body="\n-- \nMe\n", attachments=())
    assert emptied.is_empty()
    assert not drafts.save(emptied)
    assert drafts.load(DRAFT.message_id) == DRAFT
    assert drafts.save(emptied, allow_empty=True)
    assert drafts.load(DRAFT.message_id) == emptied


def test_a_damaged_draft_file_is_skipped_and_kept(tmp_path: Path) -> None:
    drafts = DraftFiles(tmp_path)
    drafts.save(DRAFT)
    (tmp_path / "broken.json").write_text("{not json")
    assert drafts.load_all() == [DRAFT]
    assert (tmp_path / "broken.json").exists()


def test_known_addresses_most_used_first(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "cache.sqlite3")
    try:
        store.replace_folders("work", [Folder("work", "INBOX", "/", FolderRole.INBOX),
                                       Folder("work", "Sent", "/", FolderRole.SENT)])
        ann, bob, carol = (Address("Ann Example", "ann@example.org"), Address("", "bob@example.org"),
                           Address("Carol", "carol@example.org"))
        store.upsert_summaries("work", "INBOX", [
            MessageSummary(uid=1, from_=(bob,), to=(Address("", "me@example.org"),)),
            MessageSummary(uid=2, from_=(ann,)),
            MessageSummary(uid=3, from_=(Address("", "ANN@example.org"),)),
            MessageSummary(uid=4, from_=(Address("undisclosed", ""),)),
        ])
        store.upsert_summaries("work", "Sent", [
            MessageSummary(uid=1, from_=(Address("", "me@example.org"),), to=(carol,), cc=(ann,)),
        ])
        found = store.reader.known_addresses()
        assert found[0] == ann  # twice from, once written to; its name kept
        assert set(found) == {ann, bob, carol, Address("", "me@example.org")}
        assert store.reader.uids_with_message_id("work", "INBOX", "") == [1, 2, 3, 4]
    finally:
        store.close()
