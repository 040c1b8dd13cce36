"""The one table of key bindings: widgets, the help screen and the command palette read it.

Every binding has an id (what the config's ``[keymap]`` table rebinds), vim-like default keys, a
description, and a scope telling which part of the UI owns it:

* ``pane``: held by each pane (folder tree, message list, reader), which implements the action;
* ``list``: held by the message list only (marks, collapsing a thread);
* ``tree``: held by the folder tree only (making, renaming, deleting, subscribing folders);
* ``reader``: held by the reader's body only (moving past and hiding quoted text, closing it when
  it has the whole screen);
* ``screen``: held by the main screen (moving between panes, triage, search, threads, sorting);
* ``compose``: held by the compose screen (send, editor, attachments, close);
* ``outbox``: held by the Outbox screen (send a message now, edit it, take it out of the outbox);
* ``links``: held by the list of a message's links (open one, copy one);
* ``attachments``: held by the attachments list (save one or all, open one, close it);
* ``app``: held by the application (help, quit).

Triage keys act on the marked messages, else a collapsed thread under the cursor, else the
message under the cursor, whichever pane has focus.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from textual.binding import Binding, BindingType

Scope = Literal["pane", "list", "tree", "reader", "screen", "compose", "outbox", "links", "attachments", "app"]
#: The scopes held by a screen of their own (not the main screen).
SCREEN_SCOPES: tuple[Scope, ...] = ("compose", "outbox", "links", "attachments")


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One rebindable key binding."""

    id: str
    keys: str  # default keys, comma separated, in Textual's key names
    action: str
    description: str
    scope: Scope
    show: bool = False  # shown in the footer
    #: Runs as the key arrives, before keys typed after it are handed to a widget: for keys
    #: that open a text field, so that what is typed next lands in the field.
    priority: bool = False


