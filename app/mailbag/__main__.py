"""The ``mailbag`` command: wires config -> cache -> services -> UI (or the headless sync)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import errno
import functools
import gc
import logging
import os
import shutil
import signal
import stat
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mailbag import __version__, paths
from mailbag.domain.config import AccountConfig, Config, ConfigError, load_config
from mailbag.domain.events import (
    ConnectionChanged,
    ErrorReported,
    Event,
    Notice,
    SyncProgress,
)
from mailbag.domain.sanitize import clean_line
from mailbag.domain.wording import plural
from mailbag.logsetup import setup_logging

if TYPE_CHECKING:
    from mailbag.domain.compose import StartCompose
    from mailbag.store.cache_file import CacheFile
    from mailbag.ui.app import MailbagApp

log = logging.getLogger("mailbag")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mailbag",
        description="A fast, keyboard-first terminal email client.",
        epilog="Global options go before the command: mailbag --config PATH sync --account work",
    )
    parser.add_argument("--version", action="version", version=f"mailbag {__version__}")
    parser.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="config file (default: $MAILBAG_CONFIG or $XDG_CONFIG_HOME/mailbag/config.toml)",
    )
    parser.add_argument(
        "--demo", action="store_true", help="open a sample mailbox; needs no account or network"
    )
    parser.add_argument("--debug", action="store_true", help="verbose log file (under the state dir)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    sync = commands.add_parser(
        "sync", help="fill the cache with every folder's headers, without the UI"
    )
    sync.add_argument("--account", metavar="NAME", help="only this account (default: all)")
    send = commands.add_parser(
        "send",
        help="send the message on stdin (like sendmail -t) through the outbox",
        description="Read an RFC 5322 message on stdin and send it to its To, Cc and Bcc"
        " recipients (Bcc is taken out). Exit status: 0 sent, 75 queued for later (server"
        " unreachable), 69 refused or uncertain (kept in the outbox), 65 a message that cannot"
        " be sent as it is, 64 no such account.",
    )
    send.add_argument("--account", metavar="NAME", help="send with this account (default: by From)")
    send.add_argument(
        "--flush", action="store_true", help="send what waits in the outbox instead (reads no stdin)"
    )
    oauth2 = commands.add_parser(
        "oauth2",
        help="sign an account in with its OAuth2 provider (shows a code and a URL to enter it at)",
        description="Run the device-code flow of the account's [oauth2] provider: open the URL"
        " shown on any device, enter the code, and the refresh token goes to the system keyring."
        " Exit status: 0 signed in, 1 refused or not reachable, 2 no such account or no [oauth2].",
    )
    oauth2.add_argument("account", metavar="ACCOUNT", help="the account's name in the config")
    commands.add_parser(
        "setup",
        help="add an account: finds its servers from the address, tests the login, writes the config",
    )
    compose = commands.add_parser(
        "compose",
        help="open mailbag on a new message to ADDRESS... or a mailto: link (as a mailto handler)",
        description="Open the mail client with a new message: to the addresses given, or filled"
        " from one mailto: link (RFC 6068: to, cc, subject and body; any other field is left out)."
        " As the system's mailto handler, in a terminal: x-terminal-emulator -e mailbag compose %u."
        " The message goes through the outbox like any other; mailbag stays open when it is sent or"
        " put away. With its standard input not a terminal (a script: mailbag compose -s Report"
        " ann@example.org < report.txt), the input is the text and the message is sent at once,"
        " with mailbag send's exit status; a mailto: link is then refused, never sent unseen.",
    )
    compose.add_argument("to", nargs="*", metavar="ADDRESS", help="a recipient, or one mailto: link")
    compose.add_argument("-s", "--subject", default="", help="the subject")
    compose.add_argument("-a", "--attach", action="append", default=[], type=Path, metavar="FILE",
                         help="attach FILE (may be given again)")
    compose.add_argument("--account", metavar="NAME", help="write from this account (default: the default one)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.umask(0o077)  # what mailbag writes holds mail: for its user only (as mutt does)
    try:
        if args.demo:
            if args.command:
                print("mailbag: --demo only opens the sample mailbox in the UI", file=sys.stderr)
                return 2
            return run_demo(args)
        path = args.config or paths.config_file()
        missing = not path.exists() and not path.is_symlink()
        if args.command == "setup" or (missing and args.command is None):
            if not (sys.stdin.isatty() and sys.stdout.isatty()):
                lines = "mailbag: setup needs a terminal" if args.command == "setup" else getting_started(path)
                print(lines, file=sys.stderr)
                return 2
            if not run_setup(path, debug=args.debug):
                print("mailbag: setup cancelled; nothing more was written", file=sys.stderr)
                return 1
            args.command = None  # on to the client, with the account just added
        elif missing:
            print(getting_started(path), file=sys.stderr)
            return 2
        config = load_config(path)
    except ConfigError as exc:
        print(f"mailbag: {exc}", file=sys.stderr)
        return 2
    setup_logging(paths.log_file(), debug=args.debug)
    warning = exposed_secrets(config)
    if warning is not None:
        log.warning("%s", warning)
        print(f"mailbag: warning: {warning}", file=sys.stderr)
    if not config.accounts:
        print(
            f"mailbag: no account in {config.path}; add one with mailbag setup, or try mailbag --demo",
            file=sys.stderr,
        )
        return 2
    if args.command == "sync":
        return asyncio.run(run_sync(config, args.account))
    if args.command == "send":
        from mailbag.send_command import run_send

        raw = b"" if args.flush else sys.stdin.buffer.read()
        return asyncio.run(run_send(config, args.account, args.flush, raw))
    if args.command == "oauth2":
        from mailbag.oauth2_command import run_oauth2

        try:
            return asyncio.run(run_oauth2(config, args.account))
        except KeyboardInterrupt:
            print("mailbag: oauth2: not signed in", file=sys.stderr)
            return 130
    start = None
    if args.command == "compose":
        try:
            start = start_compose(config, args.to, args.subject, args.attach, args.account)
        except ValueError as exc:
            print(f"mailbag: compose: {exc}", file=sys.stderr)
            return 2
        if not sys.stdin.isatty():  # a script's: the body on stdin, sent at once (mutt -s ... < file)
            if any(map(_is_link, args.to)):
                # A link's message is shown before it goes: one clicked in a browser that runs
                # mailbag without a terminal is never sent unseen.
                print("mailbag: compose: a mailto: link opens its message to be read first, which needs a"
                      " terminal: run it in one (x-terminal-emulator -e mailbag compose %u)", file=sys.stderr)
                return 2
            from mailbag.send_command import run_composed

            return asyncio.run(run_composed(config, start, sys.stdin.buffer.read()))
    return run_ui(config, paths.cache_db(), start=start)


def start_compose(config: Config, to: Sequence[str], subject: str, attach: Sequence[Path],
                  account: str | None) -> StartCompose:
    """The new message ``mailbag compose`` opens with; ValueError (its words) for an account that
    does not exist or a file that cannot be attached."""
    from mailbag.domain.compose import StartCompose
    from mailbag.domain.mailto import MailtoFields, parse_mailto

    if account is not None and account not in config.accounts:
        raise ValueError(f"no account named {account!r} in {config.path}")
    chosen = account or config.account_names()[0]
    if len(to) == 1 and _is_link(to[0]):
        fields = parse_mailto(to[0])
    elif any(map(_is_link, to)):
        raise ValueError("a mailto: link is given alone")
    else:
        fields = MailtoFields(to=", ".join(clean_line(address) for address in to))
    for path in attach:
        if not path.is_file() or not os.access(path, os.R_OK):
            raise ValueError(f"{path} is not a file that can be read")
    return StartCompose(account=chosen, to=fields.to, cc=fields.cc, subject=clean_line(subject) or fields.subject,
                        body=fields.body, attach=tuple(str(path.resolve()) for path in attach))


def _is_link(argument: str) -> bool:
    """Whether a ``mailbag compose`` argument is a mailto: link rather than an address."""
    return argument[:7].lower() == "mailto:"


def exposed_secrets(config: Config) -> str | None:
    """A warning when the config file has a password_command or oauth2_token_command (which may
    hold a secret) or an OAuth2 client_secret, and other users may read the file; None otherwise."""
    if config.path is None:
        return None
    servers = [s for a in config.accounts.values() for s in (a.imap, a.smtp, a.pop3) if s is not None]
    kinds = [
        key for key, present in (
            ("a password_command", any(s.password_command for s in servers)),
            ("an oauth2_token_command", any(s.oauth2_token_command for s in servers)),
            ("a client_secret", any(a.oauth2 and a.oauth2.client_secret for a in config.accounts.values())),
        ) if present
    ]
    if not kinds:
        return None
    try:
        mode = config.path.stat().st_mode
    except OSError:
        return None
    if not mode & (stat.S_IRGRP | stat.S_IROTH):
        return None
    return (
        f"{config.path} has {' and '.join(kinds)} and other users can read it;"
        f" chmod 600 {config.path}"
    )


MINIMAL_CONFIG = """\
[accounts.work]
email = "me@example.org"

