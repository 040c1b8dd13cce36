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


def test_what_a_killed_delivery_left_in_tmp_long_ago_goes_and_a_delivery_under_way_stays(tmp_path: Path) -> None:
    """A delivery killed before its rename into new/ leaves a file in tmp/ that no one reads;
    it goes after 36 hours, as other Maildir programs do, in every folder."""
    import os
    import time

    store = MaildirStore(tmp_path, "home", create=True)
    store.create_folder("Work")
    old = [tmp_path / "tmp" / "1.M1P1Q1.host", tmp_path / ".Work" / "tmp" / "2.M2P2Q2.host"]
    fresh = tmp_path / "tmp" / "3.M3P3Q3.host"
    for path in [*old, fresh]:
        path.write_bytes(make_message(1))
    long_ago = time.time() - 40 * 3600
    for path in old:
        os.utime(path, (long_ago, long_ago))

    assert finish_killed_changes(store.layout) == ["2 files that deliveries cut short left in tmp/ removed"]
    assert [path.exists() for path in old] == [False, False] and fresh.exists()
    assert finish_killed_changes(store.layout) == []
