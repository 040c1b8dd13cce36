"""Adding an account: the logins are tried on the private Dovecot and the test SMTP server before
anything is written, and the config is written whole, 0600, keeping what the file had."""

from __future__ import annotations

import dataclasses
import re
import stat
from pathlib import Path

import pytest
import trustme
from keyring.backends.fail import Keyring as FailKeyring

from mailbag.domain.config import load_config
from mailbag.domain.discovery import ServerChoice
from mailbag.domain.new_account import NewAccount, PasswordSource
from mailbag.services.account_setup import check_logins, prepare, save
from mailbag.services.setup_api import SetupError
from mailbag.services.secrets import resolve_password
from tests.memory_keyring import MemoryKeyring, keyring_backend
from tests.servers.dovecot import DovecotServer, MailUser
from tests.servers.smtp import SmtpServer

pytestmark = pytest.mark.dovecot


def new_account(dovecot: DovecotServer, user: MailUser, smtp: SmtpServer, *, name: str = "work",
                password: PasswordSource = PasswordSource("keyring"), pop3: bool = False,
                smtp_user: str | None = None) -> NewAccount:
    incoming = (ServerChoice("pop3", "localhost", dovecot.pop3s_port, "tls", user.name) if pop3
                else ServerChoice("imap", "localhost", dovecot.imaps_port, "tls", user.name))
    return NewAccount(
        name=name, email=user.email, display_name="Ann Lee", incoming=incoming,
        smtp=ServerChoice("smtp", "localhost", smtp.port, "starttls", smtp_user or smtp.username),
        password=password, ca_file=str(dovecot.ca_file),
    )