[accounts.work.imap]
host = "imap.example.org"
password_command = "pass show mail/work"\
"""


def getting_started(path: Path) -> str:
    """What to tell someone who has no config file yet (and no terminal for the setup screen)."""
    example = "\n".join(f"    {line}" if line else "" for line in MINIMAL_CONFIG.splitlines())
    return (
        f"mailbag: no config file at {path}\n"
        "Run mailbag (or mailbag setup) in a terminal to set up an account, or create the file,"
        f" for example:\n\n{example}\n\n"
        "(the README lists every setting), or look around first: mailbag --demo"
    )


def run_setup(path: Path, *, debug: bool) -> list[str]:
    """The setup screens, adding accounts to the config at ``path`` (made if missing); the names
    of the accounts written (none: cancelled). Raises ConfigError for a config that exists and
    is not valid (the screens would append to it)."""
    existing = load_config(path) if path.exists() or path.is_symlink() else Config(path=path)
    setup_logging(paths.log_file(), debug=debug)
    from mailbag.services.account_setup import SetupService
    from mailbag.ui.setup_app import SetupApp

    app = SetupApp(path, SetupService(), taken=list(existing.accounts), theme=existing.ui.theme)
    return app.run() or []


def run_demo(args: argparse.Namespace) -> int:
    """The sample mailbox in a temp dir that is removed on exit: nothing is written elsewhere."""
    import tempfile

    from mailbag.services.demo import DEMO_ACCOUNT, build_demo_mailbox, demo_account

    user_config = load_config(args.config) if args.config is not None else Config(path=None)
    with tempfile.TemporaryDirectory(prefix="mailbag-demo-", ignore_cleanup_errors=True) as tmp:
        root = Path(tmp)
        remove = functools.partial(shutil.rmtree, root, ignore_errors=True)
        exit_on_hangup_or_term(remove)  # until the UI runs; then it exits the UI the same way
        setup_logging(root / "mailbag.log", debug=args.debug)
        maildir = build_demo_mailbox(root / "Mail")
        config = dataclasses.replace(
            user_config, accounts={DEMO_ACCOUNT: demo_account(maildir)}, searches={}
        )
        return run_ui(config, root / "cache.sqlite3", on_hangup_or_term=remove)


EXIT_SIGNALS = (signal.SIGHUP, signal.SIGTERM)


def exit_on_hangup_or_term(cleanup: Callable[[], None]) -> None:
    """Before the UI runs: on SIGHUP or SIGTERM, run ``cleanup`` and exit (unwinding normally)."""

    def handler(signum: int, _frame: object) -> None:
        cleanup()
        signal.signal(signum, signal.SIG_DFL)  # a second signal ends the process at once
        raise SystemExit(128 + signum)

    for signum in EXIT_SIGNALS:
        signal.signal(signum, handler)


def run_ui(config: Config, db_path: Path, *, on_hangup_or_term: Callable[[], None] | None = None,
           start: StartCompose | None = None) -> int:
    """Run the UI over the cache at ``db_path`` (opening the new message ``start``, if given).
    SIGHUP (the terminal went away) and SIGTERM run ``on_hangup_or_term`` at once and then quit
    the UI as the quit key does."""
    # Importing the UI makes hundreds of thousands of objects that live as long as the process;
    # the collector's passes over them would only cost time (about 40 ms here), so it is off
    # until they are built and then frozen out of its sight.
    gc.disable()
    try:
        built = _build_ui(config, db_path, start)
    finally:
        gc.freeze()
        gc.enable()
    if built is None:
        return 2
    app, cache = built
    from mailbag.store.cache_file import cache_problem

    app.explain_crash = functools.partial(cache_problem, path=db_path)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        cache.close()
        print(
            "mailbag: the mail UI needs a terminal (stdin and stdout);"
            " to fill the cache without one: mailbag sync",
            file=sys.stderr,
        )
        return 2
    with asyncio.Runner() as runner:
        loop = runner.get_loop()

        def quit_ui(signum: int) -> None:
            app.save_drafts_now()  # before anything else: the process may not get much longer
            if on_hangup_or_term is not None:
                on_hangup_or_term()
            for exit_signal in EXIT_SIGNALS:
                loop.remove_signal_handler(exit_signal)  # a second signal ends the process at once
            app.exit(return_code=128 + signum)

        for signum in EXIT_SIGNALS:
            loop.add_signal_handler(signum, quit_ui, signum)
        try:
            app.run(loop=loop)
        finally:
            close_cache(cache)
    if app.explained_crash is not None:
        print(f"mailbag: {app.explained_crash}", file=sys.stderr)
        return 2
    return app.return_code or 0


def close_cache(cache: CacheFile) -> None:
    """Close the cache; a cache that cannot be used was reported already, so its errors are not."""
    from mailbag.store.cache_file import cache_problem

    try:
        cache.close()
    except Exception as exc:
        if cache_problem(exc, cache.path) is None:
            raise


def _build_ui(config: Config, db_path: Path, start: StartCompose | None = None) -> tuple[MailbagApp, CacheFile] | None:
    """The app over the cache at ``db_path``; None (after saying why) for a cache that cannot be
    used or a bad keymap or theme."""
    from mailbag.services.mail import MailService, prefetch_first_list
    from mailbag.store.cache_file import CacheFile

    try:
        prepare_cache(db_path)
        cache = CacheFile(db_path)
    except Exception as exc:  # noqa: BLE001 - only a cache that cannot be used is answered here
        report_unusable_cache(exc, db_path)
        return None
    prefetch_first_list(config, cache)  # read while the UI below is imported

    from mailbag.ui.app import MailbagApp
    from mailbag.ui.keymap import KeymapError
    from mailbag.ui.themes import ThemeError, UnknownTheme

    try:
        app = MailbagApp(
            lambda sink: MailService(config, cache, sink),
            theme=config.ui.theme,
            keymap=config.keymap,
            notify=config.ui.notify,
            threads=config.ui.threads,
            editor=config.ui.editor,
            address_command=config.ui.address_command,
            layout=config.ui.layout,
            start=start,
        )
    except (KeymapError, ThemeError, UnknownTheme) as exc:
        error: Exception = exc
        if isinstance(exc, KeymapError):
            error = config.error(("keymap", exc.binding_id), exc.problem)
        elif isinstance(exc, UnknownTheme):
            error = config.error(("ui", "theme"), str(exc))
        print(f"mailbag: {error}", file=sys.stderr)
        cache.close()
        return None
    return app, cache


def prepare_cache(path: Path) -> None:
    """Create the cache's folder; refuse a cache file this user cannot write to, saying whether
    the file or its whole file system is read-only."""
    paths.private_dir(path.parent)
    if path.exists() and not os.access(path, os.W_OK):
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            raise OSError(errno.EROFS, "read-only file system", str(path))
        raise PermissionError(errno.EACCES, "read-only file", str(path))


def report_unusable_cache(exc: Exception, path: Path) -> None:
    """Say in one line that the cache at ``path`` cannot be used (not a database, damaged,
    read-only, disk full); any other error is raised again."""
    from mailbag.store.cache_file import cache_problem

    problem = cache_problem(exc, path)
    if problem is None:
        raise exc
    print(f"mailbag: {problem}", file=sys.stderr)


async def run_sync(config: Config, only: str | None) -> int:
    """Headless sync of every folder's headers, printing progress; non-zero on any failure."""
    from mailbag.services.child_env import POP3_CHILD, drop_spares, start_ahead

    if any(first_pop3_download(config.accounts[name]) for name in ([only] if only else config.accounts)
           if name in config.accounts):
        # A first download is big: its process starts now and imports while this one does.
        await start_ahead(POP3_CHILD)
    try:
        return await _sync_accounts(config, only)
    finally:
        await drop_spares()


