"""A private Dovecot (IMAP, POP3, LMTP) on free loopback ports, for tests.

Everything it needs (config, TLS certificate, users, mail, logs) lives in one
temporary directory, so no test depends on the system-wide Dovecot setup.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import smtplib
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import trustme

from tests.servers import system_user
from tests.servers.dovecot_config import (
    COMPAT_HOST,
    COMPRESS_HOST,
    NO_NOTIFY_HOST,
    UNTRUSTED_HOST,
    ConfigParams,
    render,
)
from tests.servers.ports import free_ports, wait_for_port

DOVECOT = Path("/usr/sbin/dovecot")
DOVEADM = Path("/usr/bin/doveadm")
DEBIAN_PACKAGES = ("dovecot-imapd", "dovecot-pop3d", "dovecot-lmtpd")
DOMAIN = "example.test"
START_TIMEOUT = 20.0


class DovecotNotInstalled(RuntimeError):
    """Dovecot's binaries are missing on this machine."""


class DoveadmError(RuntimeError):
    """A doveadm command failed."""


@dataclass
class MailUser:
    """A mailbox account on the test server."""

    name: str
    password: str
    email: str


def check_installed() -> None:
    """Raise DovecotNotInstalled naming the Debian packages when needed."""
    missing = [str(p) for p in (DOVECOT, DOVEADM) if not p.exists()]
    modules = Path("/usr/lib/dovecot")
    for binary in ("imap", "pop3", "lmtp"):
        if not (modules / binary).exists():
            missing.append(str(modules / binary))
    if missing:
        raise DovecotNotInstalled(
            "Dovecot is needed for mailbag's integration tests but is not installed "
            f"(missing: {', '.join(missing)}). Install the Debian packages: "
            f"apt-get install {' '.join(DEBIAN_PACKAGES)}"
        )


