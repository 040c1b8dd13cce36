"""Folders made, renamed and deleted through every facade (the fake, a Maildir account, Dovecot):
the tree, the lists, search and the counts follow, and what is refused says why."""

from __future__ import annotations

import asyncio

from mailbag.domain.events import ActionApplied, RequestDone, RequestFailed
from mailbag.domain.requests import CreateFolder, DeleteFolder, MoveMessages, RenameFolder, Request
from tests.conformance import test_facade
from tests.conformance.test_facade import Subject
from tests.ui.fake_facade import FakeFacade

subject = test_facade.subject  # the facade under test (fixture)


async def answer(subject: Subject, request: Request) -> RequestDone | RequestFailed:
    """Submit ``request`` and wait for its one terminal answer."""
    subject.facade.submit(request)
    rid = request.request_id
    await subject.wait_for(lambda e: isinstance(e, (RequestDone, RequestFailed)) and e.request_id == rid)
    (reply,) = [e for e in subject.events if isinstance(e, (RequestDone, RequestFailed)) and e.request_id == rid]
    return reply


def names(subject: Subject) -> set[str]:
    return {f.name for f in subject.facade.folders("home")}


def notices(subject: Subject) -> list[str]:
    return [e.description for e in subject.events if isinstance(e, ActionApplied)]


async def filed(subject: Subject, folder: str, message: str) -> None:
    """Move one message of the Inbox to ``folder`` and wait until the server has done it."""
    row = subject.row(message)
    subject.facade.submit(MoveMessages(account="home", folder="INBOX", uids=(row.uid,), target=folder))
    if isinstance(subject.facade, FakeFacade):  # the UI tests answer for the server this way
        subject.facade.apply(MoveMessages(account="home", folder="INBOX", uids=(row.uid,), target=folder))
        subject.facade.add_message("home", folder, row_id=900, subject=message, sender=row.sender)
        return
    await subject.wait_for(lambda e: isinstance(e, ActionApplied) and e.on_server and folder in e.description)
    for _ in range(600):
        if subject.subjects(subject.facade.message_index("home", folder)) == [message]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{message} never showed in {folder}")


async def test_a_folder_made_shows_in_the_tree(subject: Subject) -> None:
    reply = await answer(subject, CreateFolder(account="home", name="Projects"))
    assert isinstance(reply, RequestDone)
    assert "Projects" in names(subject)
    assert "Folder Projects created" in notices(subject)
    nested = await answer(subject, CreateFolder(account="home", name="Projects/Zoë"))
    assert isinstance(nested, RequestDone)
    assert "Projects/Zoë" in names(subject)
    again = await answer(subject, CreateFolder(account="home", name="Projects"))
    assert isinstance(again, RequestFailed) and again.error


async def test_a_renamed_folder_keeps_its_messages_and_search_finds_them_there(subject: Subject) -> None:
    await answer(subject, CreateFolder(account="home", name="Old"))
    await filed(subject, "Old", "Lunch on Friday")
    reply = await answer(subject, RenameFolder(account="home", folder="Old", new_name="New"))
    assert isinstance(reply, RequestDone)
    assert "New" in names(subject) and "Old" not in names(subject)
    assert subject.subjects(subject.facade.message_index("home", "New")) == ["Lunch on Friday"]
    found = subject.facade.local_search("lunch", account="home", folder="New")
    assert subject.subjects(found.row_ids) == ["Lunch on Friday"]
    assert not subject.facade.local_search("lunch", account="home", folder="Old").row_ids
    assert "Folder Old renamed to New" in notices(subject)


async def test_a_deleted_folder_takes_its_messages_out_of_lists_and_search(subject: Subject) -> None:
    await answer(subject, CreateFolder(account="home", name="Doomed"))
    await filed(subject, "Doomed", "Build failure")
    reply = await answer(subject, DeleteFolder(account="home", folder="Doomed"))
    assert isinstance(reply, RequestDone)
    assert "Doomed" not in names(subject)
    assert not subject.facade.local_search("build").row_ids
    assert "Folder Doomed deleted" in notices(subject)


async def test_the_inbox_is_never_deleted(subject: Subject) -> None:
    reply = await answer(subject, DeleteFolder(account="home", folder="INBOX"))
    assert isinstance(reply, RequestFailed) and "Inbox cannot be deleted" in reply.error
    assert "INBOX" in names(subject)
    assert len(subject.facade.message_index("home", "INBOX")) == len(test_facade.SAMPLES)


async def test_renaming_or_deleting_an_unknown_folder_says_so(subject: Subject) -> None:
    for request in (
        RenameFolder(account="home", folder="Nowhere", new_name="Somewhere"),
        DeleteFolder(account="home", folder="Nowhere"),
    ):
        reply = await answer(subject, request)
        assert isinstance(reply, RequestFailed) and "Nowhere" in reply.error
