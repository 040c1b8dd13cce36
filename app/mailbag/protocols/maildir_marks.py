"""What tells that another program changed a Maildir tree: the modification times of each
folder's ``new/`` and ``cur/`` (a file delivered, moved in or out, or renamed for its flags changes
them) without reading a single message."""

from __future__ import annotations

import os
from pathlib import Path

from mailbag.protocols.maildir import DELIMITER, INBOX

#: Folder name -> (mtime of new/, mtime of cur/) in nanoseconds.
Marks = dict[str, tuple[int, int]]


def change_marks(root: Path) -> Marks:
    """The marks of INBOX (the root) and of every Maildir++ folder (``.A.B`` is ``A/B``)."""
    marks: Marks = {}
    folders = [(INBOX, root)]
    try:
        with os.scandir(root) as entries:
            for entry in entries:
                if entry.name.startswith(".") and entry.name not in (".", "..") and entry.is_dir():
                    folders.append((entry.name[1:].replace(".", DELIMITER), Path(entry.path)))
    except FileNotFoundError:
        return marks
    for name, path in folders:
        try:
            marks[name] = (os.stat(path / "new").st_mtime_ns, os.stat(path / "cur").st_mtime_ns)
        except (FileNotFoundError, NotADirectoryError):
            continue  # not a mail folder
    return marks
