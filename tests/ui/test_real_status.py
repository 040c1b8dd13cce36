"""The status bar at 80x24 over the real services: a long message never hides the connection
state (shrunk to a count) or "? help"; a search error goes with Esc; an account with a server reached without TLS
says so; a refused login (IMAP or POP3) is told once and keeps its key; $ says what it does."""

from __future__ import annotations

import dataclasses

import pytest
import trustme

from mailbag.domain.config import Config, Security, ServerConfig
from mailbag.domain.events import ConnectionChanged, ErrorReported
from mailbag.domain.models import FLAGGED, ConnectionState
from mailbag.store.local import ASIDE, FLAGS, PENDING
from mailbag.store.store import Store
from mailbag.ui.app import MailbagApp
from tests.integration.accounts import imap_account_config
from tests.integration.proxy import Proxy
from tests.servers.ports import closed_port
from tests.integration.pop3_fixtures import pop3_account
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.messages import make_message
from tests.ui.conftest import settle
from tests.ui.helpers import status_text
from tests.ui.real_services import maildir_config, reader_text, running, service, simple_message, wait_until


def status_line(app: MailbagApp) -> str:
    """The status bar's row as painted."""
    return app.main_screen.status.render_line(0).text


async def test_a_long_notice_leaves_the_connection_state_and_help_in_view(tmp_path):
    long_name = "Projects and plans for the year ahead with notes from every meeting we had"
    config = maildir_config(tmp_path / "Mail", [simple_message(n) for n in range(3)], more={long_name: []})
    async with running(config, tmp_path / "cache.sqlite3", 3, size=(80, 24)) as (app, pilot, store):
        await wait_until(pilot, lambda: "home online" in status_line(app), "online")
        await pilot.press("m", *"projects", "enter")
        await wait_until(pilot, lambda: "Moved 1 message" in status_text(app), "the notice")
        line = status_line(app)  # the states shrink to a count first, then the notice is cut
        assert "1✓" in line and line.rstrip().endswith("? help")
        assert "Moved 1 message to Projects and plans for the year ahead" in line


async def test_a_search_error_keeps_the_states_in_view_and_goes_with_esc(tmp_path):
    config = maildir_config(tmp_path / "Mail", [simple_message(n) for n in range(3)])
    async with running(config, tmp_path / "cache.sqlite3", 3, size=(80, 24)) as (app, pilot, store):
        await wait_until(pilot, lambda: "home online" in status_line(app), "online")
        await pilot.press("slash", *"before:someday after:never is:whatever")
        await wait_until(pilot, lambda: "error: search" in status_text(app), "the search error")
        line = status_line(app)
        assert "1✓" in line and line.rstrip().endswith("? help")
        await pilot.press("escape")
        await settle(pilot)  # long before an error would go by itself
        assert "error" not in status_text(app)
        assert app.main_screen.message_list.row_count == 3


def with_smtp(config: Config, security: Security) -> Config:
    """``config`` whose account "home" sends through an SMTP server with ``security``."""
    smtp = ServerConfig(host="smtp.example.test", port=587, security=security, username="me",
                        password_env="NO_SUCH_PASSWORD")
    home = dataclasses.replace(config.accounts["home"], smtp=smtp)
    return dataclasses.replace(config, accounts={"home": home})


@pytest.mark.parametrize("security", ["none", "starttls"])
async def test_an_account_without_tls_says_so_in_the_status_bar(tmp_path, security: Security) -> None:
    config = with_smtp(maildir_config(tmp_path / "Mail", [simple_message(1)]), security)
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(80, 24)) as (app, pilot, store):
        await wait_until(pilot, lambda: "online" in status_line(app), "online")
        line = status_line(app)
        if security == "none":
            assert "home no TLS (smtp) online" in line
        else:
            assert "no TLS" not in line and "home online" in line