def first_pop3_download(account: AccountConfig) -> bool:
    """Whether ``account`` fetches from a POP3 server into a Maildir that is not there yet (or
    is an empty directory): its first download, in either layout."""
    if account.pop3 is None:
        return False
    root = account.maildir or paths.pop3_maildir(account.name)
    try:
        return not any(root.iterdir())
    except FileNotFoundError:
        return True
    except OSError:  # not a directory, not readable: the sync says what is wrong
        return False


async def _sync_accounts(config: Config, only: str | None) -> int:
    from mailbag.services.workers import make_worker
    from mailbag.store.cache_file import cache_problem
    from mailbag.store.store import Store

    names = [only] if only else list(config.accounts)
    unknown = [n for n in names if n not in config.accounts]
    if unknown:
        print(f"mailbag: no account named {unknown[0]!r} in {config.path}", file=sys.stderr)
        return 2
    db = paths.cache_db()
    try:
        prepare_cache(db)
        store = Store.open(db)
    except Exception as exc:  # noqa: BLE001 - only a cache that cannot be used is answered here
        report_unusable_cache(exc, db)
        return 2
    failed = False
    printer = ProgressPrinter()
    try:
        for name in names:
            worker = make_worker(config.accounts[name], store, printer, headless=True)
            started = time.monotonic()
            try:
                await worker.sync_once()
            except Exception as exc:  # noqa: BLE001 - reported, then the next account
                if cache_problem(exc, db) is not None:
                    printer.finish_line()
                    report_unusable_cache(exc, db)
                    return 2
                log.warning("sync of %s failed", name, exc_info=True)
                printer.finish_line()
                print(f"{name}: sync failed: {clean_line(worker.describe(exc))}", file=sys.stderr)
                failed = True
                continue
            printer.finish_line()
            folders = store.folders(name)
            total = sum(store.counts(name, f.name)[0] for f in folders if f.selectable)
            print(
                f"{name}: {plural(len(folders), 'folder')}, {plural(total)} cached"
                f" in {time.monotonic() - started:.1f} s"
            )
    finally:
        store.close()
    return 1 if failed else 0


