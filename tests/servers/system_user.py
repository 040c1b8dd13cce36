"""Find or create the unprivileged Unix accounts the test Dovecot runs as."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass

MAIL_USER = "mailbagtest"
USERADD_LOCKED = 10  # useradd's exit status when it cannot lock the user files
USERADD_TRIES = 50


@dataclass(frozen=True)
class Identity:
    """A Unix user name with its numeric ids."""

    name: str
    uid: int
    gid: int


def _lookup(name: str) -> Identity | None:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return Identity(entry.pw_name, entry.pw_uid, entry.pw_gid)


def _current() -> Identity:
    entry = pwd.getpwuid(os.getuid())
    return Identity(entry.pw_name, entry.pw_uid, entry.pw_gid)


def is_root() -> bool:
    return os.geteuid() == 0


def mail_owner() -> Identity:
    """The account that owns the test mail (Dovecot refuses uid 0 for mail).

    As root: the ``mailbagtest`` system user, created when missing (``nobody``
    when ``useradd`` is unavailable). Otherwise: the current user.
    """
    if not is_root():
        return _current()
    found = _lookup(MAIL_USER)
    if found is not None:
        return found
    useradd = shutil.which("useradd")
    if useradd is not None:
        # Test workers start their Dovecots at once: another one may be creating the user
        # (exit 9, it exists) or hold the lock on /etc/passwd (exit 10, try again).
        for _ in range(USERADD_TRIES):
            result = subprocess.run(
                [useradd, "--system", "--user-group", "--no-create-home",
                 "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", MAIL_USER],
                capture_output=True, text=True, check=False,
            )
            found = _lookup(MAIL_USER)
            if found is not None:
                return found
            if result.returncode != USERADD_LOCKED:
                break
            time.sleep(0.1)
        raise RuntimeError(f"useradd {MAIL_USER} failed: {result.stderr.strip()}")
    nobody = _lookup("nobody")
    if nobody is None:
        raise RuntimeError("no unprivileged user to own the test mail")
    return nobody


def service_users() -> tuple[str, str]:
    """(login user, internal user) for Dovecot's own processes."""
    if not is_root():
        name = _current().name
        return name, name
    login = "dovenull" if _lookup("dovenull") else "nobody"
    internal = "dovecot" if _lookup("dovecot") else "nobody"
    return login, internal


def unprivileged_group() -> str | None:
    """Without root: the current group, for Dovecot's internal sockets."""
    if is_root():
        return None
    gid = os.getgid()
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)
