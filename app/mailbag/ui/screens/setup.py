"""The setup screens: an address and a name, the servers found for it (and edited), the password's
source with a login test, then the config written and shown.

Esc goes back a step (on the first step it cancels: nothing is written). The work that waits on
the network is the setup facade's (services/setup_api.py), on a thread of its own; these screens
only paint it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Input, Label, RadioSet, Select, Static

from mailbag.domain.config import Security, default_port
from mailbag.domain.discovery import Found, Kind, ServerChoice, split_address
from mailbag.domain.new_account import (
    NewAccount,
    PasswordKind,
    PasswordSource,
    account_toml,
    suggest_name,
    valid_account_name,
)
from mailbag.domain.sanitize import clean_line, clean_text
from mailbag.services.setup_api import SetupError, SetupFacade
from mailbag.ui.widgets.marks import MarkedCheckbox, MarkedRadioButton

SECURITY_OPTIONS: list[tuple[str, Security]] = [
    ("TLS", "tls"),
    ("STARTTLS", "starttls"),
    ("none (plain text)", "none"),
]
INCOMING_OPTIONS: list[tuple[str, Kind]] = [("IMAP", "imap"), ("POP3", "pop3")]
PASSWORD_CHOICES: tuple[tuple[PasswordKind, str, str], ...] = (
    ("keyring", "System keyring (mailbag stores the password there)", "Password"),
    ("command", "A command prints it (pass, gopass, secret-tool ...)", "Command"),
    ("env", "An environment variable holds it", "Variable"),
)


@dataclass
class SetupState:
    """What the steps have gathered so far for the account being added."""

    path: Path
    service: SetupFacade
    taken: list[str] = field(default_factory=list)  # account names in the file already
    added: list[str] = field(default_factory=list)  # accounts written in this session
    address: str = ""
    display_name: str = ""
    found: Found | None = None
    account: NewAccount | None = None


def plain(text: str) -> Text:
    """Text from outside (a server, a file, the network) as it may be shown: one clean line."""
    return Text(clean_line(text))


class StepScreen(Screen[None]):
    """A step: Esc goes back to the one before; Enter in a text field goes on.

    Enter is a priority binding, so it is acted on as it arrives: the focus has moved (or the
    next step is on screen) before the keys typed after it are handed to a widget, however fast
    they come (a paste, a burst over SSH). Elsewhere (a list field, a button) Enter is theirs.
    """

    BINDINGS = [
        Binding("escape", "back", "Back", show=False),
        Binding("enter", "enter", "Next", show=False, priority=True),
    ]

    def __init__(self, state: SetupState) -> None:
        super().__init__()
        self.state = state

    def title_line(self, step: str) -> Static:
        return Static(Text(f"mailbag setup · {step}", style="bold"), classes="setup-title")

    def hint_line(self, text: str) -> Static:
        return Static(Text(text), classes="setup-hint")

    def action_back(self) -> None:
        self.app.pop_screen()

    async def action_enter(self) -> None:
        focused = self.focused
        if not isinstance(focused, Input):
            raise SkipAction()
        await self.entered(focused)

    async def entered(self, field: Input) -> None:
        """Enter in the text field ``field``."""


def field_row(label: str, widget: Input | Select[str]) -> Horizontal:
    """One labelled field on one line."""
    return Horizontal(Label(label, classes="setup-label"), widget, classes="setup-row")


class AddressScreen(StepScreen):
    """Step 1: the address and the name; Enter looks for the servers."""

    def compose(self) -> ComposeResult:
        yield self.title_line("new account")
        yield Static(
            Text("Your address is enough: mailbag finds the servers (autoconfig, DNS, the usual"
                 " host names) and shows them before anything is written."),
            classes="setup-text",
        )
        with Vertical(classes="setup-form"):
            yield field_row("Email address", Input(self.state.address, placeholder="me@example.org",
                                                   id="address", compact=True))
            yield field_row("Your name", Input(self.state.display_name, placeholder="Me Example",
                                               id="display-name", compact=True))
        yield Static("", id="address-problem", classes="setup-problem")
        yield Button("Find the servers", id="next", compact=True)
        leave = "open mailbag" if self.state.added else "cancel (nothing is written)"
        yield self.hint_line(f"Enter: next · Tab: next field · Esc: {leave}")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#address", Input))

    async def entered(self, field: Input) -> None:
        if field.id == "address":
            self.set_focus(self.query_one("#display-name", Input))
        else:
            await self.next_step()

    @on(Button.Pressed, "#next")
    async def next_step(self) -> None:
        address = self.query_one("#address", Input).value.strip()
        try:
            split_address(address)
        except ValueError as exc:
            self.query_one("#address-problem", Static).update(plain(str(exc)))
            self.set_focus(self.query_one("#address", Input))
            return
        self.query_one("#address-problem", Static).update("")
        if address != self.state.address:
            self.state.found = None  # another address: look again
        self.state.address = address
        self.state.display_name = self.query_one("#display-name", Input).value.strip()
        await self.app.push_screen(ServersScreen(self.state))

    def action_back(self) -> None:
        self.app.exit(list(self.state.added))


class ServerFields:
    """The fields of one server (host, port, security, username), by an id prefix."""

    def __init__(self, screen: Screen[None], prefix: str) -> None:
        self.screen = screen
        self.prefix = prefix

    @staticmethod
    def compose(prefix: str) -> list[Horizontal]:
        return [
            field_row("Host", Input(id=f"{prefix}-host", compact=True)),
            field_row("Port", Input(id=f"{prefix}-port", type="integer", max_length=5, compact=True)),
            field_row("Security", Select(SECURITY_OPTIONS, id=f"{prefix}-security", allow_blank=False,
                                         compact=True)),
            field_row("Username", Input(id=f"{prefix}-username", compact=True)),
        ]

    def _input(self, name: str) -> Input:
        return self.screen.query_one(f"#{self.prefix}-{name}", Input)

    def _security(self) -> Select[str]:
        return self.screen.query_one(f"#{self.prefix}-security", Select)

    def show(self, server: ServerChoice) -> None:
        self._input("host").value = server.host
        self._input("port").value = str(server.port)
        self._security().value = server.security
        self._input("username").value = server.username

    def read(self, kind: Kind) -> ServerChoice:
        """The server as the fields say; ValueError naming the field that is wrong."""
        host = self._input("host").value.strip()
        if not host or any(c.isspace() for c in host):
            raise ValueError(f"{kind.upper()}: a host name is needed")
        try:
            port = int(self._input("port").value)
        except ValueError:
            port = 0
        if not 0 < port < 65536:
            raise ValueError(f"{kind.upper()}: the port is a number from 1 to 65535")
        chosen = self._security().value
        security: Security = next((v for _, v in SECURITY_OPTIONS if v == chosen), "tls")
        username = self._input("username").value.strip()
        if not username:
            raise ValueError(f"{kind.upper()}: a username is needed")
        return ServerChoice(kind, host, port, security, username)

    def security_changed(self, kind: Kind, before: str, after: str) -> None:
        """A port left at the default of the security before follows the security chosen."""
        port = self._input("port")
        if port.value == str(default_port(kind, before)):
            port.value = str(default_port(kind, after))


class ServersScreen(StepScreen):
    """Step 2: the servers found, each field editable."""

    def __init__(self, state: SetupState) -> None:
        super().__init__(state)
        self.incoming = ServerFields(self, "in")
        self.outgoing = ServerFields(self, "smtp")
        self._security: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield self.title_line(f"servers for {clean_line(self.state.address)}")
        yield Static(Text("Looking for the servers ..."), id="found", classes="setup-text")
        with VerticalScroll(classes="setup-form", id="server-form"):
            yield field_row("Account name", Input(id="account-name", compact=True, max_length=40))
            yield field_row("Reads mail by", Select(INCOMING_OPTIONS, id="in-kind", allow_blank=False,
                                                    compact=True))
            yield from ServerFields.compose("in")
            yield Label("Sending (SMTP)", classes="setup-section")
            yield from ServerFields.compose("smtp")
            yield field_row("CA file", Input(id="ca-file", placeholder="(optional: a private CA's PEM file)",
                                             compact=True))
        yield Static("", id="servers-problem", classes="setup-problem")
        yield Button("Next: the password", id="next", compact=True)
        yield self.hint_line("Enter: next · Tab: next field · Esc: back")

    def on_mount(self) -> None:
        self.query_one("#server-form").disabled = True
        self.query_one("#next", Button).disabled = True
        if self.state.found is None:
            self.find_servers()
        else:
            self.show_found(self.state.found)

    @work(exclusive=True, group="find")
    async def find_servers(self) -> None:
        service = self.state.service
        found = await asyncio.wrap_future(service.find(self.state.address))
        self.state.found = found
        self.show_found(found)

    def show_found(self, found: Found) -> None:
        _, domain = split_address(self.state.address)
        if found.source == "none":
            words = f"Nothing found for {domain}: fill in the servers your provider names."
        else:
            how = {"autoconfig": "autoconfig", "dns": "DNS SRV records", "probe": "probing"}[found.source]
            words = f"Found by {how} ({found.where}); check them, edit what is wrong."
            if found.smtp is None:
                words += " No SMTP server found: fill it in."
        self.query_one("#found", Static).update(plain(words))
        account = self.state.account
        name = account.name if account else suggest_name(self.state.address, self.state.taken)
        self.query_one("#account-name", Input).value = name
        address = self.state.address
        incoming = found.incoming or ServerChoice("imap", f"imap.{domain}", default_port("imap", "tls"), "tls", address)
        smtp = found.smtp or ServerChoice("smtp", f"smtp.{domain}", default_port("smtp", "tls"), "tls", address)
        if account is not None:  # back from the next step: the fields as they were left
            incoming, smtp = account.incoming, account.smtp or smtp
            self.query_one("#ca-file", Input).value = account.ca_file
        self.query_one("#in-kind", Select).value = incoming.kind
        self.incoming.show(incoming)
        self.outgoing.show(smtp)
        self._security = {"in": incoming.security, "smtp": smtp.security}
        self.query_one("#server-form").disabled = False
        self.query_one("#next", Button).disabled = False
        self.set_focus(self.query_one("#account-name", Input))

    @on(Select.Changed, "#in-kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        found = self.state.found
        if found is None or self.query_one("#server-form").disabled:
            return
        other = found.imap if event.value == "imap" else found.pop3
        if other is not None:
            self.incoming.show(other)
            self._security["in"] = other.security
        else:
            kind: Kind = "pop3" if event.value == "pop3" else "imap"
            current = str(self.query_one("#in-security", Select).value)
            self.query_one("#in-port", Input).value = str(default_port(kind, current))
            host = self.query_one("#in-host", Input)
            was, now = ("imap.", "pop.") if kind == "pop3" else ("pop.", "imap.")
            if host.value.startswith(was):  # the usual name of the other kind's server
                host.value = now + host.value[len(was):]

    @on(Select.Changed, "#in-security")
    @on(Select.Changed, "#smtp-security")
    def _security_changed(self, event: Select.Changed) -> None:
        prefix = "in" if event.select.id == "in-security" else "smtp"
        before = self._security.get(prefix)
        after = str(event.value)
        self._security[prefix] = after
        if before is None or before == after:
            return
        if prefix == "in":
            self.incoming.security_changed(self._kind(), before, after)
        else:
            self.outgoing.security_changed("smtp", before, after)

    def _kind(self) -> Kind:
        return "pop3" if self.query_one("#in-kind", Select).value == "pop3" else "imap"

    async def entered(self, field: Input) -> None:
        await self.next_step()

    @on(Button.Pressed, "#next")
    async def next_step(self) -> None:
        problem = self.query_one("#servers-problem", Static)
        name = self.query_one("#account-name", Input).value.strip()
        try:
            if not valid_account_name(name):
                raise ValueError("Account name: letters, digits, - and _ only")
            if name in self.state.taken:
                raise ValueError(f"Account name: {name} is in the config already")
            incoming = self.incoming.read(self._kind())
            smtp = self.outgoing.read("smtp")
        except ValueError as exc:
            problem.update(plain(str(exc)))
            return
        problem.update("")
        ca_file = self.query_one("#ca-file", Input).value.strip()
        before = self.state.account
        self.state.account = NewAccount(
            name=name, email=self.state.address, display_name=self.state.display_name,
            incoming=incoming, smtp=smtp, ca_file=ca_file,
            password=before.password if before else PasswordSource("keyring"),
        )
        await self.app.push_screen(PasswordScreen(self.state))


class PasswordScreen(StepScreen):
    """Step 3: where the password comes from; the logins are tried, then the config written."""

    def compose(self) -> ComposeResult:
        account = self.state.account
        assert account is not None
        yield self.title_line(f"password for {clean_line(account.email)}")
        with RadioSet(id="source"):
            for kind, words, _ in PASSWORD_CHOICES:
                yield MarkedRadioButton(words, value=kind == account.password.kind, id=f"source-{kind}")
        with Vertical(classes="setup-form", id="secret-form"):
            yield field_row("Password", Input(id="secret", password=True, compact=True))
        if account.smtp is not None:  # a relay with credentials of its own, say
            yield MarkedCheckbox("The SMTP server has a password of its own", account.smtp_password is not None,
                           id="smtp-own", compact=True)
            with Vertical(classes="setup-form", id="smtp-secret-form"):
                yield field_row("SMTP password", Input(id="smtp-secret", password=True, compact=True))
        yield Static("", id="source-help", classes="setup-text")
        yield Button("Test the login and save", id="save", compact=True)
        yield Static("", id="login-status", classes="setup-problem")
        yield self.hint_line("Enter: test and save · Tab: next field · Esc: back")

    #: Why the keyring cannot keep the password here ("" while not known, or when it can).
    no_keyring = ""

    def on_mount(self) -> None:
        self._show_source()
        self.set_focus(self.query_one("#secret", Input))
        self._look_for_keyring()

    @work(exclusive=True, group="keyring")
    async def _look_for_keyring(self) -> None:
        """Where there is no keyring (a machine reached over SSH, often), say so on its choice
        and choose a command instead, unless another choice was made already."""
        try:
            missing = await asyncio.wrap_future(self.state.service.keyring_missing())
        except SetupError:
            return  # logged; trying to save says what the keyring says
        if missing is None:
            return
        self.no_keyring = missing
        choice = self.query_one("#source-keyring", MarkedRadioButton)
        choice.label = "System keyring: there is none on this machine"
        account = self.state.account
        typed = self.query_one("#secret", Input).value
        if self._kind() == "keyring" and account is not None and account.password.kind == "keyring" and not typed:
            self.query_one("#source-command", MarkedRadioButton).value = True
        self._show_source()

    def _kind(self) -> PasswordKind:
        pressed = self.query_one("#source", RadioSet).pressed_button
        if pressed is None or pressed.id is None:
            return "keyring"
        return pressed.id.removeprefix("source-")  # type: ignore[return-value]

    @on(RadioSet.Changed)
    def _source_changed(self) -> None:
        self.query_one("#secret", Input).value = ""
        for own in self.query("#smtp-secret").results(Input):
            own.value = ""
        self._show_source()

    @on(Checkbox.Changed, "#smtp-own")
    def _smtp_own_changed(self) -> None:
        self._show_source()

    def _show_source(self) -> None:
        kind = self._kind()
        account = self.state.account
        assert account is not None
        label = next(label for k, _, label in PASSWORD_CHOICES if k == kind)
        self.query_one("#secret-form .setup-label", Label).update(label)
        secret = self.query_one("#secret", Input)
        secret.password = kind == "keyring"
        if kind == account.password.kind and kind != "keyring":
            secret.value = account.password.value
        for form in self.query("#smtp-secret-form"):
            own = self.query_one("#smtp-own", Checkbox).value
            form.display = own
            self.query_one("#smtp-secret-form .setup-label", Label).update(f"SMTP {label.lower()}")
            smtp_secret = self.query_one("#smtp-secret", Input)
            smtp_secret.password = kind == "keyring"
            smtp_source = account.smtp_password
            if own and smtp_source is not None and kind == smtp_source.kind and kind != "keyring":
                smtp_secret.value = smtp_source.value
        help_text = {
            "keyring": f"{self.no_keyring[0].upper()}{self.no_keyring[1:]}: choose a command or a variable."
            if self.no_keyring else "Typed once here, kept in the system keyring (service mailbag), never in the file.",
            "command": "Its first line of output is the password, e.g. pass show mail/work.",
            "env": "The variable's name, e.g. MAIL_PASSWORD; it must be set when mailbag starts.",
        }[kind]
        self.query_one("#source-help", Static).update(Text(help_text))

    async def entered(self, field: Input) -> None:
        self.test_and_save()

    @on(Button.Pressed, "#save")
    def test_and_save(self) -> None:
        account = self.state.account
        assert account is not None
        kind = self._kind()
        value = self.query_one("#secret", Input).value
        status = self.query_one("#login-status", Static)
        if not value.strip():
            status.update(Text(f"{next(lbl for k, _, lbl in PASSWORD_CHOICES if k == kind)}: needed"))
            return
        if kind == "keyring" and self.no_keyring:
            status.update(Text(f"keyring: {self.no_keyring}. Nothing was written."))
            return
        typed = value if kind == "keyring" else None
        source = PasswordSource(kind, "" if kind == "keyring" else value.strip())
        smtp_source, typed_smtp = None, None
        if self.query("#smtp-own") and self.query_one("#smtp-own", Checkbox).value:
            own = self.query_one("#smtp-secret", Input).value
            if not own.strip():
                label = next(lbl for k, _, lbl in PASSWORD_CHOICES if k == kind)
                status.update(Text(f"SMTP {label.lower()}: needed"))
                return
            typed_smtp = own if kind == "keyring" else None
            smtp_source = PasswordSource(kind, "" if kind == "keyring" else own.strip())
        self.state.account = replace(account, password=source, smtp_password=smtp_source)
        self._run(self.state.account, typed, typed_smtp)

    @work(exclusive=True, group="save")
    async def _run(self, account: NewAccount, typed: str | None, typed_smtp: str | None) -> None:
        service = self.state.service
        status = self.query_one("#login-status", Static)
        button = self.query_one("#save", Button)
        servers = ", ".join(f"{s.kind.upper()} {s.host}:{s.port}" for s in (account.incoming, account.smtp) if s)
        status.update(plain(f"Logging in to {servers} ..."))
        button.disabled = True
        try:
            await asyncio.wrap_future(service.check(self.state.path, account, typed, typed_smtp))
            await asyncio.wrap_future(service.save(self.state.path, account, typed, typed_smtp))
        except SetupError as exc:
            status.update(Text(clean_text("\n".join(exc.problems) + "\nNothing was written."), style="red"))
            return
        finally:
            button.disabled = False
        self.state.added.append(account.name)
        self.state.taken.append(account.name)
        status.update("")
        self.app.push_screen(SavedScreen(self.state, account_toml(account, default=len(self.state.taken) == 1)))


class SavedScreen(StepScreen):
    """Step 4: what was written; open mailbag, or add another account."""

    BINDINGS = [
        Binding("enter", "open_mailbag", "Open mailbag"),
        Binding("a", "add_another", "Add another account"),
        Binding("escape,q", "open_mailbag", "Open mailbag", show=False),
    ]

    def __init__(self, state: SetupState, text: str) -> None:
        super().__init__(state)
        self.text = text

    def compose(self) -> ComposeResult:
        yield self.title_line("saved")
        yield Static(plain(f"Written to {self.state.path} (readable by you alone):"), classes="setup-text")
        with VerticalScroll(id="written"):
            yield Static(Text(clean_text(self.text)), id="written-text")
        yield self.hint_line("Enter: open mailbag · a: add another account")

    def action_open_mailbag(self) -> None:
        self.app.exit(list(self.state.added))

    def action_add_another(self) -> None:
        self.state.address = ""
        self.state.display_name = ""
        self.state.found = None
        self.state.account = None
        self.app.run_worker(self._start_again(), group="again")

    async def _start_again(self) -> None:
        app = self.app
        while len(app.screen_stack) > 1:
            await app.pop_screen()
        await app.push_screen(AddressScreen(self.state))
