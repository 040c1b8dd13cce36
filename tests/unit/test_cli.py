"""The command line as a user meets it: version, help, and config mistakes without tracebacks."""

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mailbag import __version__
from tests.unit.cli import Terminal, environment, mailbag


def test_version(tmp_path):
    result = mailbag("--version", env_home=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"mailbag {__version__}"


def test_help_lists_options_and_sync(tmp_path):
    result = mailbag("--help", env_home=tmp_path)
    assert result.returncode == 0
    for word in ("--config", "--demo", "--debug", "sync"):
        assert word in result.stdout


def test_bad_config_names_file_line_and_key_without_traceback(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        '[accounts.work]\nemail = "me@example.org"\n\n[accounts.work.imap]\n'
        'host = "imap.example.org"\nsecurity = "tls"\nprot = 993\n'
    )
    result = mailbag("--config", str(config), "sync", env_home=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{config}:7" in result.stderr
    assert "prot" in result.stderr


def test_missing_config_is_a_clear_error(tmp_path):
    result = mailbag("--config", str(tmp_path / "nope.toml"), env_home=tmp_path)
    assert result.returncode == 2
    assert "nope.toml" in result.stderr and "Traceback" not in result.stderr


def test_unknown_account_for_sync(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        '[accounts.work]\nemail = "me@example.org"\n[accounts.work.imap]\nhost = "127.0.0.1"\nkeyring = true\n'
    )
    result = mailbag("--config", str(config), "sync", "--account", "home", env_home=tmp_path)
    assert result.returncode == 2
    assert "home" in result.stderr


def test_no_config_file_explains_how_to_start(tmp_path):
    result = mailbag(env_home=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    expected = tmp_path / "config" / "mailbag" / "config.toml"
    assert f"no config file at {expected}" in result.stderr
    assert "[accounts.work.imap]" in result.stderr and "password_command" in result.stderr
    assert "mailbag --demo" in result.stderr


def test_no_config_on_a_terminal_opens_the_setup_screen_and_esc_writes_nothing(tmp_path: Path) -> None:
    env = environment(tmp_path) | {"TERM": "xterm-256color"}
    terminal = Terminal()
    child = subprocess.Popen(
        [sys.executable, "-m", "mailbag"], stdin=terminal.slave, stdout=terminal.slave,
        stderr=terminal.slave, env=env, start_new_session=True,
    )
    try:
        for _ in range(3000):  # bounded only so that a regression cannot hang the run
            if b"Email address" in terminal.output or child.poll() is not None:
                break
            time.sleep(0.02)
        assert child.poll() is None, bytes(terminal.output)[-2000:]
        assert b"mailbag setup" in terminal.output
        os.write(terminal.master, b"\x1b")
        assert child.wait(timeout=60) == 1
        time.sleep(0.2)
        assert b"setup cancelled; nothing more was written" in terminal.output
        assert not (tmp_path / "config" / "mailbag").exists()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        terminal.close()


def test_setup_needs_a_terminal(tmp_path):
    result = mailbag("setup", env_home=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "mailbag: setup needs a terminal"


def maildir_config(tmp_path: Path, extra: str) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'{extra}\n[accounts.home]\nemail = "me@example.org"\nmaildir = "{tmp_path / "Mail"}"\n')
    return config


def test_a_key_bound_twice_names_both_actions_and_the_line(tmp_path):
    config = maildir_config(tmp_path, '[ui]\ntheme = "mailbag-dark"\n\n[keymap]\nquit = "q"\narchive = "d"\n')
    result = mailbag("--config", str(config), env_home=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f'mailbag: {config}:6: keymap.archive: "d" is already bound to delete: '
        "rebind that too, or choose another key"
    )


def test_an_unknown_binding_id_and_an_unknown_theme_name_their_lines(tmp_path):
    config = maildir_config(tmp_path, '[keymap]\narchive = "a"\narchve = "x"\n')
    result = mailbag("--config", str(config), env_home=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"mailbag: {config}:3: keymap.archve: unknown key binding id;")

    config = maildir_config(tmp_path, '[ui]\nnotify = "none"\ntheme = "solarized-neon"\n')
    result = mailbag("--config", str(config), env_home=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"mailbag: {config}:3: ui.theme: unknown theme 'solarized-neon';")
    assert "mailbag-light" in result.stderr and "Traceback" not in result.stderr


def test_without_a_terminal_the_ui_refuses_in_one_line(tmp_path):
    config = maildir_config(tmp_path, "")
    for args in (("--config", str(config)), ("--demo",)):
        result = mailbag(*args, env_home=tmp_path)  # stdin and stdout are pipes here
        assert result.returncode == 2
        assert result.stderr.splitlines() == [
            "mailbag: the mail UI needs a terminal (stdin and stdout); to fill the cache without one: mailbag sync"
        ]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_the_demo_removes_its_directory_on_sigterm_and_sighup(tmp_path: Path, signum: int) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = environment(tmp_path) | {"TMPDIR": str(temp), "TERM": "xterm-256color"}
    terminal = Terminal()
    child = subprocess.Popen(
        [sys.executable, "-m", "mailbag", "--demo"],
        stdin=terminal.slave, stdout=terminal.slave, stderr=terminal.slave, env=env,
        start_new_session=True, umask=0o000,
    )
    try:
        for _ in range(3000):  # the UI is up once the reader shows a message (bounded: no hang)
            if b"Subject:" in terminal.output or child.poll() is not None:
                break
            time.sleep(0.02)
        demo_dirs = list(temp.glob("mailbag-demo-*"))
        assert child.poll() is None, bytes(terminal.output)[-2000:]
        assert len(demo_dirs) == 1 and (demo_dirs[0] / "Mail").is_dir()
        made = [demo_dirs[0], *demo_dirs[0].rglob("*")]
        assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in made} == {"0o600", "0o700"}

        child.send_signal(signum)
        child.wait(timeout=60)

        assert not demo_dirs[0].exists()
        assert list(temp.iterdir()) == []
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        terminal.close()


def test_compose_fills_the_new_message_from_addresses_or_a_mailto_link(tmp_path: Path) -> None:
    from mailbag.__main__ import start_compose
    from mailbag.domain.config import load_config

    config_file = tmp_path / "config.toml"
    config_file.write_text('[accounts.home]\nemail = "me@example.net"\nmaildir = "~/Mail"\n\n'
                           '[accounts.work]\nemail = "me@example.org"\ndefault = true\nmaildir = "~/Mail2"\n')
    config = load_config(config_file)
    link = "mailto:ann@example.org?cc=bob@example.org&subject=Hello%20there&body=Hi%0AAnn&bcc=spy@example.org"
    start = start_compose(config, [link], "", [], None)
    assert (start.account, start.to, start.cc, start.subject, start.body) == (
        "work", "ann@example.org", "bob@example.org", "Hello there", "Hi\nAnn")  # no Bcc from a link
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF")
    start = start_compose(config, ["ann@example.org", "Bob <bob@example.org>"], "Numbers", [report], "home")
    assert (start.account, start.to, start.subject, start.attach) == (
        "home", "ann@example.org, Bob <bob@example.org>", "Numbers", (str(report),))
    for bad, words in (([link, "x@example.org"], "a mailto: link is given alone"),):
        with pytest.raises(ValueError, match=words):
            start_compose(config, bad, "", [], None)


@pytest.mark.parametrize("args, words", [
    (["--account", "play", "ann@example.org"], "no account named 'play'"),
    (["-a", "missing.pdf", "ann@example.org"], "missing.pdf is not a file that can be read"),
])
def test_compose_refuses_an_unknown_account_or_a_file_it_cannot_attach(tmp_path: Path, args: list[str],
                                                                       words: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[accounts.work]\nemail = "me@example.org"\nmaildir = "{tmp_path / "Mail"}"\n')
    result = mailbag("--config", str(config), "compose", *args, env_home=tmp_path)
    assert result.returncode == 2
    assert f"mailbag: compose: {words}" in result.stderr and "Traceback" not in result.stderr


def test_compose_without_a_terminal_refuses_a_mailto_link_rather_than_send_it_unseen(tmp_path: Path) -> None:
    # A browser that runs "mailbag compose %u" with no terminal would have sent a page's link.
    config = tmp_path / "config.toml"
    config.write_text(f'[accounts.work]\nemail = "me@example.org"\nmaildir = "{tmp_path / "Mail"}"\n\n'
                      '[accounts.work.smtp]\nhost = "127.0.0.1"\nport = 1\nsecurity = "none"\nusername = "me"\npassword_env = "NONE_SET"\n')
    link = "mailto:ann@example.org?subject=Hi&body=Send%20me%20money"
    result = subprocess.run([sys.executable, "-m", "mailbag", "--config", str(config), "compose", link],
                            input="", capture_output=True, text=True, env=environment(tmp_path), timeout=60)
    assert result.returncode == 2
    assert "a mailto: link opens its message to be read first, which needs a terminal" in result.stderr
    assert not list(tmp_path.rglob("local.sqlite3"))  # nothing queued
