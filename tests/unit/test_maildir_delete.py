"""Deleting a Maildir folder stopped midway (mailbag killed between two removals): what is left
is still a folder, in the tree with the messages not yet removed and deletable again, or an empty
directory; never files hidden in a directory the tree no longer shows."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from mailbag.domain.config import MaildirLayout
from mailbag.protocols.maildir import MaildirStore
from mailbag.protocols.maildir_folders import delete_folder
from tests.servers.messages import make_message


class Killed(BaseException):
    """mailbag stopped here, as by SIGKILL: nothing after this removal happens."""


@contextmanager
def killed_after(monkeypatch: pytest.MonkeyPatch, removals: int | None) -> Iterator[list[str]]:
    """Every file or directory removal (``os.unlink``, ``os.rmdir``, as ``shutil.rmtree`` makes
    them too) is recorded; the one after the first ``removals`` raises Killed instead."""
    done: list[str] = []

    def counted(remove: Callable[..., None]) -> Callable[..., None]:
        def removing(path: Any, *args: Any, **kwargs: Any) -> None:
            if removals is not None and len(done) == removals:
                raise Killed
            remove(path, *args, **kwargs)
            done.append(str(path))
        return removing

    with monkeypatch.context() as patch:
        patch.setattr(os, "unlink", counted(os.unlink))
        patch.setattr(os, "rmdir", counted(os.rmdir))
        yield done


def folder_with_mail(root: Path, layout: MaildirLayout) -> MaildirStore:
    """A tree whose folder Work holds read mail (in ``cur/``), new mail (in ``new/``), a
    delivery under way (in ``tmp/``) and the UID file."""
    store = MaildirStore(root, "home", create=True, layout=layout)
    store.create_folder("Work")
    store.add_many("Work", [(make_message(i), ("\\Seen",) if i % 2 else ()) for i in range(6)])
    (store.layout.path("Work") / "tmp" / "1.delivery").write_bytes(make_message(9))
    return store


def files_under(directory: Path) -> list[str]:
    return [name for _top, _dirs, names in os.walk(directory) for name in names]


@pytest.mark.parametrize("layout", ["maildir++", "nested"])
def test_a_delete_stopped_after_any_removal_leaves_a_folder_the_tree_shows_or_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: MaildirLayout
) -> None:
    whole = folder_with_mail(tmp_path / "whole", layout)
    with killed_after(monkeypatch, None) as removals:
        delete_folder(whole.layout, "Work")
    assert len(removals) > 10

    for stop in range(len(removals)):
        root = tmp_path / f"stopped-{stop}"
        store = folder_with_mail(root, layout)
        directory = store.layout.path("Work")
        with killed_after(monkeypatch, stop), pytest.raises(Killed):
            delete_folder(store.layout, "Work")

        shown = "Work" in {f.name for f in MaildirStore(root, "home", layout=layout).list_folders()}
        assert shown or not files_under(directory), (stop, files_under(directory))
        if shown:
            delete_folder(store.layout, "Work")
            assert not directory.exists()
