"""The OAuth2 sign-in of an account, in the app: the address and the code to enter there (on any
device, so it works over SSH) while the services wait for the provider's approval."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from mailbag.domain.events import TERMINAL, Event, RequestDone, RequestFailed, RequestUnsupported, SignInCode
from mailbag.domain.sanitize import clean_line


class SignInScreen(ModalScreen["str | None"]):
    """Shows what ``SignIn`` request ``request_id`` asks the user to do; dismissed with the
    outcome to show ("" once signed in), or None when closed before the end (the sign-in goes on
    and its result reaches the status bar)."""

    BINDINGS = [Binding("escape,q", "close", "Close")]
    DEFAULT_CSS = """
    SignInScreen { align: center middle; }
    SignInScreen > Vertical {
        width: auto; max-width: 90%; height: auto;
        border: round $primary; background: $panel; padding: 0 2;
    }
    SignInScreen Static { width: auto; }
    """

    def __init__(self, account: str, request_id: int) -> None:
        super().__init__()
        self.account = account
        self.request_id = request_id

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"Signing in {clean_line(self.account)}: asking the provider for a code…"),
                         id="sign-in-text")
            yield Static(Text("Esc closes this; the sign-in goes on"), id="sign-in-hint")

    def apply_event(self, event: Event) -> bool:
        """Take the events of this sign-in; True when ``event`` was one of them."""
        if getattr(event, "request_id", None) != self.request_id:
            return False
        if isinstance(event, SignInCode):
            self._show_code(event)
        elif isinstance(event, RequestDone):
            self.dismiss("")
        elif isinstance(event, (RequestFailed, RequestUnsupported)):
            self.dismiss(event.error if isinstance(event, RequestFailed) else event.reason)
        elif isinstance(event, TERMINAL):
            self.dismiss(None)
        return True

    def _show_code(self, code: SignInCode) -> None:
        text = Text()
        text.append(f"Sign in {clean_line(code.account)}: open\n\n    ")
        text.append(clean_line(code.verification_uri), style="bold")
        text.append("\n\non any device and enter the code\n\n    ")
        text.append(clean_line(code.user_code), style="bold reverse")
        if code.verification_uri_complete:
            text.append(f"\n\n(or open {clean_line(code.verification_uri_complete)})")
        minutes = max(1, code.expires_in // 60)
        text.append(f"\n\nWaiting for the approval (the code works for {minutes} minutes)…")
        self.query_one("#sign-in-text", Static).update(text)

    def action_close(self) -> None:
        self.dismiss(None)
