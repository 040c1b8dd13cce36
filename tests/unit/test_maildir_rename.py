"""Finishing a Maildir++ rename a kill cut short, when a folder took one of the new names
meanwhile (another program made it): neither folder is touched, every message stays listed."""

from __future__ import annotations

from pathlib import Path

from mailbag.protocols.maildir import MaildirStore
from mailbag.protocols.maildir_folders import RENAMING, finish_killed_changes, rename_folder
from tests.servers.messages import make_message, message_id


def test_a_new_name_taken_meanwhile_leaves_that_folder_under_its_old_name(tmp_path: Path) -> None:
    store = MaildirStore(tmp_path, "home", create=True)
    store.create_folder("Work/Sub")
    store.add("Work", make_message(1))
    store.add("Work/Sub", make_message(2))
    rename_folder(store.layout, "Work", "Jobs")
    rename_folder(store.layout, "Jobs", "Work")  # back: the state before, with nothing written down
    assert not (tmp_path / RENAMING).exists()
    # As a kill after the first directory leaves it, then another program made Jobs/Sub.
    (tmp_path / RENAMING).write_text('{"from": "Work", "to": "Jobs"}')
    (tmp_path / ".Work").rename(tmp_path / ".Jobs")
    store.create_folder("Jobs/Sub")
    store.forget_folders()
    store.add("Jobs/Sub", make_message(3))

    assert finish_killed_changes(store.layout) == ["the rename of Work to Jobs finished"]
    fresh = MaildirStore(tmp_path, "home")
    listed = {f.name: {s.message_id for s in fresh.summaries(f.name)} for f in fresh.list_folders() if f.selectable}
    assert {name: ids for name, ids in listed.items() if ids} == {
        "Jobs": {message_id(1)}, "Work/Sub": {message_id(2)}, "Jobs/Sub": {message_id(3)}}
    assert not (tmp_path / RENAMING).exists()
    assert finish_killed_changes(store.layout) == []  # once