@pytest.mark.dovecot
@pytest.mark.parametrize("protocol", ["imap", "pop3"])
async def test_an_imap_or_pop3_account_without_tls_says_so_too(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path, protocol: str
) -> None:
    dovecot.deliver(mail_user.name, make_message(1))
    if protocol == "imap":
        account = imap_account_config(dovecot, mail_user, security="none")
    else:
        account = pop3_account(dovecot, mail_user, tmp_path / "Mail", security="none")
    config = Config(path=None, accounts={account.name: account})
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(80, 24)) as (app, pilot, store):
        await wait_until(pilot, lambda: "online" in status_line(app), "online")
        assert f"{account.name} no TLS ({protocol}) online" in status_line(app)



@pytest.mark.dovecot
@pytest.mark.parametrize("default", [False, True], ids=["beside", "opened first"])
async def test_a_refused_login_says_the_servers_reason_once_and_keeps_its_key(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path, default: bool
) -> None:
    """At 80 columns beside another account: the state says "refused ($)", and the server's
    reason is told once as an error, never pushing the key off the line; also when the account
    is the one whose Inbox opens first (its opening fails, and that does not hide the reason)."""
    account = imap_account_config(dovecot, mail_user)
    assert account.imap is not None
    wrong = dataclasses.replace(account.imap, password_command="printf '%s\\n' not-the-password")
    account = dataclasses.replace(account, default=default, imap=wrong)
    home = dataclasses.replace(maildir_config(tmp_path / "Mail", [simple_message(1)]).accounts["home"],
                               default=not default)
    config = Config(path=None, accounts={"home": home, account.name: account})
    async with running(config, tmp_path / "cache.sqlite3", 0 if default else 1, size=(80, 24)) as (app, pilot, store):
        await wait_until(pilot, lambda: "refused (" in status_line(app), "the refusal")
        line = status_line(app)
        assert " error: work: wrong user name or password" in line and "refused ($)" in line
        assert line.rstrip().endswith("? help")
        assert "login failed" not in line and "AUTHENTICATE" not in line  # said once, by the state


@pytest.mark.dovecot
@pytest.mark.parametrize("folder", [
    "Plans for the year with every note",  # the notice fits beside the named form only
    "Projects and plans for the year ahead with notes from every meeting we had",  # it fits nowhere
])
async def test_the_one_account_offline_is_named_where_a_sign_each_leaves_no_room(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path, folder: str
) -> None:
    """Two accounts at 80 columns, one offline, and a notice too long for a sign each: the
    states say which account is down (``1✓ work ✗``), not only how many (``1✓ 1✗``)."""
    config = maildir_config(tmp_path / "Mail", [simple_message(n) for n in range(3)], more={folder: []})
    imap = imap_account_config(dovecot, mail_user)
    assert imap.imap is not None
    offline = dataclasses.replace(imap, default=False, imap=dataclasses.replace(imap.imap, port=closed_port()))
    config = dataclasses.replace(config, accounts={**config.accounts, "work": offline})
    async with running(config, tmp_path / "cache.sqlite3", 3, size=(80, 24)) as (app, pilot, store):
        await wait_until(pilot, lambda: "work error" in status_line(app), "work cannot connect")
        await pilot.press("m", *folder[:12].lower(), "enter")
        await wait_until(pilot, lambda: "Moved 1 message to " in status_text(app), "the notice")
        line = status_line(app)
        # down, or trying again just then (its retries go on meanwhile): named either way
        assert line.rstrip().endswith((" 1✓ work ✗ │ ? help", " 1✓ work ↻ │ ? help")), line
        assert f" Moved 1 message to {folder[:30]}" in line


