"""What could derail a sync, against the private Dovecot: requests a person waits for served in
its middle, a refused SELECT, folder names the screen must not show as they are. Every folder ends
synced, and the account stays usable."""

from __future__ import annotations

import asyncio

import pytest

from mailbag.domain.events import ErrorReported, Event, RequestFailed, SyncProgress
from mailbag.domain.requests import LoadBody, OpenFolder, Search
from mailbag.domain.sanitize import clean_line
from mailbag.protocols import utf7
from mailbag.services import imap_account
from mailbag.services.imap_account import ImapAccount
from mailbag.store.store import Store
from mailbag.ui.widgets.folder_tree import folder_label
from tests.integration.accounts import Recorder, account_running, imap_account_config, make_account, other_client
from tests.integration.test_cli_sync import run_mailbag, write_config
from tests.servers.messages import make_message, subject_of

FOLDERS = 56


async def test_after_a_refused_select_the_next_request_selects_again(dovecot, mail_user, tmp_path):
    for i in (1, 2):
        dovecot.deliver(mail_user.name, make_message(i, size=2000))
    account, store, _ = make_account(dovecot, mail_user, tmp_path / "c.db")
    await account.connect()
    try:
        await account.sync_folder("INBOX")
        first, second = store.uids("work", "INBOX")
        await account.load_body("INBOX", first)  # INBOX is selected now
        # Refused: the server deselects INBOX. A folder the server has not is gone, not an error:
        # the folders are listed again (which tells of one that was in the tree).
        await account.sync_folder("No such folder")
        assert "No such folder" not in {f.name for f in store.folders("work")}

        await account.load_body("INBOX", second)
        assert subject_of(2).encode() in (store.body("work", "INBOX", second) or b"")
    finally:
        await account.disconnect()
        store.close()


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imap_account, "FIRST_CHUNK", 50)
    monkeypatch.setattr(imap_account, "CHUNK", 100)


async def test_urgent_requests_during_the_first_sync_of_many_folders(
    dovecot, mail_user, tmp_path, small_chunks
):
    dovecot.deliver_many(mail_user.name, (make_message(i) for i in range(600)))
    other = other_client(dovecot, mail_user)
    _, listed = other.list()
    names = [f"Lists/list{n:02d}" for n in range(FOLDERS - len(listed))]
    for n, name in enumerate(names):
        other.create(name)
        for i in range(n % 4):
            other.append(name, "", None, make_message(1000 + 10 * n + i))
    other.logout()

    store = Store.open(tmp_path / "c.db")
    events = Recorder()
    fired: list[int] = []

    def fire_urgent_requests(event: Event) -> None:
        """While the sync runs, the user opens folders, reads and searches."""
        if not isinstance(event, SyncProgress) or len(fired) > 60:
            return
        uids = store.uids("work", "INBOX")
        fired.append(account.submit(OpenFolder(account="work", folder=names[len(fired) % len(names)])))
        if uids:
            fired.append(account.submit(LoadBody(account="work", folder="INBOX", uid=uids[-1])))
        fired.append(account.submit(Search(account="work", query="body:zzzz", folder="INBOX")))

    def sink(event: Event) -> None:
        events(event)
        fire_urgent_requests(event)

    account = ImapAccount(imap_account_config(dovecot, mail_user), store, sink)
    with store:
        async with account_running(account):

            def all_synced() -> bool:
                folders = [f.name for f in store.folders("work") if f.selectable]
                states = [store.folder_state("work", name) for name in folders]
                return len(folders) == FOLDERS and all(s is not None and s.complete for s in states)

            async def wait_synced() -> None:
                while not all_synced() or not fired:
                    await asyncio.sleep(0.05)
                answered = {getattr(e, "request_id", None) for e in events.events}
                while not set(fired) <= answered:
                    await asyncio.sleep(0.05)
                    answered = {getattr(e, "request_id", None) for e in events.events}

            await asyncio.wait_for(wait_synced(), 120)
            assert not events.of(RequestFailed), events.of(RequestFailed)
            assert not events.of(ErrorReported), events.of(ErrorReported)
            assert store.counts("work", "INBOX") == (600, 600)
            for n, name in enumerate(names):
                assert store.counts("work", name)[0] == n % 4, name


#: Folder names with characters the screen must never get (RLM, a bidi override, a C1 control);
#: "Zeta" comes after them, so a sync that stopped at one of them would miss it.
STRANGE_NAMES = ("Right\u200fto", "Bidi\u202eevil", "C1\u0085x", "Zeta")


async def test_folders_whose_names_hold_control_characters_are_synced_and_opened(
    dovecot, mail_user, tmp_path
):
    other = other_client(dovecot, mail_user)
    for n, name in enumerate(STRANGE_NAMES):
        wire = utf7.encode(name)
        assert other.create(f'"{wire}"')[0] == "OK"
        other.append(f'"{wire}"', "", None, make_message(n, size=1500))
    other.logout()
    account, store, _ = make_account(dovecot, mail_user, tmp_path / "c.db")

    await account.sync_once()

    folders = {f.name: f for f in store.folders("work")}
    for n, name in enumerate(STRANGE_NAMES):
        assert store.counts("work", name) == (1, 1), name
        assert folders[name].display_name == clean_line(name)
        assert folder_label(folders[name]).plain == clean_line(name) + " 1"
    await account.connect()
    try:
        (uid,) = store.uids("work", "Bidi\u202eevil")
        await account.load_body("Bidi\u202eevil", uid)
        assert subject_of(1).encode() in (store.body("work", "Bidi\u202eevil", uid) or b"")
    finally:
        await account.disconnect()
        store.close()


def test_mailbag_sync_prints_such_names_cleaned(dovecot, mail_user, tmp_path):
    other = other_client(dovecot, mail_user)
    wire = f'"{utf7.encode("Bidi" + chr(0x202E) + "evil")}"'
    other.create(wire)
    other.append(wire, "", None, make_message(1))
    other.logout()
    config = write_config(tmp_path / "config.toml", dovecot, mail_user)

    result = run_mailbag("--config", str(config), "sync", password=mail_user.password)

    assert result.returncode == 0, result.stderr
    assert "work/Bidievil: 1/1 headers" in result.stdout
    assert "\u202e" not in result.stdout + result.stderr
