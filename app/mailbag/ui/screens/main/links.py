"""The links of the message in the reader: list them, open one (after asking), copy one.

The links are read from the message's source in a thread (:func:`message_links`). Opening asks
first; a mailto link opens the compose screen with its address and subject, an http(s) link
goes to the browser (:mod:`mailbag.services.browser`); no other scheme is opened. Copying goes
through the terminal (OSC 52), so it reaches the clipboard of the machine in front of the user,
over SSH too.
"""

from __future__ import annotations

from textual import work

from mailbag.domain.compose import new_draft
from mailbag.domain.links import Link, message_links
from mailbag.domain.mailto import parse_mailto
from mailbag.services.browser import BrowserFailed, open_in_browser
from mailbag.ui.messages import ComposeRequested
from mailbag.ui.screens.dialogs import ConfirmDialog
from mailbag.ui.screens.link_picker import LinkAction, LinkPicker
from mailbag.ui.screens.main.base import MainScreenBase, MessageKey

#: A target is named in the status bar and the question to this many characters.
NAMED_CHARS = 120


def _named(target: str) -> str:
    return target if len(target) <= NAMED_CHARS else target[: NAMED_CHARS - 1] + "…"


class LinkControl(MainScreenBase):
    """The links key and what follows it."""

    def action_links(self) -> None:
        """List the links of the message the reader shows."""
        key = self.reader.shown
        if key is None or key != self._wanted or not self._reader_complete:
            self.app.bell()
            self.status.set_notice("No message in the reader")
            return
        self._read_links(key)

    @work(thread=True, exclusive=True, group="links")
    def _read_links(self, key: MessageKey) -> None:
        raw = self.facade.raw_message(*key)
        links = message_links(raw) if raw is not None else None
        self.app.call_from_thread(self._links_ready, key, links)

    def _links_ready(self, key: MessageKey, links: list[Link] | None) -> None:
        if key != self.reader.shown:
            return  # the reader moved on meanwhile
        if links is None:
            self.status.set_notice("The source of this message is not in the cache")
        elif not links:
            self.status.set_notice("No links in this message")
        else:
            keymap: dict[str, str] = getattr(self.app, "user_keymap", None) or {}
            self.app.push_screen(LinkPicker(links, keymap), lambda chosen: self._link_chosen(key, chosen))

    def _link_chosen(self, key: MessageKey, chosen: tuple[LinkAction, Link] | None) -> None:
        if chosen is None:
            return
        action, link = chosen
        if action == "copy":
            self.app.copy_to_clipboard(link.target)
            self.status.set_notice(f"Copied {_named(link.target)}")
        elif not link.openable:
            self.status.set_error(f"mailbag opens only http, https and mailto links, not {link.scheme or 'this'}:")
        else:
            warning = f" The text says {link.text_domain}." if link.text_domain else ""
            question = f"Open {_named(link.target)}?{warning}"
            self.app.push_screen(ConfirmDialog(question), lambda yes: self._open_link(key, link) if yes else None)

    def _open_link(self, key: MessageKey, link: Link) -> None:
        if link.scheme == "mailto":
            fields = parse_mailto(link.target)
            identity = self.facade.identity(key[0])
            draft = new_draft(identity, to=fields.to, cc=fields.cc, subject=fields.subject, body=fields.body)
            self.post_message(ComposeRequested(draft))
            return
        try:
            open_in_browser(link.target, self._browser_ended)
        except BrowserFailed as error:
            self.status.set_error(str(error))
            return
        self.status.set_notice(f"Opening {_named(link.target)}")

    def _browser_ended(self, command: list[str], status: int) -> None:
        """Called from the thread that waited for the browser: a failure is told."""
        if status == 0:
            return
        try:
            self.app.call_from_thread(self.status.set_error, f"{command[0]} exited with status {status}")
        except RuntimeError:  # mailbag has quit meanwhile
            pass
