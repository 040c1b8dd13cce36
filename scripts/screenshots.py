"""Regenerate screenshots/ from the demo mailbox: the main screen with a conversation open, the
full-screen reader, compose, search results, the thread view and the setup screen, at 80x24 and
120x40, as SVG (Textual's own) and as PNG (the SVG rendered by headless Chromium).

Run through scripts/screenshots, which installs Chromium and the fonts first. Usage:
``screenshots.py CHROMIUM [NAME...]`` (no names: every screen).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path

from textual.app import App
from textual.pilot import Pilot

from mailbag.domain.config import Config
from mailbag.domain.discovery import Found, ServerChoice
from mailbag.domain.new_account import NewAccount
from mailbag.services.demo import DEMO_ACCOUNT, DEMO_EMAIL, DEMO_NAME, build_demo_mailbox, demo_account
from mailbag.services.mail import MailService
from mailbag.store.store import Store
from mailbag.ui.app import MailbagApp
from mailbag.ui.screens.compose import ComposeScreen
from mailbag.ui.screens.setup import ServersScreen
from mailbag.ui.setup_app import SetupApp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from svg_png import align_wide_cells, render_png  # noqa: E402

#: A fixed clock, so the pictures change only when the screens do.
NOW = datetime(2026, 11, 28, 18, 0, tzinfo=timezone.utc)
SIZES = [(80, 24), (120, 40)]
#: The conversation the demo opens on.
SUBJECT = "Re: Team weekend at the lake house"
#: What the reply in the compose picture says.
REPLY = "Lovely plan, thank you! I'll pick up Ole on Friday if Bob's car is full."

Steps = Callable[[Pilot[object]], Awaitable[None]]


async def until(pilot: Pilot[object], ready: Callable[[], bool], what: str) -> None:
    """Pause until ``ready()``, then let the workers and the screen settle; fail after 20 s."""
    for _ in range(400):
        if ready():
            break
        await pilot.pause(0.05)
    else:
        raise RuntimeError(f"gave up waiting for {what}")
    for _ in range(2):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.3)  # the reader's and the search's debounce timers


def main_screen(app: App[object]) -> MailbagApp:
    assert isinstance(app, MailbagApp)
    return app


async def conversation_open(pilot: Pilot[object]) -> None:
    """The Inbox with its newest message, a conversation, in the reader."""
    screen = main_screen(pilot.app).main_screen

    def shown() -> bool:
        message = screen.reader.message
        return message is not None and message.subject == SUBJECT

    await until(pilot, shown, "the conversation in the reader")


async def full_screen_reader(pilot: Pilot[object]) -> None:
    await conversation_open(pilot)
    await pilot.press("v")
    await until(pilot, lambda: True, "the full-screen reader")


async def thread_view(pilot: Pilot[object]) -> None:
    await conversation_open(pilot)
    await pilot.press("T")
    await until(pilot, lambda: True, "the thread view")


async def search_results(pilot: Pilot[object]) -> None:
    await conversation_open(pilot)
    screen = main_screen(pilot.app).main_screen
    await pilot.press("slash", *"release", "enter")
    await until(pilot, lambda: screen.message_list.current_row is not None
                and "2.4" in screen.message_list.current_row.subject, "the search results")


async def compose_reply(pilot: Pilot[object]) -> None:
    await conversation_open(pilot)
    await pilot.press("R")
    await until(pilot, lambda: isinstance(pilot.app.screen, ComposeScreen), "the compose screen")
    await pilot.press(*REPLY)
    await until(pilot, lambda: True, "the typed reply")


class FoundFacade:
    """The setup's service with the answer an autoconfig document would give, and no network."""

    def __init__(self, found: Found) -> None:
        self._found = found

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def find(self, address: str) -> concurrent.futures.Future[Found]:
        future: concurrent.futures.Future[Found] = concurrent.futures.Future()
        future.set_result(self._found)
        return future

    def check(
        self, path: Path, account: NewAccount, typed_password: str | None, typed_smtp: str | None = None
    ) -> concurrent.futures.Future[None]:
        raise RuntimeError("the screenshots never test a login")

    def save(
        self, path: Path, account: NewAccount, typed_password: str | None, typed_smtp: str | None = None
    ) -> concurrent.futures.Future[Config]:
        raise RuntimeError("the screenshots never write a config")

    def keyring_missing(self) -> concurrent.futures.Future[str | None]:
        raise RuntimeError("the screenshots never reach the password step")


SETUP_FOUND = Found(
    source="autoconfig",
    imap=ServerChoice("imap", "imap.mailbag.example", 993, "tls", DEMO_EMAIL),
    smtp=ServerChoice("smtp", "smtp.mailbag.example", 465, "tls", DEMO_EMAIL),
    where="https://autoconfig.mailbag.example/mail/config-v1.1.xml",
)


async def servers_found(pilot: Pilot[object]) -> None:
    """The setup's second step: the servers autoconfig named, ready to edit."""
    await pilot.press(*DEMO_EMAIL, "enter", *DEMO_NAME, "enter")

    def shown() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, ServersScreen) and not screen.query_one("#server-form").disabled

    await until(pilot, shown, "the servers found")


#: name -> what is done before the picture is taken ("setup" runs the setup app)
SHOTS: dict[str, Steps] = {
    "main": conversation_open,
    "reader": full_screen_reader,
    "compose": compose_reply,
    "search": search_results,
    "threads": thread_view,
    "setup": servers_found,
}


async def shoot(name: str, size: tuple[int, int], tmp: Path, out_dir: Path) -> Path:
    """Run the app for shot ``name`` at ``size`` and save its SVG; returns the SVG's path."""
    work = Path(tempfile.mkdtemp(prefix=f"{name}-{size[0]}-", dir=tmp))
    app: App[object]
    store: Store | None = None
    if name == "setup":
        app = SetupApp(work / "config.toml", FoundFacade(SETUP_FOUND))  # type: ignore[assignment]
    else:
        maildir = build_demo_mailbox(work / "Mail", now=NOW)
        config = Config(path=None, accounts={DEMO_ACCOUNT: demo_account(maildir)})
        store = Store.open(work / "cache.sqlite3")
        opened = store
        app = MailbagApp(lambda sink: MailService(config, opened, sink), now=lambda: NOW)  # type: ignore[assignment]
    svg = out_dir / f"{name}-{size[0]}x{size[1]}.svg"
    try:
        async with app.run_test(size=size) as pilot:
            await SHOTS[name](pilot)
            text = app.export_screenshot(title="mailbag")
            svg.write_text(align_wide_cells(text), encoding="utf-8")
            app.exit()
    finally:
        if store is not None:
            store.close()
    return svg


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    chromium, names = argv[0], argv[1:] or list(SHOTS)
    unknown = [n for n in names if n not in SHOTS]
    if unknown:
        print(f"screenshots: no such screen: {', '.join(unknown)} (there are {', '.join(SHOTS)})",
              file=sys.stderr)
        return 2
    out_dir = Path(__file__).resolve().parent.parent / "screenshots"
    out_dir.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mailbag-shots-") as tmp:
        for name in names:
            for size in SIZES:
                svg = asyncio.run(shoot(name, size, Path(tmp), out_dir))
                png = render_png(svg, chromium, Path(tmp))
                print(svg.relative_to(out_dir.parent), png.relative_to(out_dir.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