class DovecotServer:
    """One private Dovecot instance: start, stop, add users, deliver mail."""

    host = "127.0.0.1"
    untrusted_host = UNTRUSTED_HOST  # LOGINDISABLED until STARTTLS (untrusted_imap_port)
    no_notify_host = NO_NOTIFY_HOST  # a server without NOTIFY (no_notify_imap_port)
    compat_host = COMPAT_HOST  # IMAP4rev1 only, folders under "INBOX." (compat_imap_port)
    compress_host = COMPRESS_HOST  # offers COMPRESS=DEFLATE (compress_imaps_port, implicit TLS)

    def __init__(self, base: Path | None = None) -> None:
        check_installed()
        self._own_base = base is None
        if base is None:
            base = Path(tempfile.mkdtemp(prefix="mailbag-dovecot-"))
        # Dovecot's unprivileged processes must be able to reach their files.
        base.chmod(0o755)
        self.base = base
        (self.imap_port, self.imaps_port, self.pop3_port,
         self.pop3s_port, self.lmtp_port) = free_ports(5, self.host)
        (self.untrusted_imap_port,) = free_ports(1, UNTRUSTED_HOST)
        (self.no_notify_imap_port,) = free_ports(1, NO_NOTIFY_HOST)
        (self.compat_imap_port,) = free_ports(1, COMPAT_HOST)
        (self.compress_imaps_port,) = free_ports(1, COMPRESS_HOST)
        self._mail_owner = system_user.mail_owner()
        login_user, internal_user = system_user.service_users()
        self._params = ConfigParams(
            base=base,
            imap_port=self.imap_port,
            imaps_port=self.imaps_port,
            pop3_port=self.pop3_port,
            pop3s_port=self.pop3s_port,
            lmtp_port=self.lmtp_port,
            mail_uid=self._mail_owner.uid,
            mail_gid=self._mail_owner.gid,
            login_user=login_user,
            internal_user=internal_user,
            privileged=system_user.is_root(),
            internal_group=system_user.unprivileged_group(),
            untrusted_imap_port=self.untrusted_imap_port,
            no_notify_imap_port=self.no_notify_imap_port,
            compat_imap_port=self.compat_imap_port,
            compress_imaps_port=self.compress_imaps_port,
        )
        self.config_path = base / "dovecot.conf"
        self.ca = trustme.CA()  # issue more certificates from it with ca.issue_cert()
        self.ca_file = base / "ca.pem"
        self.log_path = self._params.log_path
        self._output_path = base / "dovecot.out"  # the master's stdout/stderr
        self._process: subprocess.Popen[bytes] | None = None
        self._users_lock = threading.Lock()
        self._counter = itertools.count(1)
        self._batch = itertools.count(1)
        self._prepare()

    # -- set-up ---------------------------------------------------------------

    @property
    def cert_file(self) -> Path:
        """The server certificate chain (PEM); other test servers may share it."""
        return self._params.cert_file

    @property
    def key_file(self) -> Path:
        return self._params.key_file

    def _prepare(self) -> None:
        ca = self.ca
        ca.cert_pem.write_to_path(str(self.ca_file))
        cert = ca.issue_cert("127.0.0.1", "localhost", UNTRUSTED_HOST, NO_NOTIFY_HOST, COMPAT_HOST, COMPRESS_HOST)
        cert.private_key_pem.write_to_path(str(self._params.key_file))
        self._params.key_file.chmod(0o600)
        with open(self._params.cert_file, "wb") as f:
            for pem in cert.cert_chain_pems:
                f.write(pem.bytes())
        self._params.users_dir.mkdir(exist_ok=True)
        home_root = self._params.home_root
        home_root.mkdir(exist_ok=True)
        os.chown(home_root, self._mail_owner.uid, self._mail_owner.gid)
        for name in ("run", "state"):
            (self.base / name).mkdir(exist_ok=True)
        self.config_path.write_text(render(self._params))

    # -- life cycle -----------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def session(self) -> int | None:
        """The session id of the running Dovecot's processes (its master's pid), or None."""
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start Dovecot in the foreground and wait until every port answers."""
        if self.running:
            return
        with open(self._output_path, "ab") as output:
            self._process = subprocess.Popen(
                [str(DOVECOT), "-F", "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        listeners = [(self.host, port) for port in self.ports] + [
            (UNTRUSTED_HOST, self.untrusted_imap_port), (NO_NOTIFY_HOST, self.no_notify_imap_port),
            (COMPAT_HOST, self.compat_imap_port), (COMPRESS_HOST, self.compress_imaps_port)]
        for host, port in listeners:
            left = max(0.1, deadline - time.monotonic())
            if not wait_for_port(host, port, left) or not self.running:
                said = self._stop_process()
                raise RuntimeError(
                    f"Dovecot did not start (port {port}).\n{said}\n{self.log_text()}"
                )

    def stop(self) -> None:
        """Stop Dovecot; the mail and users stay for a later start()."""
        self._stop_process()

    def restart(self) -> None:
        """Stop and start again on the same ports, keeping users and mail."""
        self.stop()
        self.start()

    def cleanup(self) -> None:
        """Stop and delete the temporary directory (if this object made it)."""
        self.stop()
        if self._own_base:
            shutil.rmtree(self.base, ignore_errors=True)

    def _stop_process(self) -> str:
        """Stop the master and every process it left; return its output."""
        proc, self._process = self._process, None
        if proc is None:
            return ""
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        # Session processes (imap, pop3) may linger for seconds after the
        # master has gone; a restart must not wait for them.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(
            wait_for_port(self.host, p, 0.01) for p in self.ports
        ):
            time.sleep(0.05)
        try:
            return self._output_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    @property
    def ports(self) -> tuple[int, ...]:
        return (self.imap_port, self.imaps_port, self.pop3_port,
                self.pop3s_port, self.lmtp_port)

    def log_text(self, offset: int = 0) -> str:
        """The server log from byte ``offset`` on ("" when there is none)."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    # -- users ----------------------------------------------------------------

    def add_user(self, name: str | None = None, password: str = "secret", *, without: Iterable[str] = ()) -> MailUser:
        """Add an account (visible at once, the server reads the file per login); the special
        folders named in ``without`` (``Sent``, ...) are not made for it, as on a server that
        makes none."""
        with self._users_lock:
            if name is None:
                name = f"user{next(self._counter)}"
                while self._user_exists(name):
                    name = f"user{next(self._counter)}"
            elif self._user_exists(name):
                raise ValueError(f"user {name!r} exists already")
            if any(c in name + password for c in ":\n/"):
                raise ValueError("user names and passwords may not contain ':', '/' or newlines")
            # One passwd-file per user: Dovecot reads a file it has not seen
            # before at once (a shared file is re-read at most once a second).
            entry = self._params.users_dir / name
            extra = " ".join(f"userdb_namespace/inbox/mailbox/{folder}/auto=no" for folder in without)
            entry.write_text(f"{name}:{{PLAIN}}{password}::::::{extra}\n", encoding="utf-8")
        return MailUser(name=name, password=password, email=f"{name}@{DOMAIN}")

    def refuse_new_folders(self, user: MailUser) -> None:
        """Make the server refuse every new folder of ``user`` (``NO [NOPERM]``): its folder
        storage becomes read-only to the mail processes, as a locked-down server's is."""
        self.doveadm("mailbox", "status", "-u", user.name, "messages", "INBOX")  # the storage exists
        (self._params.home_root / user.name / "mdbox" / "mailboxes").chmod(0o555)

    def set_password(self, user: MailUser, password: str) -> MailUser:
        """Change ``user``'s password on the server (as an administrator would); the next login
        needs the new one. Returns the user with it."""
        with self._users_lock:
            entry = self._params.users_dir / user.name
            entry.write_text(f"{user.name}:{{PLAIN}}{password}::::::\n", encoding="utf-8")
            later = entry.stat().st_mtime + 2  # Dovecot re-reads the file when its mtime moves,
            os.utime(entry, (later, later))
        time.sleep(1.1)  # after looking at it at most once a second
        return MailUser(name=user.name, password=password, email=user.email)

    def set_pop3_uidl_format(self, user: MailUser, uidl_format: str) -> None:
        """Give ``user``'s messages other POP3 UIDLs from the next login on, as an administrator
        changing ``pop3_uidl_format`` (a migration, say) does; e.g. ``%08Xv%08Xu``."""
        escaped = uidl_format.replace("%", "%%")  # the passwd-file's fields are expanded once
        with self._users_lock:
            entry = self._params.users_dir / user.name
            entry.write_text(
                f"{user.name}:{{PLAIN}}{user.password}::::::userdb_pop3_uidl_format={escaped}\n", encoding="utf-8"
            )
            later = entry.stat().st_mtime + 2
            os.utime(entry, (later, later))
        time.sleep(1.1)

    def _user_exists(self, name: str) -> bool:
        return (self._params.users_dir / name).exists()

    # -- mail -----------------------------------------------------------------

    def deliver(self, user: str, message: bytes, folder: str | None = None) -> None:
        """Deliver one message: over LMTP to INBOX, or saved into ``folder``."""
        if folder is None or folder == "INBOX":
            with smtplib.LMTP(self.host, self.lmtp_port, timeout=30) as lmtp:
                lmtp.sendmail(f"sender@{DOMAIN}", [f"{user}@{DOMAIN}"], message)
            return
        self.ensure_folder(user, folder)
        self.doveadm("save", "-u", user, "-m", folder, input=message)

    def deliver_many(self, user: str, messages: Iterable[bytes], folder: str = "INBOX") -> None:
        """Add many messages to ``folder`` at once, in order (UIDs ascending).

        The messages are written into one throw-away mbox file and copied with
        a single ``doveadm import``: 10,000 messages take about a second, far
        less than one LMTP transaction each. As in any mbox, body lines that
        begin with "From " arrive as ">From ".
        """
        source = self.base / "import" / f"batch{next(self._batch)}"
        source.mkdir(parents=True)
        try:
            inbox_file = source / "inbox"
            box = inbox_file if folder == "INBOX" else source / folder
            box.parent.mkdir(parents=True, exist_ok=True)
            count = _write_mbox(box, messages)
            self.ensure_folder(user, folder)
            if count == 0:
                return
            self._chown_tree(source)
            self.doveadm(
                "import", "-u", user,
                f"mbox:{source}:INBOX={inbox_file}:INDEX=MEMORY:UTF-8",
                "", "mailbox", folder,
            )
        finally:
            shutil.rmtree(source, ignore_errors=True)

    def _chown_tree(self, root: Path) -> None:
        """Hand ``root`` to the mail owner (doveadm works as that user)."""
        if os.geteuid() != 0:
            return
        uid, gid = self._mail_owner.uid, self._mail_owner.gid
        for dirpath, _dirnames, filenames in os.walk(root):
            os.chown(dirpath, uid, gid)
            for name in filenames:
                os.chown(os.path.join(dirpath, name), uid, gid)

    def ensure_folder(self, user: str, folder: str) -> None:
        """Create ``folder`` (UTF-8 name, '/' separated) unless it exists."""
        if folder == "INBOX":
            return
        existing = self.doveadm("mailbox", "list", "-u", user).splitlines()
        if folder not in existing:
            self.doveadm("mailbox", "create", "-u", user, folder)

    def make_mailbox_anew(self, user: MailUser) -> None:
        """Remove ``user``'s mail, as restoring a backup or moving the mailbox to another server
        does: the next login makes the INBOX again, with a new UIDVALIDITY and UIDs from 1."""
        self.kick(user.name)
        shutil.rmtree(self._params.home_root / user.name / "mdbox")

    def kick(self, user: str) -> None:
        """Disconnect every IMAP/POP3 session of ``user``."""
        self.doveadm("kick", user, allowed_codes=(0, 68))

    def doveadm(self, *args: str, input: bytes | None = None,
                allowed_codes: tuple[int, ...] = (0,)) -> str:
        """Run doveadm against this instance; stdout, or DoveadmError."""
        result = subprocess.run(
            [str(DOVEADM), "-c", str(self.config_path), *args],
            input=input if input is not None else b"",
            capture_output=True,
            timeout=300,
            check=False,
        )
        if result.returncode not in allowed_codes:
            raise DoveadmError(
                f"doveadm {' '.join(args)} exited {result.returncode}: "
                f"{result.stderr.decode(errors='replace').strip()}"
            )
        return result.stdout.decode(errors="replace")


def _write_mbox(path: Path, messages: Iterable[bytes]) -> int:
    """Write ``messages`` as an mbox file; return how many were written."""
    count = 0
    with open(path, "wb") as f:
        for count, message in enumerate(messages, start=1):
            text = message.replace(b"\r\n", b"\n")
            if text.startswith(b"From "):
                text = b">" + text
            text = text.replace(b"\nFrom ", b"\n>From ")
            if not text.endswith(b"\n"):
                text += b"\n"
            f.write(b"From mailbag@example.test Thu Jan  1 00:00:00 2024\n")
            f.write(text)
            f.write(b"\n")
    return count
