"""The attachments of the message in the reader: name, type and size; save one or all into a
folder (chosen with completion), or open one with its program."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from mailbag.domain.mime import extract_part
from mailbag.domain.models import Attachment
from mailbag.domain.sanitize import clean_line
from mailbag.domain.wording import plural
from mailbag.services.api import MailFacade
from mailbag.services.opening import OpenFailed, private_copy, remove_copy, run_in_foreground, start_detached
from mailbag.services.saving import SaveError, save_as_new
from mailbag.services.viewers import Viewer, find_viewer
from mailbag.ui.completion import PathSuggester
from mailbag.domain.wording import human_size
from mailbag.ui.keymap import BY_ID, bindings, display_keys, effective_keys
from mailbag.ui.saving import SaveFolder, Tell, save_bytes
from mailbag.ui.screens.prompt import PromptScreen
from mailbag.ui.terminal import with_terminal
from mailbag.ui.widgets.line_list import LineList

MessageKey = tuple[str, str, int]


def attachment_line(attachment: Attachment) -> Text:
    """One row: the name, then its type and size, dimmed."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(clean_line(attachment.filename) or "(unnamed)")
    text.append(f"  {clean_line(attachment.content_type)}  {human_size(attachment.size)}", style="dim")
    return text


class AttachmentsScreen(ModalScreen[None]):
    """Lists a message's attachments; its keys save, save all, open, and close."""

    BINDINGS = bindings("attachments")
    DEFAULT_CSS = """
    AttachmentsScreen { align: center middle; }
    AttachmentsScreen > Vertical {
        width: 90%; max-width: 100; height: auto; max-height: 90%;
        border: round $primary; background: $panel; padding: 0 1;
    }
    AttachmentsScreen #attachments-title { text-style: bold; }
    AttachmentsScreen LineList { height: auto; max-height: 16; background: $panel; }
    AttachmentsScreen #attachments-notice { height: auto; }
    AttachmentsScreen #attachments-help { color: $text-muted; }
    """

    def __init__(
        self,
        facade: MailFacade,
        key: MessageKey,
        attachments: Sequence[Attachment],
        folder: SaveFolder,
        keymap: dict[str, str] | None = None,
        *,
        tell_after: Tell | None = None,
    ) -> None:
        super().__init__()
        self.tell_after = tell_after  # where to say what ends after the list has closed
        self.facade = facade
        self.key = key
        self.attachments = tuple(attachments)
        self.folder = folder
        self.keymap = keymap or {}
        self.notice = ""  # the last thing said (what was saved or opened, or why not)

    def compose(self) -> ComposeResult:
        count = len(self.attachments)
        with Vertical():
            yield Static(Text(plural(count, "attachment")), id="attachments-title")
            yield LineList(self.attachments, attachment_line, id="attachments-list")
            yield Static(Text(""), id="attachments-notice")
            yield Static(self._help(), id="attachments-help")

    def _help(self) -> Text:
        words = (("attach_save", "save"), ("attach_save_all", "save all"),
                 ("attach_open", "open"), ("attach_close", "back"))
        keys = [(display_keys(effective_keys(BY_ID[b], self.keymap)), w) for b, w in words]
        return Text("  ".join(f"{k} {w}" for k, w in keys))

    def on_mount(self) -> None:
        self.query_one(LineList).focus()

    def tell(self, text: str, error: bool = False) -> None:
        """Say ``text`` under the list (an error in the error colour)."""
        self.notice = clean_line(text)
        if not self.is_attached:  # closed meanwhile
            if self.tell_after is not None:
                self.tell_after(text, error)
            return
        self.query_one("#attachments-notice", Static).update(
            Text(self.notice, style="bold red" if error else "")
        )

    @property
    def current(self) -> Attachment | None:
        listing: LineList[Attachment] = self.query_one(LineList)
        return listing.current

    def action_close(self) -> None:
        self.dismiss(None)

    def _read(self, attachment: Attachment) -> tuple[str, bytes]:
        """The attachment's safe name and bytes (call in a thread)."""
        raw = self.facade.raw_message(*self.key)
        if raw is None:
            raise LookupError("the message is no longer in the cache")
        name, data = extract_part(raw, attachment)  # the part alone, from its span
        return name or attachment.filename, data

    # --- saving ---------------------------------------------------------------------------------

    def action_save(self) -> None:
        attachment = self.current
        if attachment is None:
            return
        self._ask_folder(f"Save {clean_line(attachment.filename)} to", lambda folder: save_bytes(
            self, folder, lambda: self._read(attachment), self.tell))

    def action_save_all(self) -> None:
        if self.attachments:
            self._ask_folder(f"Save all {len(self.attachments)} to", self._save_all)

    def _ask_folder(self, label: str, then: object) -> None:
        def answered(typed: str | None) -> None:
            if typed:
                then(self.folder.chosen(typed))  # type: ignore[operator]

        self.app.push_screen(
            PromptScreen(f"{label}:", self.folder.shown, suggester=PathSuggester()), answered
        )

    @work(thread=True, exclusive=True, group="save-all")
    def _save_all(self, folder: Path) -> None:
        """Every attachment into ``folder``; a name taken gets `` (1)``, nothing is replaced."""
        saved: list[str] = []
        renamed = 0
        for attachment in self.attachments:
            try:
                name, data = self._read(attachment)
                path = save_as_new(folder, name, data)
            except (SaveError, ValueError, LookupError) as exc:
                self.app.call_from_thread(self.tell, f"Saved {len(saved)}, then stopped: {exc}", True)
                return
            saved.append(path.name)
            renamed += path.name != name
        note = f" ({renamed} under a new name, as a file of that name was there)" if renamed else ""
        self.app.call_from_thread(self.tell, f"Saved {len(saved)} attachments to {folder}{note}")

    # --- opening --------------------------------------------------------------------------------

    def action_open(self) -> None:
        attachment = self.current
        if attachment is not None:
            self.tell(f"Opening {attachment.filename}…")
            self._open(attachment)

    @work(thread=True, exclusive=True, group="open")
    def _open(self, attachment: Attachment) -> None:
        try:
            name, data = self._read(attachment)
            path = private_copy(name, data)
        except (ValueError, LookupError, OSError) as exc:
            self.app.call_from_thread(self.tell, f"Cannot open {attachment.filename}: {exc}", True)
            return
        viewer = find_viewer(attachment.content_type, path)
        if viewer is None:
            remove_copy(path)
            self.app.call_from_thread(
                self.tell, f"No program opens {attachment.content_type}: no mailcap entry, no xdg-open", True
            )
        elif viewer.needs_terminal:
            self.app.call_from_thread(self._run_on_terminal, viewer, path)
        else:
            self._start(viewer, path)

    def _run_on_terminal(self, viewer: Viewer, path: Path) -> None:
        try:
            status = with_terminal(self.app, lambda: run_in_foreground(viewer, path))
        except OpenFailed as exc:
            self.tell(str(exc), True)
            return
        self.tell(f"{viewer.name} exited with status {status}" if status else f"Closed {viewer.name}", bool(status))

    def _start(self, viewer: Viewer, path: Path) -> None:
        """In a thread: start a desktop program, and say so; a failure it reports later is told."""
        try:
            process = start_detached(viewer, path)
        except OpenFailed as exc:
            self.app.call_from_thread(self.tell, str(exc), True)
            return
        self.app.call_from_thread(self.tell, f"Opened {path.name} with {viewer.name}")
        app = self.app

        def watch() -> None:
            status = process.wait()
            if status:
                try:
                    app.call_from_thread(self.tell, f"{viewer.name} exited with status {status}", True)
                except RuntimeError:  # the app has ended meanwhile
                    pass

        threading.Thread(target=watch, name="viewer-watch", daemon=True).start()