class ProgressPrinter:
    """Prints sync events: one updating line on a terminal, plain lines otherwise; what a
    server said is printed as inert text (no control sequence reaches the terminal)."""

    def __init__(self) -> None:
        self.tty = sys.stdout.isatty()
        self._open_line = False
        self._last: tuple[str, str, int] | None = None  # the last count printed: said once

    def __call__(self, event: Event) -> None:
        if isinstance(event, SyncProgress):
            if not event.total:
                return
            text = f"{event.account}/{clean_line(event.folder)}: {event.done}/{event.total} {event.items}"
            if self.tty:
                print(f"\r\x1b[K{text}", end="", flush=True)
                self._open_line = True
            elif event.done == event.total and (event.account, event.folder, event.total) != self._last:
                print(text, flush=True)
                self._last = (event.account, event.folder, event.total)
        elif isinstance(event, ErrorReported):
            self.finish_line()
            print(f"{event.account}: {clean_line(event.message)}", file=sys.stderr)
        elif isinstance(event, Notice):
            self.finish_line()
            print(f"{event.account}: {clean_line(event.message)}", flush=True)
        elif isinstance(event, ConnectionChanged) and event.detail:
            self.finish_line()
            print(f"{event.account}: {event.state}: {clean_line(event.detail)}", file=sys.stderr)

    def finish_line(self) -> None:
        if self._open_line:
            print()
            self._open_line = False


if __name__ == "__main__":
    sys.exit(main())
