"""The app over the real services (MailService, the cache, a Maildir account or the private
Dovecot), with every request the UI submits recorded, so a test can see what the keys sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from textual.pilot import Pilot

from mailbag.domain.config import AccountConfig, Config
from mailbag.domain.events import Event, EventSink
from mailbag.domain.requests import DeleteMessages, MoveMessages, Request, SetFlags
from mailbag.protocols.maildir import MaildirStore
from mailbag.services.mail import MailService
from mailbag.store.store import Store
from mailbag.ui.app import MailbagApp
from tests.servers.messages import BASE_DATE
from tests.ui.fake_facade import NOW

#: The folders every test Maildir has besides the Inbox.
MAILDIR_FOLDERS = ("Archive", "Junk", "Trash", "Sent")
TRIAGE = (SetFlags, MoveMessages, DeleteMessages)


class RecordingService(MailService):
    """MailService that keeps every request the UI submits, and every event its workers report
    (each kept once it is on its way to the UI)."""

    def __init__(self, config: Config, store: Store, sink: EventSink) -> None:
        super().__init__(config, store, sink)
        self.requests: list[Request] = []
        self.events: list[Event] = []

    def _relay(self, event: Event) -> None:
        super()._relay(event)
        self.events.append(event)

    def submit(self, request: Request) -> int:
        self.requests.append(request)
        return super().submit(request)

    def triage_requests(self) -> list[Request]:
        return [r for r in self.requests if isinstance(r, TRIAGE)]


def simple_message(
    n: int, subject: str | None = None, body: str | None = None, sender: str = "Alice <alice@example.test>"
) -> bytes:
    """Message number ``n`` (newer for a higher ``n``); the body says which one it is."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "Me <me@example.test>"
    msg["Subject"] = subject if subject is not None else f"Message {n}"
    msg["Date"] = format_datetime(BASE_DATE.replace(day=1 + n % 28, hour=n // 28 % 24))
    msg["Message-ID"] = f"<m{n}@example.test>"
    msg.set_content(body if body is not None else f"This is the body of message {n}.\n")
    return msg.as_bytes()


def maildir_config(
    root: Path, inbox: Iterable[bytes], *, name: str = "home", more: dict[str, Sequence[bytes]] | None = None,
    searches: dict[str, str] | None = None, second: Path | None = None,
) -> Config:
    """A config with one Maildir account ``name`` whose Inbox holds ``inbox`` (unread); ``second``
    adds another, empty Maildir account "other" (so that "All inboxes" exists)."""
    store = MaildirStore(root, name, create=True)
    for folder in MAILDIR_FOLDERS:
        store.create_folder(folder)
    store.add_many("INBOX", [(raw, ()) for raw in inbox])
    for folder, raws in (more or {}).items():
        if folder not in MAILDIR_FOLDERS and folder != "INBOX":
            store.create_folder(folder)
        store.add_many(folder, [(raw, ()) for raw in raws])
    accounts = {name: AccountConfig(name=name, email="me@example.test", default=True, maildir=root)}
    if second is not None:
        MaildirStore(second, "other", create=True)
        accounts["other"] = AccountConfig(name="other", email="other@example.test", maildir=second)
    return Config(path=None, accounts=accounts, searches=searches or {})


def real_app(config: Config, store: Store) -> MailbagApp:
    """The app over a RecordingService (reach it as ``app.facade``), with the tests' frozen clock."""
    return MailbagApp(lambda sink: RecordingService(config, store, sink), now=lambda: NOW)


def service(app: MailbagApp) -> RecordingService:
    facade = app.facade
    assert isinstance(facade, RecordingService)
    return facade


async def wait_until(pilot: Pilot, predicate: Callable[[], bool], what: str = "", timeout: float = 30.0) -> None:
    """Let the app run until ``predicate()`` holds (the services do real work in real time);
    the timeout only stops a test that would otherwise hang."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            header, body = reader_text(pilot.app)  # type: ignore[arg-type]
            raise AssertionError(f"the app never got there: {what}; the reader shows {header[:200]!r}, {body[:200]!r}")
        await pilot.pause(0.05)


def reader_text(app: MailbagApp) -> tuple[str, str]:
    """The reader's header and body as shown."""
    reader = app.main_screen.reader
    return str(reader.header.render()), reader.body.text


@asynccontextmanager
async def running(config: Config, db: Path, count: int, size: tuple[int, int] = (100, 30)) -> AsyncIterator[
    tuple[MailbagApp, Pilot, Store]
]:
    """The app over ``config``, its cache in ``db``, once its Inbox shows ``count`` rows; quits
    and closes the cache at the end."""
    store = Store.open(db)
    app = real_app(config, store)
    try:
        async with app.run_test(size=size) as pilot:
            await ready(pilot, app, count)
            yield app, pilot, store
            await pilot.press("q")
    finally:
        store.close()


async def ready(pilot: Pilot, app: MailbagApp, count: int) -> None:
    """Wait until the Inbox shows ``count`` rows and the services are started."""
    await wait_until(pilot, lambda: app.main_screen.message_list.row_count == count, f"{count} rows")
    await wait_until(pilot, lambda: service(app).indexer is not None, "services started")
