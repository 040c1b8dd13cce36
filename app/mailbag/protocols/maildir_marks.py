"""What tells that another program changed a Maildir tree: the modification times of each
folder's ``new/`` and ``cur/`` (a file delivered, moved in or out, or renamed for its flags changes
them) without reading a single message."""

from __future__ import annotations

import os

from mailbag.protocols.maildir_layout import INBOX, Layout

#: Folder name -> (mtime of new/, mtime of cur/) in nanoseconds.
Marks = dict[str, tuple[int, int]]


def change_marks(layout: Layout) -> Marks:
    """The marks of INBOX and of every folder of the tree (Maildir++ or nested)."""
    marks: Marks = {}
    if not layout.root.is_dir():
        return marks
    for name, path in [(INBOX, layout.inbox()), *layout.folders()]:
        try:
            marks[name] = (os.stat(path / "new").st_mtime_ns, os.stat(path / "cur").st_mtime_ns)
        except (FileNotFoundError, NotADirectoryError):
            continue  # not a mail folder
    return marks