@pytest.mark.dovecot
async def test_a_certificate_from_another_ca_is_told_and_the_states_still_fit(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path
) -> None:
    """An IMAP account whose ca_file is another CA's, beside an account sending without TLS: at
    80 columns the refusal says first what to do; the states shrink (the error's detail first)
    and "? help" stays in view."""
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    config = with_smtp(maildir_config(tmp_path / "Mail", [simple_message(1)]), "none")
    imap = imap_account_config(dovecot, mail_user, ca_file=other_ca, name="workplace")
    imap = dataclasses.replace(imap, default=False)
    config = dataclasses.replace(config, accounts={**config.accounts, "workplace": imap})
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(80, 24)) as (app, pilot, store):
        await wait_until(pilot, lambda: "workplace" in status_line(app), "the refusal")
        line = status_line(app)
        assert line.startswith(" error: workplace: untrusted certificate: set ca_file"), line
        assert line.rstrip().endswith("│ ? help"), line
        assert "⚠" in line  # home sends without TLS


@pytest.mark.dovecot
@pytest.mark.parametrize("problem", ["another CA", "another pin", "POP3 with another CA"])
async def test_a_refused_certificate_says_what_to_do_once(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path, problem: str
) -> None:
    """The status bar says what to do about a certificate refused, and what was presented: the
    error once (not at every attempt to connect again), the state in a few words."""
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    imap = imap_account_config(dovecot, mail_user, ca_file=None if problem == "another pin" else other_ca)
    assert imap.imap is not None
    if problem == "another pin":
        imap = dataclasses.replace(imap, imap=dataclasses.replace(imap.imap, tls_fingerprint="sha256:" + "ab" * 32))
    account = dataclasses.replace(imap, default=False)
    if problem.startswith("POP3"):
        account = dataclasses.replace(pop3_account(dovecot, mail_user, tmp_path / "Pop", ca_file=other_ca),
                                      name="work", default=False)
    home = maildir_config(tmp_path / "Mail", [simple_message(1)]).accounts["home"]
    config = Config(path=None, accounts={"home": home, "work": account})
    server = account.pop3 or account.imap
    assert server is not None
    where = f"{server.host}:{server.port}"
    events = []
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(400, 24)) as (app, pilot, store):
        events = service(app).events
        await wait_until(pilot, lambda: "error: work: untrusted certificate" in status_line(app), "the refusal")
        line = status_line(app)
        if problem == "another pin":
            assert (f" error: work: untrusted certificate: if the server's certificate was changed, set"
                    f" tls_fingerprint to the new one ({where}: certificate fingerprint sha256:") in line
            assert f"is not the pinned sha256:{'ab' * 32})" in line
            assert "work error (not the pinned certificate)" in line
        else:
            assert (" error: work: untrusted certificate: set ca_file to the certificate of the CA that"
                    f" signed it ({where}: unable to get local issuer certificate)") in line
        if problem == "another CA":
            assert "work error (untrusted CA: set ca_file)" in line
        if not problem.startswith("POP3"):  # it tries again, and says nothing new
            tries = lambda: sum(isinstance(e, ConnectionChanged) and e.state == ConnectionState.CONNECTING
                                and e.account == "work" for e in events)  # noqa: E731
            await wait_until(pilot, lambda: tries() >= 3, "two more attempts")
    told = [e for e in events if isinstance(e, ErrorReported) and "certificate" in e.message]
    assert len(told) == 1