KEYS: tuple[KeySpec, ...] = (
    KeySpec("cursor_down", "j,down", "cursor_down", "Next line / message", "pane"),
    KeySpec("cursor_up", "k,up", "cursor_up", "Previous line / message", "pane"),
    KeySpec("first", "g,home", "first", "First message / top", "pane"),
    KeySpec("last", "G,end", "last", "Last message / bottom", "pane"),
    KeySpec("page_down", "pagedown,ctrl+d", "page_down", "Page down", "pane"),
    KeySpec("page_up", "pageup,ctrl+u", "page_up", "Page up", "pane"),
    KeySpec("open", "enter,l", "open", "Open folder / message", "pane"),
    KeySpec("back", "h,escape", "back", "Back (reader -> list -> folders)", "screen"),
    KeySpec("focus_next", "tab", "focus_next_pane", "Next pane", "screen"),
    KeySpec("focus_previous", "shift+tab", "focus_previous_pane", "Previous pane", "screen"),
    KeySpec("mark", "space", "mark", "Mark / unmark message, move down", "list"),
    KeySpec("mark_range", "V", "mark_range", "Start / end a range mark", "list"),
    KeySpec("mark_all", "asterisk", "mark_all", "Mark all messages in view", "list"),
    KeySpec("clear_marks", "escape", "clear_marks", "Clear marks, else back", "list"),
    KeySpec("toggle_thread", "z", "toggle_thread", "Collapse / expand thread", "list"),
    KeySpec("new_folder", "M", "new_folder", "New folder… (folder tree)", "tree"),
    KeySpec("rename_folder", "E", "rename_folder", "Rename folder… (folder tree)", "tree"),
    KeySpec("delete_folder", "X", "delete_folder", "Delete folder (folder tree, asks)", "tree"),
    KeySpec("subscribe_folder", "t", "subscribe_folder", "Subscribe / unsubscribe (folder tree)", "tree"),
    KeySpec("skip_quoted", "right_curly_bracket,S", "skip_quoted", "Skip past quoted text (reader)", "reader"),
    KeySpec("toggle_quotes", "z", "toggle_quotes", "Hide / show quoted text (reader)", "reader"),
    KeySpec("all_headers", "H", "all_headers", "All headers on / off (reader)", "reader"),
    KeySpec("raw_source", "U", "raw_source", "Message source on / off (reader)", "reader"),
    KeySpec("close_reader", "q", "close_reader", "Close the full-screen reader", "reader"),
    KeySpec("full_screen", "v", "full_screen", "Reader full screen / back", "screen"),
    KeySpec("layout", "w", "toggle_layout", "List beside / above the reader", "screen"),
    KeySpec("toggle_read", "N", "toggle_read", "Toggle read / unread", "screen"),
    KeySpec("toggle_flag", "F", "toggle_flag", "Toggle flagged", "screen"),
    KeySpec("delete", "d,delete", "delete", "Delete (to Trash)", "screen"),
    KeySpec("delete_permanently", "D", "delete_permanently", "Delete permanently (asks)", "screen"),
    KeySpec("archive", "a", "archive", "Archive", "screen"),
    KeySpec("junk", "exclamation_mark", "junk", "Mark as junk (to Junk)", "screen"),
    KeySpec("move", "m", "move", "Move to folder…", "screen", priority=True),
    KeySpec("copy", "C", "copy", "Copy to folder…", "screen", priority=True),
    KeySpec("undo", "u", "undo", "Undo last action", "screen"),
    KeySpec("search", "slash", "search", "Search", "screen", priority=True),
    KeySpec("threads", "T", "threads", "Thread view on / off", "screen"),
    KeySpec("toggle_all_threads", "Z", "toggle_all_threads", "Collapse / expand all threads", "screen"),
    KeySpec("sort", "o", "sort", "Sort by…", "screen"),
    KeySpec("reverse_sort", "O", "reverse_sort", "Reverse sort order", "screen"),
    KeySpec("compose", "c", "compose", "New message", "screen"),
    KeySpec("reply", "r", "reply", "Reply", "screen"),
    KeySpec("reply_all", "R", "reply_all", "Reply to all", "screen"),
    KeySpec("reply_list", "L", "reply_list", "Reply to the mailing list", "screen"),
    KeySpec("forward", "f", "forward", "Forward", "screen"),
    KeySpec("forward_attached", "ctrl+f", "forward_attached", "Forward as attachment", "screen"),
    KeySpec("edit_draft", "e", "edit_draft", "Edit draft (or as new)", "screen"),
    KeySpec("attachments", "A", "attachments", "Attachments: save, open", "screen"),
    KeySpec("save_message", "s", "save_message", "Save the message as .eml…", "screen", priority=True),
    KeySpec("pipe", "vertical_line", "pipe", "Pipe the message to a command…", "screen", priority=True),
    KeySpec("retry", "dollar_sign", "retry", "Reconnect, check POP3, retry set-aside", "screen"),
    KeySpec("sign_in", "I", "sign_in", "Sign in with OAuth2 (login refused)", "screen"),
    KeySpec("links", "ctrl+b", "links", "Links in the message…", "screen"),
    KeySpec("send", "ctrl+s", "send", "Send the message", "compose", priority=True),
    KeySpec("send_later", "ctrl+l", "send_later", "Send later…", "compose", priority=True),
    KeySpec("edit_body", "ctrl+o", "edit_body", "Edit the body in $EDITOR", "compose", priority=True),
    KeySpec("attach", "ctrl+t", "attach", "Attach a file…", "compose", priority=True),
    KeySpec("next_from", "ctrl+n", "next_from", "From: the next account (it sends)", "compose", priority=True),
    KeySpec("detach", "d,delete", "detach", "Remove the attachment", "compose"),
    KeySpec("close_compose", "escape", "close_compose", "Close (keep or discard)", "compose"),
    KeySpec("outbox", "W", "outbox", "Outbox (waiting, held, uncertain)", "screen"),
    KeySpec("outbox_send", "s", "send_now", "Send now (outbox)", "outbox"),
    KeySpec("outbox_edit", "e", "edit_outgoing", "Edit in the compose screen (outbox)", "outbox"),
    KeySpec("outbox_cancel", "d,delete", "cancel_outgoing", "Take out of the outbox", "outbox"),
    KeySpec("outbox_close", "escape,h", "close_outbox", "Close the outbox", "outbox"),
    KeySpec("links_open", "enter,o", "open_link", "Open the link (asks first)", "links"),
    KeySpec("links_copy", "y,c", "copy_link", "Copy the link to the clipboard", "links"),
    KeySpec("links_close", "escape,q", "close_links", "Close the list of links", "links"),
    KeySpec("attach_save", "s", "save", "Save the attachment… (attachments)", "attachments"),
    KeySpec("attach_save_all", "S", "save_all", "Save every attachment… (attachments)", "attachments"),
    KeySpec("attach_open", "enter,o", "open", "Open with its program (attachments)", "attachments"),
    KeySpec("attach_close", "escape,q,h", "close", "Close the attachments list", "attachments"),
    KeySpec("help", "question_mark", "help", "Show keys", "app", show=True),
    KeySpec("quit", "q", "quit", "Quit", "app", show=True),
)

