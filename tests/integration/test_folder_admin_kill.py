"""A folder rename or delete whose mailbag is killed once the server has done it, before its
answer came and the cache followed (a real SIGKILL): the next start knows the change was its
own. It is told as done, never as another program's doing, and a renamed folder keeps its
cached messages and bodies."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

import mailbag as package
from mailbag.domain.events import ActionApplied, ErrorReported
from mailbag.domain.requests import DeleteFolder, FolderRequest, RenameFolder
from mailbag.store.store import Store
from tests.integration.accounts import proxied_config
from tests.integration.journal_fixtures import CuttingProxy, synced
from tests.integration.test_live_triage import running
from tests.killing import kill_once
from tests.servers.dovecot import DovecotServer, MailUser

pytestmark = pytest.mark.dovecot

FOLDER_SCRIPT = """
import asyncio, pickle, sys
from pathlib import Path
from mailbag.domain.events import RequestDone
from mailbag.services.imap_account import ImapAccount
from mailbag.store.store import Store

async def main() -> None:
    config, request = pickle.loads(Path(sys.argv[1]).read_bytes())
    events = []
    account = ImapAccount(config, Store.open(Path(sys.argv[2])), events.append)
    running = asyncio.ensure_future(account.run())
    while not any(isinstance(e, RequestDone) for e in events):
        await asyncio.sleep(0.02)
    account.submit(request)
    await running

asyncio.run(main())
"""


async def _killed_once_the_server_did(
    dovecot: DovecotServer, user: MailUser, db: Path, command: bytes, request: FolderRequest
) -> None:
    """Run ``user``'s account over the cache ``db`` in a child that sends ``request``; SIGKILL
    it once the server has done ``command``, before its answer reaches the child."""
    async with CuttingProxy(dovecot.imap_port, command, hold=True) as proxy:
        job = db.with_name("job.pickle")
        job.write_bytes(pickle.dumps((proxied_config(user, proxy.port), request)))
        env = dict(os.environ, PYTHONPATH=str(Path(package.__file__).parents[1]))
        try:  # killed once done on the server, with no answer yet
            await kill_once(["-c", FOLDER_SCRIPT, str(job), str(db)], env, proxy.cut)
        finally:
            proxy.release.set()


@pytest.mark.parametrize("kind", ["rename", "delete"])
async def test_a_folder_change_killed_before_its_answer_is_told_as_ours_after_restart(
    dovecot, mail_user, tmp_path, kind
):
    db = tmp_path / "cache.sqlite3"
    uid = await synced(dovecot, mail_user, db, 3, "Projects")
    with Store.open(db) as store:
        store.put_body("work", "Projects", uid[1], b"Subject: cached\r\n\r\nthe body read once\r\n")
    request: FolderRequest = (
        RenameFolder(account="work", folder="Projects", new_name="Jobs") if kind == "rename"
        else DeleteFolder(account="work", folder="Projects")
    )
    await _killed_once_the_server_did(dovecot, mail_user, db, kind.upper().encode(), request)
    with Store.open(db) as store:
        assert "Projects" in {f.name for f in store.folders("work")}  # the cache had not followed

    async with running(dovecot, mail_user, db) as (_account, store, events):
        names = {f.name for f in store.folders("work")}
        told = [e.message for e in events.of(ErrorReported)] + [e.description for e in events.of(ActionApplied)]
        body = store.body("work", "Jobs", uid[1]) if kind == "rename" else None
        left = store.local.folder_changes("work")
    assert "Projects" not in names
    assert not [m for m in told if "another program" in m]
    if kind == "rename":
        assert "Jobs" in names
        assert told == ["Folder Projects renamed to Jobs"]
        assert body == b"Subject: cached\r\n\r\nthe body read once\r\n"  # kept, not fetched again
    else:
        assert told == ["Folder Projects deleted"]
    assert left == []  # settled once
