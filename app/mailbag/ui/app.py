"""The Textual application: wires the facade, themes and keymap to the main screen."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import SystemCommand
from textual.screen import Screen

from mailbag.domain.compose import Draft, StartCompose
from mailbag.domain.events import Event, EventSink, OutboxChanged, RequestFailed
from mailbag.services.api import MailFacade
from mailbag.services.opening import remove_left_copies
from mailbag.ui.drafts import DraftKeeper
from mailbag.ui.keymap import KEYS, SCREEN_SCOPES, Scope, bindings, display_keys, effective_keys, validate_keymap
from mailbag.ui.messages import ComposeRequested, DraftClosed, ServiceEvent
from mailbag.ui.ordered_app import OrderedApp
from mailbag.ui.screens.main import MainScreen
from mailbag.ui.screens.main.layout import LAYOUTS
from mailbag.ui.screens.outbox import OutboxScreen
from mailbag.ui.screens.sign_in import SignInScreen
from mailbag.ui.themes import choose_theme, load_themes

if TYPE_CHECKING:
    from mailbag.ui.screens.compose import ComposeScreen

log = logging.getLogger(__name__)

FacadeFactory = Callable[[EventSink], MailFacade]
NOTIFY_MODES = ("bell", "desktop", "both", "none")
#: The services start at the latest this many seconds after mount, even if no list has landed.
START_AT_LATEST = 2.0
#: How long another thread (the account workers' cache writes) may hold the interpreter while the
#: UI's thread waits for it; Python's default is 5 ms, and a key's frame can wait that long at
#: each hand-over (bench.pop3_keys, 4 runs each: p95 16-18 ms during a download against 19-26).
SWITCH_SECONDS = 0.001


def _local_now() -> datetime:
    return datetime.now().astimezone()


class MailbagApp(OrderedApp[None]):
    """mailbag's UI.

    The services report through an ``EventSink`` and the UI needs the facade to exist when it is
    built, so the app takes a *factory*: ``facade_factory(app.sink)`` is called once, in
    ``__init__``, and must return the facade without starting it. The app calls ``start()``
    once the first list is on screen, so that cached rows paint before any connection is set
    up; at once when the cache knows no folder yet or the first list is empty (its rows can only
    come from the server); after ``START_AT_LATEST`` seconds in any case. ``stop()`` on quit.
    ``sink`` may be called from any thread. ``notify`` is the config's new-mail setting: the UI
    rings the terminal bell for ``"bell"`` and ``"both"``; ``"desktop"`` and ``"none"`` keep it
    quiet (desktop notifications are the services' job).

    Raises ValueError (a message fit to show the user) for an unknown theme or keymap entry.
    """

    CSS_PATH = "main.tcss"
    TITLE = "mailbag"
    BINDINGS = bindings("app")

    #: Set by the caller: a crash this explains in one line (a damaged cache, a full disk) ends the
    #: app without a traceback, the line kept in ``explained_crash`` for the caller to print.
    explain_crash: Callable[[BaseException], str | None] | None = None
    explained_crash: str | None = None

    def __init__(
        self,
        facade_factory: FacadeFactory,
        *,
        theme: str = "mailbag-dark",
        keymap: Mapping[str, str] | None = None,
        themes_dir: Path | None = None,
        now: Callable[[], datetime] = _local_now,
        notify: str = "bell",
        threads: bool = False,
        editor: str = "",
        address_command: str = "",
        layout: str = "auto",
        start: StartCompose | None = None,
    ) -> None:
        super().__init__()
        sys.setswitchinterval(SWITCH_SECONDS)
        if notify not in NOTIFY_MODES:
            raise ValueError(f"notify must be one of {', '.join(NOTIFY_MODES)}; got {notify!r}")
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}; got {layout!r}")
        themes = load_themes(themes_dir)
        chosen = choose_theme(theme, themes)
        self.user_keymap = validate_keymap(keymap or {})
        for item in themes.values():
            self.register_theme(item)
        self.theme = chosen.name
        for name in list(self.available_themes):  # Textual's own: the config would refuse them
            if name not in themes:
                self.unregister_theme(name)
        self.set_keymap(self.user_keymap)
        self._now = now
        self.editor = editor  # the body editor's command ("" for $VISUAL / $EDITOR / vi)
        self.address_command = address_command  # the address book's query command ("" for none)
        self.facade = facade_factory(self.sink)
        self.drafts = DraftKeeper(self.facade, now)
        self.main_screen = MainScreen(
            self.facade, now=now, bell=notify in ("bell", "both"), threads=threads, layout=layout
        )
        self._started = False
        self._stopped = False
        self._starting: asyncio.Task[None] | None = None
        self._start_compose = start  # a new message to open at once (``mailbag compose``)

    def _fatal_error(self) -> None:
        """Textual's crash report, without the local variables it would print (they hold message
        bodies and headers); the traceback also goes to the log. Replaces App._fatal_error."""
        import rich
        from rich.segment import Segments
        from rich.traceback import Traceback

        log.error("unhandled error in the UI", exc_info=True)
        error = sys.exc_info()[1]
        if error is not None and self.explain_crash is not None:
            self.explained_crash = self.explain_crash(error)
            if self.explained_crash is not None:
                self._close_messages_no_wait()
                return
        self.bell()
        report = Traceback(show_locals=False, width=None, suppress=[rich])
        self._exit_renderables.append(Segments(self.console.render(report, self.console.options)))
        self._close_messages_no_wait()

    def takes_input(self) -> bool:
        """No keys or mouse buttons once quitting."""
        return not self._stopped

    def sink(self, event: Event) -> None:
        """The services' EventSink: hand the event to the UI loop. Safe from any thread while
        the app runs: off the app's thread, Textual's ``post_message`` crosses with the loop's
        ``call_soon_threadsafe``. An event that comes once the app has closed is dropped."""
        try:
            self.post_message(ServiceEvent(event))
        except RuntimeError:  # the app's loop closed between Textual's check and the hand-over
            pass

    async def on_mount(self) -> None:
        if not any(self.facade.folders(account) for account in self.facade.accounts):
            # A cache that was never filled has nothing to paint: the network goes first, and
            # the screen is built while the connection is set up.
            self._starting = asyncio.create_task(self._start_services())
        await self.push_screen(self.main_screen)
        self.set_timer(START_AT_LATEST, self._start_services)
        if self._start_compose is not None:  # drafts left by an earlier run wait for the next start
            start = self._start_compose
            self.post_message(ComposeRequested(start.draft(self.facade.identity(start.account))))
        else:
            self._offer_left_drafts()
        self.run_worker(remove_left_copies, thread=True, group="left-copies")

    @on(MainScreen.FirstView)
    def _first_view(self, message: MainScreen.FirstView) -> None:
        if message.has_rows:
            self.call_after_refresh(self._start_services)  # after the frame that shows them
        else:
            self.call_later(self._start_services)

    async def _start_services(self) -> None:
        """Start the facade (account connections, sync, indexing) once, unless quitting."""
        if self._started or self._stopped:
            return
        self._started = True
        await self.facade.start()

    def on_app_focus(self) -> None:
        """The terminal has the focus again: look for mail that came meanwhile."""
        self.main_screen.check_folders()

    def screens_closed(self) -> bool:
        """Whether the app is shutting down: Textual closes its screens before its message queue,
        so what is still queued (an event the services sent just before) finds none to show on."""
        return not self.is_running or not self.screen_stack

    def on_service_event(self, message: ServiceEvent) -> None:
        event = message.event
        if self.screens_closed():  # a draft stored then stays on disk, offered again: never lost
            log.debug("%s came after the screens were closed: dropped", type(event).__name__)
            return
        if isinstance(self.screen, SignInScreen) and self.screen.apply_event(event):
            return
        if isinstance(self.screen, OutboxScreen):
            if isinstance(event, OutboxChanged):
                self.screen.show(event.messages)
            elif isinstance(event, RequestFailed) and self.screen.answered(event.request_id, event.error):
                return
        self.main_screen.apply_event(event)
        stored = self.drafts.stored(event)
        if stored is not None:
            self.run_worker(partial(self.drafts.drop_local, stored), thread=True, group="drafts")
        for screen in self._compose_screens():
            screen.apply_event(event)

    def _compose_screens(self) -> list[ComposeScreen]:
        from mailbag.ui.screens.compose import ComposeScreen

        return [screen for screen in self.screen_stack if isinstance(screen, ComposeScreen)]

    @on(ComposeRequested)
    def _open_compose(self, message: ComposeRequested) -> None:
        from mailbag.ui.screens.compose import ComposeScreen

        screen = ComposeScreen(self.facade, message.draft, editor=self.editor, now=self._now,
                               address_command=self.address_command)
        self.push_screen(screen, self._compose_closed)
        if message.opened is not None:
            message.opened()

    def _compose_closed(self, notice: str | None) -> None:
        if notice:
            self.main_screen.status.set_notice(notice)

    def save_drafts_now(self) -> None:
        """Write every draft being written to disk at once (the app is about to be ended)."""
        for screen in self._compose_screens():
            try:
                screen.save_now()
            except OSError:
                log.exception("a draft could not be saved")

    @on(DraftClosed)
    def _draft_closed(self, message: DraftClosed) -> None:
        if message.keep:
            self.run_worker(partial(self.drafts.keep, message.draft), thread=True, group="drafts")
        else:
            self.run_worker(partial(self.drafts.forget, message.draft), thread=True, group="drafts")

    @work(thread=True, exclusive=True, group="left-drafts")
    def _offer_left_drafts(self) -> None:
        """Drafts on disk from an earlier run (killed, or kept while offline): offer them."""
        drafts = self.drafts.left_over()
        if drafts:
            self.call_from_thread(self._ask_about_drafts, drafts)

    def _ask_about_drafts(self, drafts: list[Draft]) -> None:
        from mailbag.ui.screens.dialogs import resume_drafts_dialog

        def answered(choice: str | None) -> None:
            if choice == "open":
                self.post_message(ComposeRequested(drafts[0]))
            elif choice == "discard":
                self.post_message(DraftClosed(drafts[0], keep=False))

        self.push_screen(resume_drafts_dialog(len(drafts)), answered)

    def action_status_in_full(self) -> None:
        """The status bar's last error or notice and each account's state, whole (the line cuts
        them at 80 columns); from the command palette, or a click on the line."""
        from mailbag.ui.screens.dialogs import TextDialog

        if not isinstance(self.screen, TextDialog):
            self.push_screen(TextDialog("Status", self.main_screen.status.in_full()))

    def action_help(self) -> None:
        from mailbag.ui.screens.help import HelpScreen  # imported on first use: not needed to start

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.user_keymap))

    async def action_quit(self) -> None:
        self.save_drafts_now()
        self.main_screen.stop_reading()  # quitting waits for the thread workers: a slow message must not hold it
        if not self._stopped:
            self._stopped = True
            self._keys.clear()  # keys typed after q are not for this session
            if self._starting is not None:
                await self._starting  # a start under way: let it finish, so stop() stops it all
            await self.facade.stop()
        self.exit()

    async def on_unmount(self) -> None:
        """An exit other than quit (an error, a test leaving its app) stops the services too."""
        if not self._stopped:
            self._stopped = True
            if self._starting is not None:
                await self._starting
            await self.facade.stop()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        ours = {spec.description for spec in KEYS}
        # Textual's own "Quit" would show next to mailbag's (which names its key).
        yield from (command for command in super().get_system_commands(screen) if command.title not in ours)
        own = _key_scope(screen)
        for spec in KEYS:
            if spec.scope != "app" and (spec.scope != own if own else spec.scope in SCREEN_SCOPES):
                continue  # another screen's keys
            keys = display_keys(effective_keys(spec, self.user_keymap))
            yield SystemCommand(spec.description, f"Keys: {keys}", self._command(spec.scope, spec.action, screen))
        yield SystemCommand(
            "Status in full", "The last error or notice and each account's state, not cut (or click the status bar)",
            self.action_status_in_full,
        )

    def _command(self, scope: str, action: str, screen: Screen) -> Callable[[], None]:
        def run() -> None:
            if scope in SCREEN_SCOPES:
                self.call_later(screen.run_action, action)
            elif scope == "pane":
                self.main_screen.run_pane_action(action)
            elif scope == "list":
                self.call_later(self.main_screen.message_list.run_action, action)
            elif scope == "tree":
                self.call_later(self.main_screen.folder_tree.run_action, action)
            elif scope == "reader":
                self.call_later(self.main_screen.reader.body.run_action, action)
            else:
                target = self if scope == "app" else self.main_screen
                self.call_later(target.run_action, action)

        return run


def _key_scope(screen: Screen) -> Scope | None:
    """The scope of the keys a screen holds itself (None: the main screen's scopes)."""
    from mailbag.ui.screens.attachments import AttachmentsScreen
    from mailbag.ui.screens.compose import ComposeScreen
    from mailbag.ui.screens.link_picker import LinkPicker

    if isinstance(screen, ComposeScreen):
        return "compose"
    if isinstance(screen, OutboxScreen):
        return "outbox"
    if isinstance(screen, LinkPicker):
        return "links"
    if isinstance(screen, AttachmentsScreen):
        return "attachments"
    return None
