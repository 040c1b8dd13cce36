"""Fixtures shared by every mailbag test.

- every test gets its own XDG config/data/state/cache directories;
- ``dovecot``: one private Dovecot for the whole session (tests/servers);
- ``mail_user``: a fresh account on it for each test;
- ``smtp_server``: the session's aiosmtpd (STARTTLS and implicit TLS, AUTH), delivering into that
  Dovecot over LMTP; each test gets it running and with nothing scripted;
- ``autoconfig_server``: an HTTPS server on loopback for autoconfig documents, its certificate
  from the Dovecot's test CA;
- ``memory_keyring``: the keyring is one in memory for the test.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.memory_keyring import MemoryKeyring, keyring_backend
from tests.servers.autoconfig import AutoconfigServer
from tests.servers.dovecot import DovecotNotInstalled, DovecotServer, MailUser
from tests.servers.smtp import SmtpServer

_LOG_OFFSET = pytest.StashKey[int]()
_LOG_SECTION_LIMIT = 20_000  # characters of server log attached to a failure
_server: DovecotServer | None = None


@pytest.fixture(autouse=True)
def xdg_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the XDG base directories at a fresh directory (beside ``tmp_path``)."""
    base = tmp_path_factory.mktemp("xdg")
    for var, name in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_RUNTIME_DIR", "runtime"),
    ):
        path = base / name
        path.mkdir(mode=0o700, parents=True)
        monkeypatch.setenv(var, str(path))
    return base


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """The session's private Dovecot (IMAP, IMAPS, POP3, POP3S, LMTP)."""
    global _server
    try:
        server = DovecotServer()
    except DovecotNotInstalled as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        server.start()
    except BaseException:
        server.cleanup()  # the error message carries the server's log
        raise
    _server = server
    try:
        yield server
    finally:
        _server = None
        server.cleanup()


@pytest.fixture
def mail_user(dovecot: DovecotServer) -> MailUser:
    """A new account on the session's Dovecot, so tests never share mail."""
    if not dovecot.running:  # a test may have stopped it
        dovecot.start()
    return dovecot.add_user()


@pytest.fixture(scope="session")
def _smtp_session(dovecot: DovecotServer) -> Iterator[SmtpServer]:
    server = SmtpServer(dovecot)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_server(_smtp_session: SmtpServer, dovecot: DovecotServer) -> SmtpServer:
    """The session's SMTP server, running, with nothing received or scripted."""
    if not dovecot.running:  # a test may have stopped it
        dovecot.start()
    _smtp_session.reset()
    return _smtp_session


@pytest.fixture
def autoconfig_server(dovecot: DovecotServer) -> Iterator[AutoconfigServer]:
    """An HTTPS server for autoconfig documents, trusted through ``dovecot.ca_file``."""
    server = AutoconfigServer(dovecot.ca)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """The keyring, for this test, is one in memory."""
    backend = MemoryKeyring()
    with keyring_backend(backend):
        yield backend


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    result = yield
    if _server is not None:
        item.stash[_LOG_OFFSET] = _server.log_size()
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach what Dovecot logged during a failed test to its report."""
    report = yield
    if (report.failed and _server is not None and isinstance(item, pytest.Function)
            and "dovecot" in item.fixturenames):
        text = _server.log_text(item.stash.get(_LOG_OFFSET, 0))
        if len(text) > _LOG_SECTION_LIMIT:
            text = "[...]\n" + text[-_LOG_SECTION_LIMIT:]
        report.sections.append(("Dovecot log", text or "(empty)"))
    return report