async def test_the_retry_key_says_what_it_does(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """$ on an account that is connected has nothing to reconnect: it says so, and once an
    action was set aside, that it sends it again (and then that it was done)."""
    config = maildir_config(tmp_path / "Mail", [simple_message(n) for n in range(3)])
    async with running(config, tmp_path / "cache.sqlite3", 3, size=(80, 24)) as (app, pilot, store):
        await wait_until(pilot, lambda: "home online" in status_line(app), "online")
        notices = said(app, monkeypatch)
        await pilot.press("dollar_sign")
        await settle(pilot)
        assert " Nothing to retry: home is connected │" in status_line(app)
        assert "Reconnecting" not in status_line(app)

        uid = store.uids("home", "INBOX")[0]
        action = store.local.add_action("home", "INBOX", [uid], FLAGS, {"add": [FLAGGED], "remove": []})
        store.local.transition(action, (PENDING,), ASIDE)  # it failed three times
        await pilot.press("dollar_sign")
        await wait_until(pilot, lambda: "Marked 1 message flagged" in notices, "sent again")
        assert notices[-2:] == ["Retrying 1 set-aside action…", "Marked 1 message flagged"]
        assert not store.local.actions("home", (ASIDE,))


def said(app: MailbagApp, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every notice and error the status bar is given from now on, however soon the next one
    replaces it (an error as ``error: ...``)."""
    status = app.main_screen.status
    told: list[str] = []
    notice, error = status.set_notice, status.set_error

    def set_notice(text: str) -> None:
        told.append(text)
        notice(text)

    def set_error(text: str, *, retry: bool = False) -> None:
        told.append(f"error: {text}")
        error(text, retry=retry)

    monkeypatch.setattr(status, "set_notice", set_notice)
    monkeypatch.setattr(status, "set_error", set_error)
    return told


@pytest.mark.dovecot
async def test_a_refused_pop3_login_is_told_as_an_imap_one_and_again_after_a_retry(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A POP3 account whose login is refused says "refused ($)" and the server's reason once,
    as an IMAP account does; $ says it checks it and reconnects the IMAP account that is
    offline, and the refusal is told the same way again."""
    wrong = "printf '%s\\n' not-the-password"
    old = dataclasses.replace(pop3_account(dovecot, mail_user, tmp_path / "Mail", password_command=wrong),
                              default=False)
    home = maildir_config(tmp_path / "Home", [simple_message(1)]).accounts["home"]
    imap = imap_account_config(dovecot, mail_user)
    assert imap.imap is not None
    offline = dataclasses.replace(imap, default=False, imap=dataclasses.replace(imap.imap, port=closed_port()))
    config = Config(path=None, accounts={"home": home, "old": old, "work": offline})
    reason = " error: old: the user name or password was not accepted"
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(200, 24)) as (app, pilot, store):
        await wait_until(pilot, lambda: "old login refused ($ to retry)" in status_line(app), "the refusal")
        await wait_until(pilot, lambda: "work error" in status_line(app), "work cannot connect")
        assert status_line(app).startswith(reason)
        assert "login refused:" not in status_line(app)  # said once, by the state

        told = said(app, monkeypatch)
        await pilot.press("dollar_sign")
        await wait_until(pilot, lambda: any(t.startswith(reason.strip()) for t in told), "the refusal told again")
        assert told[0] == "Reconnecting work, checking old for new mail…"
        await wait_until(pilot, lambda: "old login refused ($ to retry)" in status_line(app), "refused again")
        line = status_line(app)
        assert line.startswith(reason) and "login refused:" not in line


def offline_with_reason(app: MailbagApp) -> bool:
    """Whether the status bar says the POP3 account "old" is offline, with why (beside the line's
    error, which leaves the reason to "Status in full" until it goes)."""
    return "old offline" in status_line(app) and "old: offline (cannot reach" in app.main_screen.status.in_full()


@pytest.mark.dovecot
async def test_a_pop3_server_out_of_reach_shows_in_the_state_and_its_mail_stays_readable(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path
) -> None:
    """A POP3 server that cannot be reached at a check leaves its account "offline" with the
    reason (not "online" once the error has gone), its mail read as before; the next check that
    reaches it makes it "online" again."""
    dovecot.deliver_many(mail_user.name, [simple_message(n, subject=f"Old mail {n}") for n in range(3)])
    async with Proxy(dovecot.host, dovecot.pop3s_port) as proxy:
        old = pop3_account(dovecot, mail_user, tmp_path / "Mail", port=proxy.port)
        config = Config(path=None, accounts={"old": old})
        async with running(config, tmp_path / "cache.sqlite3", 3, size=(120, 24)) as (app, pilot, store):
            await wait_until(pilot, lambda: "old online" in status_line(app), "online")
            await proxy.down()
            await pilot.press("dollar_sign")
            # The reason is told once as an error (by this check, or by the next one the app
            # makes: on a busy machine that can be the one after the quiet spell); the state keeps it.
            await wait_until(pilot, lambda: offline_with_reason(app), "offline, with the reason", timeout=90)
            assert f"old: offline (cannot reach localhost:{proxy.port}" in app.main_screen.status.in_full()

            await pilot.press("enter")
            await wait_until(pilot, lambda: "body of message 2" in reader_text(app)[1], "the mail is read")

            await proxy.up()
            await pilot.press("dollar_sign")
            await wait_until(pilot, lambda: "old online" in status_line(app), "online again")


@pytest.mark.dovecot
async def test_a_pop3_server_out_of_reach_is_told_once_whatever_the_checks_and_again_at_a_retry(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each check the app makes while the server is out of reach (the folder tree looked at)
    fails again, and says nothing more: the state says it. $ asks again, and tells the reason
    again, once."""
    dovecot.deliver_many(mail_user.name, [simple_message(n) for n in range(2)])
    async with Proxy(dovecot.host, dovecot.pop3s_port) as proxy:
        old = pop3_account(dovecot, mail_user, tmp_path / "Mail", port=proxy.port)
        async with running(Config(path=None, accounts={"old": old}), tmp_path / "cache.sqlite3", 2,
                           size=(120, 24)) as (app, pilot, store):
            await wait_until(pilot, lambda: "old online" in status_line(app), "online")
            # The first download's session over (its QUIT cut would be told before the $ below).
            await wait_until(pilot, lambda: proxy.open_links == 0, "the first session ended")
            await proxy.down()
            told = said(app, monkeypatch)
            reason = f"error: old: cannot reach localhost:{proxy.port}"

            def errors() -> list[str]:
                return [t for t in told if t.startswith("error:")]

            await pilot.press("dollar_sign")
            await wait_until(pilot, lambda: offline_with_reason(app), "offline, with the reason", timeout=90)
            await wait_until(pilot, lambda: len(errors()) == 1, "the reason told")
            assert errors()[0].startswith(reason)

            worker = service(app).workers["old"]
            for _ in range(2):
                answered = len(service(app).events)
                worker._last_download -= 120  # type: ignore[attr-defined]  # two minutes on
                app.main_screen.check_folders()  # as when the folder tree is looked at
                await wait_until(pilot, lambda: any(
                    type(e).__name__ == "RequestFailed" for e in service(app).events[answered:]
                ), "the check failed")
                await pilot.pause(0.2)
            assert len(errors()) == 1 and offline_with_reason(app)

            await pilot.press("dollar_sign")
            await wait_until(pilot, lambda: len(errors()) == 2, "the reason told again")
            await pilot.pause(0.5)
            assert len(errors()) == 2 and errors()[1].startswith(reason)


@pytest.mark.dovecot
async def test_a_folder_opened_after_a_refused_login_says_the_servers_reason_too(
    dovecot: DovecotServer, mail_user: MailUser, tmp_path
) -> None:
    """Opening a folder of an account whose login was refused fails at once; its error keeps the
    server's reason, which it replaces in the status bar (at start, on a busy machine, the Inbox
    opened first is asked for only after the refusal came)."""
    dovecot.deliver(mail_user.name, simple_message(1))
    account = imap_account_config(dovecot, mail_user)
    async with running(Config(path=None, accounts={"work": account}), tmp_path / "cache.sqlite3", 1):
        pass  # its folders are known from now on
    assert account.imap is not None
    wrong = dataclasses.replace(account.imap, password_command="printf '%s\\n' not-the-password")
    config = Config(path=None, accounts={"work": dataclasses.replace(account, imap=wrong)})
    async with running(config, tmp_path / "cache.sqlite3", 1, size=(200, 24)) as (app, pilot, store):
        await wait_until(pilot, lambda: "refused (" in status_line(app), "the refusal")
        app.main_screen.status.clear_error()  # as it goes after a while
        await pilot.press("h", "enter")  # the Inbox, opened again
        await wait_until(pilot, lambda: "error: work:" in status_line(app), "the folder's error")
        assert " error: work: wrong user name or password" in status_line(app)
