"""Renaming and deleting folders of a Maildir tree, in its layout (Maildir++ or nested).

Both refuse what an IMAP server refuses (``ValueError`` with the reason): the Inbox cannot be
renamed or deleted, a name that is taken is not overwritten, and a folder with folders below it
is not deleted (delete those first). An unknown folder raises ``KeyError``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from mailbag.protocols.maildir_layout import DELIMITER, INBOX, Layout, split_name


def rename_folder(layout: Layout, folder: str, new_name: str) -> None:
    """Rename ``folder`` and every folder below it to ``new_name``."""
    if INBOX in (folder.upper(), new_name.upper()):
        raise ValueError("the Inbox of a Maildir cannot be renamed (move its messages instead)")
    split_name(new_name)
    if new_name == folder or new_name.startswith(folder + DELIMITER):
        raise ValueError(f"cannot rename {folder} into itself")
    moved = _family(layout, folder)
    if not moved:
        raise KeyError(f"no such folder: {folder}")
    targets = {name: layout.path(new_name + name[len(folder):]) for name in moved}
    taken = [name for name, _path in layout.folders() if name == new_name or name.startswith(new_name + DELIMITER)]
    if taken or any(path.exists() for path in targets.values()):
        raise ValueError(f"a folder {new_name} exists already")
    parent = new_name.rsplit(DELIMITER, 1)[0] if DELIMITER in new_name else ""
    if parent and layout.name != "nested":
        layout.create(parent)  # Maildir++ makes each parent a folder
    source = layout.path(folder)
    if layout.name == "nested" and source.is_dir():
        # One directory holds the folder (or a parent only) and those below it.
        target = layout.path(new_name)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.rename(source, target)
        return
    for name, path in sorted(moved.items()):
        if path.exists():
            targets[name].parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.rename(path, targets[name])


def delete_folder(layout: Layout, folder: str) -> None:
    """Delete ``folder`` with its messages."""
    if folder.upper() == INBOX:
        raise ValueError("the Inbox cannot be deleted")
    family = _family(layout, folder)
    if set(family) - {folder}:
        raise ValueError(f"{folder} has folders below it: delete or move them first")
    if folder not in family:
        raise KeyError(f"no such folder: {folder}")
    _remove_maildir(family[folder])


def _remove_maildir(path: Path) -> None:
    """Remove the folder at ``path`` so that, stopped at any point (mailbag killed), what is left
    is still a folder, listed and deletable again, or an empty directory: everything but ``cur/``
    goes first, then ``cur/`` (its messages, then itself), then the directory."""
    for entry in os.scandir(path):
        if entry.name == "cur":
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)
    cur = path / "cur"
    if cur.is_dir() and not cur.is_symlink():
        shutil.rmtree(cur)
    else:
        cur.unlink(missing_ok=True)
    os.rmdir(path)


def _family(layout: Layout, folder: str) -> dict[str, Path]:
    """``folder`` (when it exists) and the folders below it, with their directories."""
    return {
        name: path
        for name, path in layout.folders()
        if name == folder or name.startswith(folder + DELIMITER)
    }
