"""A message file in a Maildir folder that cannot be read (mode 000 for its owner; here a link to
itself, which no one can open, root included) is left out of the folder's list and of its count
alike, told once, and listed as soon as it can be read."""

from __future__ import annotations

from pathlib import Path

from mailbag.domain.events import ErrorReported, SyncProgress
from mailbag.protocols.maildir import MaildirStore
from mailbag.services.maildir_account import MaildirAccount
from mailbag.store.store import Store
from tests.integration.accounts import Recorder


def message(n: int) -> bytes:
    return f"From: Ann <ann@example.org>\r\nSubject: Message {n}\r\nMessage-ID: <m{n}@example.org>\r\n\r\nbody\r\n".encode()


def listed(store: Store) -> list[str]:
    summaries = (store.summary("home", "INBOX", uid) for uid in store.uids("home", "INBOX"))
    return sorted(s.subject for s in summaries if s is not None)


def counted(store: Store) -> int:
    return next(f.total for f in store.folders("home") if f.name == "INBOX")


async def test_a_message_that_cannot_be_read_is_left_out_of_the_list_and_the_count_alike(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    MaildirStore(root, "home", create=True).add_many("INBOX", [(message(n), ()) for n in (1, 2, 3)])
    victim = next(path for path in (root / "new").iterdir() if b"Message 2" in path.read_bytes())
    victim.unlink()
    victim.symlink_to(victim.name)  # opening it fails: too many levels of symbolic links
    store = Store.open(tmp_path / "cache.sqlite3")
    recorder = Recorder()
    try:
        account = MaildirAccount("home", root, store, recorder)
        await account.sync_once()
        await account.sync_once()  # looked at again: still left out, not told twice
        assert listed(store) == ["Message 1", "Message 3"] and counted(store) == 2
        last = [e for e in recorder.of(SyncProgress) if e.folder == "INBOX"][-1]
        assert (last.done, last.total) == (2, 2)  # what `mailbag sync` prints, as the list has it
        assert [e.message for e in recorder.of(ErrorReported)] == [
            "1 message in INBOX cannot be read (Too many levels of symbolic links) and is left out until"
            " it can be; the log names its file"
        ]

        victim.unlink()
        victim.write_bytes(message(2))  # readable again
        await account.sync_once()
        assert listed(store) == ["Message 1", "Message 2", "Message 3"] and counted(store) == 3
    finally:
        store.close()