async def test_the_logins_pass_with_the_right_password(
    dovecot: DovecotServer, mail_user: MailUser, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    # The test SMTP server takes one user and password: give the Dovecot user the same one.
    user = dovecot.add_user(password=smtp_server.password)
    for pop3 in (False, True):
        account = new_account(dovecot, user, smtp_server, pop3=pop3)
        _, config = prepare(tmp_path / "config.toml", account)

        await check_logins(config.accounts["work"], smtp_server.password)


async def test_a_wrong_password_names_each_server_that_refused_it(
    dovecot: DovecotServer, mail_user: MailUser, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    _, config = prepare(tmp_path / "config.toml", new_account(dovecot, mail_user, smtp_server))

    with pytest.raises(SetupError) as caught:
        await check_logins(config.accounts["work"], "wrong")

    problems = caught.value.problems
    assert len(problems) == 2
    assert problems[0].startswith(f"IMAP localhost:{dovecot.imaps_port}: login failed")
    assert problems[1].startswith(f"SMTP localhost:{smtp_server.port}: login refused: 535")
    assert not (tmp_path / "config.toml").exists()


@pytest.mark.parametrize("pop3", [False, True], ids=["imap", "pop3"])
@pytest.mark.parametrize("ca", ["none", "another"])
async def test_servers_whose_certificate_is_not_trusted_get_no_login(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path, pop3: bool, ca: str
) -> None:
    """Without the CA file, or with another CA's, the private certificate authority is unknown:
    each login test says so in the same words for IMAP, POP3 and SMTP (the server, what failed,
    what to do), and nothing is written."""
    ca_file = ""
    if ca == "another":
        ca_file = str(tmp_path / "another-ca.pem")
        trustme.CA().cert_pem.write_to_path(ca_file)
    user = dovecot.add_user(password=smtp_server.password)
    account = dataclasses.replace(new_account(dovecot, user, smtp_server, pop3=pop3), ca_file=ca_file)
    _, config = prepare(tmp_path / "config.toml", account)

    with pytest.raises(SetupError) as caught:
        await check_logins(config.accounts["work"], smtp_server.password)

    incoming, sending = caught.value.problems
    port = dovecot.pop3s_port if pop3 else dovecot.imaps_port
    for problem, protocol, where in ((incoming, "POP3" if pop3 else "IMAP", f"localhost:{port}"),
                                     (sending, "SMTP", f"localhost:{smtp_server.port}")):
        assert re.fullmatch(
            f"{protocol} {where}: certificate not trusted for {where} "
            r"\(unable to get local issuer certificate\): set ca_file to the certificate of the CA that signed it",
            problem,
        ), problem
    assert smtp_server.received == [] and not (tmp_path / "config.toml").exists()


async def test_a_password_command_is_run_for_the_test(
    dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    user = dovecot.add_user(password=smtp_server.password)
    runs = tmp_path / "runs"
    command = PasswordSource("command", f"echo run >> {runs}; printf '%s\\n' '{smtp_server.password}'")
    _, config = prepare(tmp_path / "config.toml", new_account(dovecot, user, smtp_server, password=command))

    await check_logins(config.accounts["work"], None)

    assert runs.read_text() == "run\n"  # once for both servers: a command that prompts, prompts once


async def test_a_missing_environment_variable_is_named(
    dovecot: DovecotServer, mail_user: MailUser, smtp_server: SmtpServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MAILBAG_TEST_PW", raising=False)
    source = PasswordSource("env", "MAILBAG_TEST_PW")
    _, config = prepare(tmp_path / "config.toml", new_account(dovecot, mail_user, smtp_server, password=source))

    with pytest.raises(SetupError) as caught:
        await check_logins(config.accounts["work"], None)

    assert caught.value.problems[0].endswith("password: environment variable MAILBAG_TEST_PW is not set")


async def test_saving_writes_0600_and_keeps_the_password_in_the_keyring(
    dovecot: DovecotServer, mail_user: MailUser, smtp_server: SmtpServer, tmp_path: Path,
    memory_keyring: MemoryKeyring,
) -> None:
    path = tmp_path / "mailbag" / "config.toml"

    config = save(path, new_account(dovecot, mail_user, smtp_server), "s3cret")

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert "s3cret" not in path.read_text()
    account = load_config(path).accounts["work"]
    assert account == config.accounts["work"] and account.default
    assert account.imap is not None and account.smtp is not None
    assert await resolve_password(account.imap) == "s3cret"
    assert await resolve_password(account.smtp) == "s3cret"


def test_a_second_account_keeps_the_first_and_its_comments(
    dovecot: DovecotServer, mail_user: MailUser, smtp_server: SmtpServer, tmp_path: Path,
    memory_keyring: MemoryKeyring,
) -> None:
    path = tmp_path / "config.toml"
    first = (
        "# my mail\n[ui]\ntheme = \"mailbag-light\"  # easier on the eyes\n\n"
        "[accounts.old]\nemail = \"me@old.test\"\nmaildir = \"~/Mail/old\"\n"
    )
    path.write_text(first)

    save(path, new_account(dovecot, mail_user, smtp_server, name="work"), "pw")

    text = path.read_text()
    assert text.startswith(first)
    config = load_config(path)
    assert list(config.accounts) == ["old", "work"]
    assert config.default_account() is not None and config.default_account().name == "old"  # type: ignore[union-attr]
    assert config.ui.theme == "mailbag-light"


def test_a_symlinked_config_stays_a_symlink_and_its_target_gets_the_account(
    dovecot: DovecotServer, mail_user: MailUser, smtp_server: SmtpServer, tmp_path: Path,
    memory_keyring: MemoryKeyring,
) -> None:
    """A config kept with the user's dotfiles, linked into place: the link stays and the file it
    points to is rewritten, keeping its mode; nothing is left beside either."""
    target = tmp_path / "dotfiles" / "mailbag.toml"
    target.parent.mkdir()
    target.write_text("# mine, under version control\n")
    target.chmod(0o400)
    link = tmp_path / "config" / "mailbag" / "config.toml"
    link.parent.mkdir(parents=True)
    link.symlink_to(target)

    save(link, new_account(dovecot, mail_user, smtp_server), "pw")

    assert link.is_symlink() and link.resolve() == target
    assert target.read_text().startswith("# mine, under version control\n\n[accounts.work]\n")
    assert list(load_config(link).accounts) == ["work"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o400
    assert sorted(p.name for p in target.parent.iterdir()) == ["mailbag.toml"]
    assert sorted(p.name for p in link.parent.iterdir()) == ["config.toml"]


def test_an_account_name_taken_already_is_refused_and_nothing_written(
    dovecot: DovecotServer, mail_user: MailUser, smtp_server: SmtpServer, tmp_path: Path,
    memory_keyring: MemoryKeyring,
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[accounts.work]\nemail = "me@old.test"\nmaildir = "~/Mail/old"\n')
    before = path.read_bytes()

    with pytest.raises(SetupError, match="an account named 'work' exists already"):
        save(path, new_account(dovecot, mail_user, smtp_server, name="work"), "pw")

    assert path.read_bytes() == before
    assert memory_keyring.entries == {}


def test_without_a_usable_keyring_nothing_is_written(
    dovecot: DovecotServer, mail_user: MailUser, smtp_server: SmtpServer, tmp_path: Path,
) -> None:
    with keyring_backend(FailKeyring()):  # as over SSH with no keyring daemon
        with pytest.raises(SetupError, match="^keyring: there is no system keyring on this machine"):
            save(tmp_path / "config.toml", new_account(dovecot, mail_user, smtp_server), "pw")

    assert not (tmp_path / "config.toml").exists()


class BrokenKeyring(MemoryKeyring):
    """A backend that fails in its own way (as a D-Bus keyring may), not with a KeyringError."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("the collection is locked")


def test_a_keyring_that_fails_in_its_own_way_is_told_and_nothing_is_written(
    dovecot: DovecotServer, mail_user: MailUser, smtp_server: SmtpServer, tmp_path: Path,
) -> None:
    with keyring_backend(BrokenKeyring()):
        with pytest.raises(SetupError, match="^keyring: RuntimeError: the collection is locked$"):
            save(tmp_path / "config.toml", new_account(dovecot, mail_user, smtp_server), "pw")

    assert not (tmp_path / "config.toml").exists()
