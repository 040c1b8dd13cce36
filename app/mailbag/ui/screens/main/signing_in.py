"""The OAuth2 sign-in an account's refused login asks for (``I``): one at a time per account.

The sign-in screen shows the provider's address and code; closing it leaves the sign-in going
on the services' side, so the key asked again while it runs says so instead of starting a
second device-code flow (the provider would issue a second code, and the first shown would no
longer be the one that counts). Its end is told in the status bar whichever way it comes.
"""

from __future__ import annotations

from mailbag.domain.events import TERMINAL, Event, RequestDone, RequestFailed, RequestUnsupported
from mailbag.ui.screens.main.base import MainScreenBase


class SignInControl(MainScreenBase):
    """The sign-in key and the sign-ins it started that have not ended yet."""

    def action_sign_in(self) -> None:
        """Sign in the account whose login wants its OAuth2 sign-in: the code and the address
        to enter it at are shown while the services wait for the approval."""
        from mailbag.domain.requests import SignIn
        from mailbag.ui.screens.sign_in import SignInScreen

        waiting = self.status.sign_in
        if not waiting:
            self.status.set_notice("No account waits for an OAuth2 sign-in")
            return
        idle = [account for account in waiting if account not in self._sign_ins]
        if not idle:
            self.status.set_notice(f"Sign-in for {waiting[0]} already in progress")
            return
        account = idle[0]
        request = SignIn(account=account)
        self._sign_ins[account] = request.request_id

        def done(outcome: str | None) -> None:
            if outcome is None:
                return  # closed before the end: the sign-in goes on
            self._sign_ins.pop(account, None)
            if outcome == "":
                self.status.set_notice(f"Signed in {account}; connecting")
            else:
                self.status.set_error(outcome)

        self.app.push_screen(SignInScreen(account, request.request_id), done)
        self.facade.submit(request)

    def sign_in_ended(self, event: Event) -> bool:
        """Whether ``event`` ends a sign-in whose screen was closed: it is told in the status bar
        and forgotten."""
        if not isinstance(event, TERMINAL):
            return False
        ended = [account for account, rid in self._sign_ins.items() if rid == event.request_id]
        for account in ended:
            del self._sign_ins[account]
            if isinstance(event, RequestDone):
                self.status.set_notice(f"Signed in {account}; connecting")
            elif isinstance(event, RequestFailed):
                self.status.set_error(event.error)
            elif isinstance(event, RequestUnsupported):
                self.status.set_error(event.reason)
        return bool(ended)
