"""The message under the cursor as files: its attachments (list, save, open), saving it as
``.eml``, and piping it to a command."""

from __future__ import annotations

import os

from textual import on, work

from mailbag.domain.mime import safe_filename
from mailbag.domain.models import MessageRow
from mailbag.services.piping import PipeResult, pipe_captured, pipe_on_terminal
from mailbag.ui.completion import PathSuggester
from mailbag.ui.saving import SaveFolder, save_bytes
from mailbag.ui.screens.main.base import MainScreenBase, MessageKey
from mailbag.ui.screens.prompt import PromptScreen
from mailbag.ui.terminal import with_terminal
from mailbag.ui.widgets.reader import Reader

#: A piped command that starts with this is given the terminal.
ON_TERMINAL = "!"


class FilesControl(MainScreenBase):
    """The keys that turn a message or its attachments into files or a command's input."""

    _save_folder: SaveFolder | None = None
    _attachments_waiting: MessageKey | None = None  # asked for before the reader showed it
    _last_pipe = ""

    @property
    def save_folder(self) -> SaveFolder:
        """Where saving starts: the last folder used."""
        if self._save_folder is None:
            self._save_folder = SaveFolder()
        return self._save_folder

    def _tell(self, text: str, error: bool = False) -> None:
        if error:
            self.status.set_error(text)
        else:
            self.status.set_notice(text)

    def _row(self) -> MessageRow | None:
        row = self.message_list.current_row
        if row is None:
            self.status.set_error("No message under the cursor")
        return row

    # --- attachments -----------------------------------------------------------------------------

    def action_attachments(self) -> None:
        """The attachments of the message under the cursor, once the reader shows it."""
        from mailbag.ui.screens.attachments import AttachmentsScreen

        row = self._row()
        if row is None:
            return
        key = (row.account, row.folder, row.uid)
        message = self.reader.message
        if key != self._wanted or not self._reader_complete or self.reader.shown != key or message is None:
            self._attachments_waiting = key  # listed once the reader shows it
            self.status.set_notice("Loading the message…")
            self.show_message(row, mark_read=False)
            return
        self._attachments_waiting = None
        if not message.attachments:
            self.status.set_notice("This message has no attachments")
            return
        keymap: dict[str, str] = getattr(self.app, "user_keymap", None) or {}
        self.app.push_screen(
            AttachmentsScreen(
                self.facade, key, message.attachments, self.save_folder, dict(keymap), tell_after=self._tell
            )
        )

    @on(Reader.Shown)
    def _shown_in_reader(self, message: Reader.Shown) -> None:
        """The message whose attachments were asked for is shown: list them, if the cursor is
        still on it."""
        row = self.message_list.current_row
        if self._attachments_waiting == message.key and row is not None:
            if (row.account, row.folder, row.uid) == message.key:
                self.action_attachments()
            self._attachments_waiting = None

    # --- the message as a file -------------------------------------------------------------------

    def action_save_message(self) -> None:
        """Save the message's bytes, as the server has them, to a ``.eml`` file."""
        row = self._row()
        if row is None:
            return
        key = (row.account, row.folder, row.uid)
        name = safe_filename(row.subject, "message") + ".eml"

        def answered(typed: str | None) -> None:
            if not typed:
                return
            expanded = os.path.expanduser(typed)
            if typed.endswith(os.sep) or os.path.isdir(expanded):
                folder, chosen = typed, name
            else:
                folder, chosen = os.path.dirname(typed) or ".", os.path.basename(expanded)
            save_bytes(self, self.save_folder.chosen(folder), lambda: (chosen, self._raw(key)), self._tell)

        self.app.push_screen(
            PromptScreen("Save message to:", self.save_folder.shown + name, suggester=PathSuggester()), answered
        )

    def _raw(self, key: MessageKey) -> bytes:
        """The message's bytes from the cache (call in a thread)."""
        raw = self.facade.raw_message(*key)
        if raw is None:
            raise LookupError("the message is not downloaded yet: open it first")
        return raw

    # --- piping ----------------------------------------------------------------------------------

    def action_pipe(self) -> None:
        """Pipe the message to a command typed at the prompt (mutt's ``|``)."""
        row = self._row()
        if row is None:
            return
        key = (row.account, row.folder, row.uid)

        def answered(command: str | None) -> None:
            if command and command != ON_TERMINAL:
                self._last_pipe = command
                self._pipe(key, command)

        self.app.push_screen(
            PromptScreen(
                "Pipe to:", self._last_pipe,
                placeholder=f"a command, given the message on its input ({ON_TERMINAL}command: with the terminal)",
            ),
            answered,
        )

    @work(thread=True, group="pipe")
    def _pipe(self, key: MessageKey, command: str) -> None:
        try:
            raw = self._raw(key)
        except LookupError as exc:
            self.app.call_from_thread(self._tell, f"Not piped: {exc}", True)
            return
        if command.startswith(ON_TERMINAL):
            self.app.call_from_thread(self._pipe_on_terminal, command[len(ON_TERMINAL):].strip(), raw)
            return
        self.app.call_from_thread(self._tell, "Piping the message…")
        result = pipe_captured(command, raw)
        self.app.call_from_thread(self._tell, result.summary(), result.status != 0)

    def _pipe_on_terminal(self, command: str, raw: bytes) -> None:
        result: PipeResult = with_terminal(self.app, lambda: pipe_on_terminal(command, raw))
        self._tell(result.summary(), result.status != 0)

