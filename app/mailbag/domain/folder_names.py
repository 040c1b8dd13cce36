"""Folder names as the user types them and as the server has them. A server that keeps the
folders under a personal namespace's prefix (``INBOX.`` on Courier and Cyrus) shows them in the
tree below the Inbox; the user types them without that prefix, and the services put it back."""

from __future__ import annotations

from collections.abc import Sequence

from mailbag.domain.models import Folder


def inbox_prefix(folders: Sequence[Folder]) -> str:
    """``INBOX.`` when every folder but the Inbox is below it (a server that keeps folders there,
    as Courier and Cyrus do), else ""."""
    inbox = next((f for f in folders if f.name == "INBOX"), None)
    others = [f.name for f in folders if f.name != "INBOX"]
    if inbox is None or not inbox.delimiter or not others:
        return ""
    prefix = "INBOX" + inbox.delimiter
    return prefix if all(name.startswith(prefix) for name in others) else ""


def known_prefix(namespace: str | None, folders: Sequence[Folder]) -> str:
    """The prefix the user does not type: the server's NAMESPACE's when known (``namespace`` not
    None), else what the folder list shows (:func:`inbox_prefix`)."""
    return namespace if namespace is not None else inbox_prefix(folders)


def typed_name(name: str, prefix: str) -> str:
    """The server's folder ``name`` as the user types it: without the namespace ``prefix``
    (``INBOX.Work.Plans`` -> ``Work.Plans``)."""
    if prefix and len(name) > len(prefix) and name.upper().startswith(prefix.upper()):
        return name[len(prefix):]
    return name


def server_name(name: str, prefix: str) -> str:
    """A folder ``name`` the user typed as the server needs it: under the namespace ``prefix``,
    unless it is there already (a full server name typed) or is INBOX."""
    if not prefix or name.upper() == "INBOX" or name.upper().startswith(prefix.upper()):
        return name
    return prefix + name
