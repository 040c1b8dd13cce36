"""Renaming and deleting folders of a Maildir tree, in its layout (Maildir++ or nested).

Both refuse what an IMAP server refuses (``ValueError`` with the reason): the Inbox cannot be
renamed or deleted, a name that is taken is not overwritten, and a folder with folders below it
is not deleted (delete those first). An unknown folder raises ``KeyError``.

A Maildir++ rename of a folder with folders below it is one rename per directory (``.A``, then
``.A.B`` -> ``.C.B``): it is written down first, in ``mailbag-renaming`` in the tree's root, so
that :func:`finish_killed_changes` completes one a killed mailbag left half done.
:func:`finish_killed_changes` also shows again a folder an older mailbag, killed while deleting
it, left without ``cur/`` but with messages in ``new/``.
"""

from __future__ import annotations

import json
import logging
import mailbox
import os
import shutil
from pathlib import Path

from mailbag.paths import sync_dir
from mailbag.protocols.maildir_layout import DELIMITER, INBOX, MAILDIR_PARTS, Layout, split_name

log = logging.getLogger(__name__)

#: The rename under way, in the tree's root: ``{"from": old name, "to": new name}``.
RENAMING = "mailbag-renaming"


def rename_folder(layout: Layout, folder: str, new_name: str) -> None:
    """Rename ``folder`` and every folder below it to ``new_name``."""
    if INBOX in (folder.upper(), new_name.upper()):
        raise ValueError("the Inbox of a Maildir cannot be renamed (move its messages instead)")
    _finish_renaming(layout)  # one that failed half done (a disk error) goes first
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
    if len(moved) > 1:
        _write_renaming(layout.root, folder, new_name)
    for name, path in sorted(moved.items()):
        if path.exists():
            targets[name].parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.rename(path, targets[name])
    if len(moved) > 1:
        sync_dir(layout.root)
        (layout.root / RENAMING).unlink()


def finish_killed_changes(layout: Layout) -> list[str]:
    """Put right what a killed mailbag left half done in the tree: a rename of a folder with
    folders below it is completed, and a folder half deleted by an older version (messages in
    ``new/``, no ``cur/``) is made a folder again, shown with its messages. What was done, in
    words for the log."""
    done = []
    renamed = _finish_renaming(layout)
    if renamed is not None:
        done.append(f"the rename of {renamed[0]} to {renamed[1]} finished")
    for path in _half_deleted(layout):
        (path / "cur").mkdir(mode=0o700, exist_ok=True)
        (path / "tmp").mkdir(mode=0o700, exist_ok=True)
        done.append(f"{path.name}, half deleted, shown again with its messages")
    if cleaned := _clean_temporary(layout):
        done.append(f"{cleaned} files that deliveries cut short left in tmp/ removed")
    for what in done:
        log.warning("maildir %s: %s", layout.root, what)
    return done


def _clean_temporary(layout: Layout) -> int:
    """Remove from every folder's ``tmp/`` what was left there more than 36 hours ago (a delivery
    killed before its rename into ``new/``), as Maildir readers do; how many files went."""
    removed = 0
    for path in [layout.inbox(), *(path for _name, path in layout.folders())]:
        tmp = path / "tmp"
        try:
            before = len(os.listdir(tmp))
            if before:
                mailbox.Maildir(path, factory=None, create=False).clean()
                removed += before - len(os.listdir(tmp))
        except OSError:
            continue  # a folder gone or unreadable meanwhile: looked at next time
    return removed


def _write_renaming(root: Path, folder: str, new_name: str) -> None:
    """Write down the rename about to be made, whole and on disk, before its first step."""
    temporary = root / f".{RENAMING}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, json.dumps({"from": folder, "to": new_name}).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, root / RENAMING)
    sync_dir(root)


def _finish_renaming(layout: Layout) -> tuple[str, str] | None:
    """Rename what is left of the rename written down (each folder whose new name is free);
    (old name, new name), or None when none was under way."""
    record = layout.root / RENAMING
    try:
        wanted = json.loads(record.read_text(encoding="utf-8"))
        folder, new_name = str(wanted["from"]), str(wanted["to"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("maildir %s: %s cannot be read (%s): removed", layout.root, RENAMING, exc)
        record.unlink(missing_ok=True)
        return None
    for name, path in sorted(_family(layout, folder).items()):
        try:
            target = layout.path(new_name + name[len(folder):])
        except ValueError:
            continue
        if target.exists():
            log.warning("maildir %s: %s is left as it is: %s exists", layout.root, name, target.name)
            continue
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.rename(path, target)
    sync_dir(layout.root)
    record.unlink()
    return folder, new_name


def _half_deleted(layout: Layout) -> list[Path]:
    """The directories of the tree with messages in ``new/`` but no ``cur/``."""
    if layout.name == "nested":
        candidates = []
        for top, dirs, _files in os.walk(layout.root):
            dirs[:] = [d for d in dirs if d not in MAILDIR_PARTS and not d.startswith(".")]
            candidates += [Path(top) / d for d in dirs]
    else:
        try:
            candidates = [Path(e.path) for e in os.scandir(layout.root)
                          if e.name.startswith(".") and e.name not in (".", "..") and e.is_dir(follow_symlinks=False)]
        except FileNotFoundError:
            return []
    return [path for path in candidates if not (path / "cur").exists() and _holds_messages(path / "new")]


def _holds_messages(directory: Path) -> bool:
    try:
        return any(not name.startswith(".") for name in os.listdir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return False


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