BY_ID: dict[str, KeySpec] = {spec.id: spec for spec in KEYS}
#: Actions whose keys run at once (see ``KeySpec.priority``); a text field with the focus keeps
#: their keys as text.
PRIORITY_ACTIONS = frozenset(spec.action for spec in KEYS if spec.priority)


def bindings(scope: Scope) -> list[BindingType]:
    """Textual bindings of one scope, each carrying its id so ``App.set_keymap`` can rebind it."""
    return [
        Binding(spec.keys, spec.action, spec.description, show=spec.show, priority=spec.priority, id=spec.id)
        for spec in KEYS
        if spec.scope == scope
    ]


class KeymapError(ValueError):
    """A bad ``[keymap]`` entry: ``binding_id`` names it, ``problem`` says what is wrong."""

    def __init__(self, binding_id: str, problem: str) -> None:
        self.binding_id = binding_id
        self.problem = problem
        super().__init__(f"keymap.{binding_id}: {problem}")


def validate_keymap(keymap: Mapping[str, str]) -> dict[str, str]:
    """Check a ``[keymap]`` table (binding id -> "key,key"); raise KeymapError naming a bad entry,
    also one that binds a key another action keeps."""
    result: dict[str, str] = {}
    for binding_id, keys in keymap.items():
        if binding_id not in BY_ID:
            known = ", ".join(sorted(BY_ID))
            raise KeymapError(binding_id, f"unknown key binding id; known ids: {known}")
        if not isinstance(keys, str) or not [k for k in keys.split(",") if k.strip()]:
            raise KeymapError(binding_id, f'needs keys like "j,down", got {keys!r}')
        result[binding_id] = ",".join(k.strip() for k in keys.split(",") if k.strip())
    for binding_id, keys in result.items():
        for key in keys.split(","):
            other = _holder(key, binding_id, result)
            if other is not None:
                raise KeymapError(
                    binding_id,
                    f'"{key}" is already bound to {other.id}: rebind that too, or choose another key',
                )
    return result


def _holder(key: str, binding_id: str, keymap: Mapping[str, str]) -> KeySpec | None:
    """Another binding that has ``key`` once ``keymap`` is applied (overlaps the defaults already
    have on purpose, like Esc for both "back" and "clear marks", are not conflicts)."""
    own = BY_ID[binding_id]
    own_defaults = own.keys.split(",")
    for spec in KEYS:
        if spec.id == binding_id or key not in effective_keys(spec, keymap).split(","):
            continue
        if not _together(own.scope, spec.scope):
            continue  # held by different screens: never both in reach
        if key in own_defaults and key in spec.keys.split(","):
            continue
        return spec
    return None


def _together(first: Scope, second: Scope) -> bool:
    """Bindings of these scopes can be in reach at once (on the same screen, or the app's)."""
    if "app" in (first, second):
        return True
    return (first if first in SCREEN_SCOPES else "main") == (second if second in SCREEN_SCOPES else "main")


_KEY_NAMES = {
    "question_mark": "?",
    "escape": "Esc",
    "enter": "Enter",
    "tab": "Tab",
    "shift+tab": "Shift+Tab",
    "pagedown": "PgDn",
    "pageup": "PgUp",
    "home": "Home",
    "end": "End",
    "down": "Down",
    "up": "Up",
    "space": "Space",
    "asterisk": "*",
    "exclamation_mark": "!",
    "slash": "/",
    "right_curly_bracket": "}",
    "delete": "Del",
    "dollar_sign": "$",
    "vertical_line": "|",
}


def display_keys(keys: str) -> str:
    """Keys as the help screen shows them: ``"j,down"`` -> ``"j, Down"``."""
    names = []
    for key in keys.split(","):
        key = key.strip()
        if key in _KEY_NAMES:
            names.append(_KEY_NAMES[key])
        elif key.startswith("ctrl+"):
            names.append("Ctrl+" + key[5:])
        else:
            names.append(key)
    return ", ".join(names)


def effective_keys(spec: KeySpec, keymap: Mapping[str, str]) -> str:
    """The keys a binding has once the user's keymap is applied."""
    return keymap.get(spec.id, spec.keys)


def key_label(binding_id: str, keymap: Mapping[str, str]) -> str:
    """The first key of a binding once ``keymap`` is applied, as the screen names it: what a
    message tells the user to press (``key_label("retry", {})`` -> ``"$"``)."""
    return display_keys(effective_keys(BY_ID[binding_id], keymap).split(",")[0])
