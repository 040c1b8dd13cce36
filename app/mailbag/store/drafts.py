"""Drafts kept on this machine: one file per draft, so nothing typed is lost to a crash.

Each draft is a JSON file in the drafts folder (``drafts/`` beside the cache, mode 0700), written
whole to a temporary file, synced, and renamed over the previous version, so a draft file is
always one complete version. Files are 0600. A draft stays until it is sent or discarded; those
left at a start are offered again. It keeps the message it answers or forwards (the mark flagged
once it is sent).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mailbag.domain.compose import Draft, DraftAttachment
from mailbag.domain.models import MarkWhenSent
from mailbag.paths import sync_dir, write_private

log = logging.getLogger(__name__)

_VERSION = 1


class DraftFiles:
    """The drafts folder. Blocking file I/O: call it off the UI's loop."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, message_id: str) -> Path:
        digest = hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return self.directory / f"{digest}.json"

    def save(self, draft: Draft, *, allow_empty: bool = False) -> bool:
        """Write ``draft`` (it needs a ``message_id``) atomically. An empty draft does not
        replace a saved one that is not empty unless ``allow_empty``: False then, nothing written."""
        if not draft.message_id:
            raise ValueError("a draft needs a message id to be saved")
        path = self._path(draft.message_id)
        if draft.is_empty() and not allow_empty:
            kept = self._read(path)
            if kept is not None and not kept.is_empty():
                return False
        write_private(path, json.dumps(_encode(draft), ensure_ascii=False).encode("utf-8"))
        return True

    def load(self, message_id: str) -> Draft | None:
        return self._read(self._path(message_id))

    def load_all(self) -> list[Draft]:
        """Every draft kept, the most recently saved first (an unreadable file is logged and
        left where it is)."""
        if not self.directory.is_dir():
            return []
        files = sorted(self.directory.glob("*.json"), key=_mtime, reverse=True)
        drafts = [self._read(path) for path in files]
        return [draft for draft in drafts if draft is not None]

    def remove(self, message_id: str) -> None:
        """Forget a draft (sent or discarded)."""
        try:
            self._path(message_id).unlink()
        except FileNotFoundError:
            return
        sync_dir(self.directory)

    @staticmethod
    def _read(path: Path) -> Draft | None:
        try:
            return _decode(json.loads(path.read_bytes()))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, KeyError) as exc:
            log.warning("draft %s cannot be read: %s", path.name, exc)
            return None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _encode(draft: Draft) -> dict[str, Any]:
    fields = asdict(draft)  # the mark (the message replied to or forwarded) as a plain dict
    fields["attachments"] = [
        {
            "path": a.path,
            "filename": a.filename,
            "content_type": a.content_type,
            "data": None if a.data is None else base64.b64encode(a.data).decode("ascii"),
        }
        for a in draft.attachments
    ]
    fields["references"] = list(draft.references)
    return {"version": _VERSION, "draft": fields}


def _decode(document: Any) -> Draft:
    if not isinstance(document, dict) or document.get("version") != _VERSION:
        raise ValueError("not a draft file of this version")
    fields = dict(document["draft"])
    attachments = tuple(
        DraftAttachment(
            path=str(item["path"]),
            filename=str(item["filename"]),
            content_type=str(item["content_type"]),
            data=None if item["data"] is None else base64.b64decode(item["data"]),
        )
        for item in fields.pop("attachments")
    )
    references = tuple(str(ref) for ref in fields.pop("references"))
    mark = _mark(fields.pop("mark", None))
    text: dict[str, Any] = {key: str(value) for key, value in fields.items()}
    return Draft(attachments=attachments, references=references, mark=mark, **text)


def _mark(value: Any) -> MarkWhenSent | None:
    """The saved mark; None for a draft saved without one (or by an older mailbag)."""
    if not isinstance(value, dict):
        return None
    return MarkWhenSent(str(value["account"]), str(value["folder"]), int(value["uid"]), str(value["flag"]))
