"""Folders from LIST / STATUS responses: decoded names, roles and counts."""

from __future__ import annotations

from mailbag.domain.folder_roles import role_by_name
from mailbag.domain.models import Folder, FolderRole
from mailbag.domain.sanitize import clean_line
from mailbag.protocols import utf7
from mailbag.protocols.imap.parser import Value, as_int, as_text, pairs

_SPECIAL_USE = {
    "\\sent": FolderRole.SENT,
    "\\trash": FolderRole.TRASH,
    "\\junk": FolderRole.JUNK,
    "\\drafts": FolderRole.DRAFTS,
    "\\archive": FolderRole.ARCHIVE,
}
def mailbox_name(value: Value) -> str:
    """A mailbox name as sent on the wire (still modified UTF-7)."""
    return as_text(value)


def parse_list(parsed: list[Value]) -> tuple[frozenset[str], str | None, str] | None:
    """``* LIST (attrs) delim name`` -> (attributes, delimiter, wire name)."""
    if len(parsed) < 5 or not isinstance(parsed[2], list):
        return None
    attributes = frozenset(as_text(a) for a in parsed[2] if isinstance(a, bytes))
    delimiter = as_text(parsed[3]) or None
    return attributes, delimiter, mailbox_name(parsed[4])


def parse_status(parsed: list[Value]) -> tuple[str, dict[str, int]] | None:
    """``* STATUS name (MESSAGES 3 ...)`` -> (wire name, {MESSAGES: 3, ...})."""
    if len(parsed) < 4:
        return None
    items = {key.decode("ascii", "replace"): as_int(value) for key, value in pairs(parsed[3]).items()}
    return mailbox_name(parsed[2]), items


def _well_known(name: str, delimiter: str | None) -> FolderRole:
    if delimiter and name.lower().startswith("inbox" + delimiter.lower()):
        name = name[len("inbox") + len(delimiter) :]
    return role_by_name(name)


def build_folders(account: str, listed: list[tuple[frozenset[str], str | None, str]],
                  counts: dict[str, dict[str, int]], *, gmail: bool = False) -> list[Folder]:
    """Folders with roles: INBOX, then SPECIAL-USE attributes, then well-known names for roles
    that no attribute claimed. On Gmail (``gmail``: X-GM-EXT-1), whose folders are labels, the
    archive is All Mail (``\\All``): a message moved there loses the Inbox label, as Gmail's own
    Archive does, where a folder named Archive would be one more label."""
    has_archive = any(a.lower() == "\\archive" for attrs, _d, _n in listed for a in attrs)
    special_use = {**_SPECIAL_USE, "\\all": FolderRole.ARCHIVE} if gmail and not has_archive else _SPECIAL_USE
    claimed = {
        special_use[a.lower()] for attrs, _d, _n in listed for a in attrs if a.lower() in special_use
    }
    folders = []
    for attributes, delimiter, wire in listed:
        name = utf7.decode(wire)  # as the server has it: commands need it (shown cleaned)
        role = FolderRole.NONE
        if wire.upper() == "INBOX":
            role, name = FolderRole.INBOX, "INBOX"
        else:
            for attribute in attributes:
                role = special_use.get(attribute.lower(), role)
            if role is FolderRole.NONE:
                guess = _well_known(name, delimiter)
                if guess not in claimed:
                    role = guess
        status = counts.get(wire, {})
        folders.append(Folder(account=account, name=name, delimiter=clean_line(delimiter or "") or None,
                              role=role, attributes=attributes, total=status.get("MESSAGES", 0),
                              unread=status.get("UNSEEN", 0)))
    return folders
