"""What the retry key does, in the words of the status bar's notices: which accounts it
reconnects, which it asks for new mail, how many actions set aside it sends again, or that
there was nothing to do ("Nothing to retry: work is connected")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mailbag.domain.wording import plural


@dataclass(frozen=True, slots=True)
class RetryPlan:
    """Per account, what a retry does: ``reconnecting`` those not connected (a refused login, a
    lost link), ``checking`` those that fetch their mail from a server (POP3), ``set_aside``
    actions sent once more; ``connected`` are those with nothing to do."""

    reconnecting: Sequence[str] = ()
    checking: Sequence[str] = ()
    set_aside: int = 0
    connected: Sequence[str] = ()

    @property
    def notice(self) -> str:
        """``Reconnecting work, checking old for new mail, retrying 2 set-aside actions…``."""
        parts = []
        if self.reconnecting:
            parts.append(f"reconnecting {names(self.reconnecting)}")
        if self.checking:
            parts.append(f"checking {names(self.checking)} for new mail")
        if self.set_aside:
            parts.append(f"retrying {plural(self.set_aside, 'set-aside action')}")
        if not parts:
            verb = "is" if len(self.connected) == 1 else "are"
            return f"Nothing to retry: {names(self.connected)} {verb} connected"
        text = ", ".join(parts)
        return f"{text[0].upper()}{text[1:]}…"


def names(accounts: Sequence[str]) -> str:
    """``work``, ``work and home``, ``work, home and old``."""
    if len(accounts) < 2:
        return "".join(accounts)
    return f"{', '.join(accounts[:-1])} and {accounts[-1]}"
