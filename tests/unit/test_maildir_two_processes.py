"""Two mailbags serving one Maildir tree at once (a ``mailbag sync`` from cron beside the
full-screen client) never give one UID to two messages, nor a message a second UID: the cache of
each keys its rows by UID, and an action on UID n must reach the message n named when it was shown."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mailbag.protocols.maildir import INBOX, MaildirStore
from mailbag.protocols.maildir_delivery import deliver, new_key


def _mail(message_id: str) -> bytes:
    return f"From: a@example.org\nSubject: {message_id}\nMessage-ID: <{message_id}>\n\nHi.\n".encode()


def _uid_of_each(root: Path) -> dict[str, int]:
    """Message-ID -> UID, as a mailbag starting now reads the tree."""
    return {s.message_id.strip("<>"): s.uid for s in MaildirStore(root, "local").summaries(INBOX)}


def test_messages_delivered_and_adopted_by_two_stores_get_uids_of_their_own(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    client = MaildirStore(root, "local", create=True)
    sync = MaildirStore(root, "local")
    client.folder_state(INBOX)  # both have looked at the (empty) Inbox
    sync.folder_state(INBOX)

    deliver(root, [(first := new_key(), _mail("first@x"))])
    (uid_first,) = client.adopt(INBOX, [first])
    deliver(root, [(second := new_key(), _mail("second@x"))])
    (uid_second,) = sync.adopt(INBOX, [second])  # its last look predates the first's UID

    assert uid_first != uid_second
    assert _uid_of_each(root) == {"first@x": uid_first, "second@x": uid_second}
    assert client.read(INBOX, uid_second) == _mail("second@x")  # the client finds it by its UID
    assert sync.read(INBOX, uid_first) == _mail("first@x")


_ADDER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from mailbag.protocols.maildir import INBOX, MaildirStore
    root, name, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    store = MaildirStore(root, "local")
    given = {}
    for n in range(count):
        message_id = f"{name}-{n}@x"
        raw = f"From: a@example.org\\nMessage-ID: <{message_id}>\\n\\nHi.\\n".encode()
        given[message_id] = store.add(INBOX, raw)
        if n % 3 == 0:
            store.folder_state(INBOX)  # a rescan, as the watcher does on a change
    print(json.dumps(given))
    """
)


def test_two_processes_adding_at_once_keep_every_uid_they_were_given(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    MaildirStore(root, "local", create=True).folder_state(INBOX)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    adders = [
        subprocess.Popen([sys.executable, "-c", _ADDER, str(root), name, "150"], stdout=subprocess.PIPE, env=env)
        for name in ("client", "sync")
    ]
    given: dict[str, int] = {}
    for adder in adders:
        out, _ = adder.communicate(timeout=120)
        assert adder.returncode == 0
        given |= json.loads(out)

    assert len(given) == 300
    assert len(set(given.values())) == 300  # no UID given twice
    assert _uid_of_each(root) == given  # and none taken back or changed since


def test_a_file_system_without_locks_still_serves_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Some FUSE and network file systems refuse flock (ENOLCK): the folder is read and written
    all the same, and the log says once that two mailbags must not share it there."""
    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    root = tmp_path / "Mail"
    store = MaildirStore(root, "local", create=True)
    monkeypatch.setattr(fcntl, "flock", no_locks)
    uid = store.add(INBOX, _mail("one@x"))
    store.folder_state(INBOX)
    assert store.read(INBOX, uid) == _mail("one@x")
    assert _uid_of_each(root) == {"one@x": uid}
    assert sum("cannot be locked" in r.message for r in caplog.records) == 1
