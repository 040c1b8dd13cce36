"""What becomes of a draft once its compose screen has closed.

Kept for later, it is written to disk and stored in the account's Drafts folder; once the server
has it, the copy on disk goes (it is resumed from Drafts with ``e``). A draft the server could not
take (offline, no Drafts folder) stays on disk and is offered at the next start, as is one left by
a mailbag that was killed. Discarded or sent, it goes from both. The methods here block on files
and building: run them in a thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from mailbag.domain.compose import Draft
from mailbag.domain.events import Event, RequestDone
from mailbag.domain.outgoing import ComposeError, build_message
from mailbag.domain.requests import SaveDraft
from mailbag.services.api import MailFacade


class DraftKeeper:
    """Settles closed drafts for one app."""

    def __init__(self, facade: MailFacade, now: Callable[[], datetime]) -> None:
        self._facade = facade
        self._now = now
        self._lock = threading.Lock()
        self._storing: dict[int, str] = {}  # SaveDraft request id -> message id

    def keep(self, draft: Draft) -> None:
        """Keep ``draft`` for later. An empty draft does not replace the text saved before: that
        text is what is kept then."""
        drafts = self._facade.drafts
        if not drafts.save(draft):
            draft = drafts.load(draft.message_id) or draft
        try:
            raw = build_message(draft, now=self._now(), for_sending=False).message
        except (ComposeError, OSError):
            return  # not a message yet (a half-typed address): kept on disk only
        request = SaveDraft(account=draft.account, message_id=draft.message_id, raw=raw)
        with self._lock:
            self._storing[request.request_id] = draft.message_id
        self._facade.submit(request)

    def forget(self, draft: Draft) -> None:
        """The draft was sent or discarded: remove it from disk and from the Drafts folder (it
        may be there even if this run never stored it: resumed from there, or kept earlier)."""
        self._facade.drafts.remove(draft.message_id)
        self._facade.submit(SaveDraft(account=draft.account, message_id=draft.message_id, raw=None))

    def stored(self, event: Event) -> str | None:
        """The message id of a kept draft the Drafts folder now holds, when ``event`` says so
        (then its copy on disk may go: see :meth:`drop_local`)."""
        if not isinstance(event, RequestDone):
            return None
        with self._lock:
            return self._storing.pop(event.request_id, None)

    def drop_local(self, message_id: str) -> None:
        self._facade.drafts.remove(message_id)

    def left_over(self) -> list[Draft]:
        """Drafts on disk: not sent, and not (yet) in a Drafts folder. Newest first."""
        return self._facade.drafts.load_all()
