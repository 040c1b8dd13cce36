"""Run the real ``mailbag sync`` in a subprocess against the benchmark server, timed, with its peak RSS."""

from __future__ import annotations

import compileall
import functools
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PASSWORD_VAR = "MAILBAG_BENCH_PASSWORD"
_CACHED = re.compile(r"(\d+) messages cached in ([\d.]+) s")


@dataclass(frozen=True)
class Account:
    """Where mailbag should sync from."""

    host: str
    port: int
    username: str
    password: str
    ca_file: Path


@dataclass(frozen=True)
class SyncRun:
    """One ``mailbag sync``: wall seconds, the time mailbag printed, peak RSS, messages cached and
    the CPU time it used (user and system, every thread)."""

    seconds: float
    reported_seconds: float
    peak_rss_mb: float
    messages: int
    cpu_seconds: float = 0.0


def write_config(home: Path, account: Account, protocol: str = "imap") -> Path:
    """A config.toml for one IMAP (or POP3) account (password from an environment variable)."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "config.toml"
    path.write_text(
        "[accounts.bench]\n"
        f'email = "{account.username}@example.test"\n'
        "default = true\n\n"
        f"[accounts.bench.{protocol}]\n"
        f'host = "{account.host}"\n'
        f"port = {account.port}\n"
        'security = "tls"\n'
        f'username = "{account.username}"\n'
        f'password_env = "{PASSWORD_VAR}"\n'
        f'ca_file = "{account.ca_file}"\n',
        encoding="utf-8",
    )
    return path


def sync_command(config: Path) -> list[str]:
    return [sys.executable, "-m", "mailbag", "--config", str(config), "sync"]


def sync_env(home: Path, account: Account) -> dict[str, str]:
    """The environment of a run: fresh XDG dirs under ``home``, mailbag importable from the repo."""
    env = dict(os.environ)
    for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                     ("XDG_STATE_HOME", "state"), ("XDG_CACHE_HOME", "cache")):
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / sub)
    env[PASSWORD_VAR] = account.password
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    env.pop("MAILBAG_CONFIG", None)
    return env


@functools.cache
def compile_mailbag() -> None:
    """Write the package's bytecode before anything is timed, as installing it does: a machine
    whose environment forbids writing bytecode at import (PYTHONDONTWRITEBYTECODE) would
    otherwise compile every changed module again at each start, the download process's too."""
    import mailbag

    compileall.compile_dir(os.path.dirname(mailbag.__file__), quiet=1)


def run_sync(home: Path, account: Account, prefix: list[str] | None = None, protocol: str = "imap") -> SyncRun:
    """``mailbag sync`` with XDG dirs under ``home`` (reuse ``home`` for a resync)."""
    compile_mailbag()
    config = write_config(home, account, protocol)
    command = (prefix or []) + sync_command(config)
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=REPO, env=sync_env(home, account),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # wait4 gives this child's own rusage (ru_maxrss in KiB on Linux), unlike RUSAGE_CHILDREN.
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    for stream in (proc.stdout, proc.stderr):
        if stream:
            stream.close()
    if proc.returncode != 0:
        raise RuntimeError(f"mailbag sync exited {proc.returncode}:\n{out}\n{err}")
    found = _CACHED.search(out)
    if found is None:
        raise RuntimeError(f"mailbag sync printed no summary:\n{out}\n{err}")
    return SyncRun(seconds, float(found.group(2)), usage.ru_maxrss / 1024, int(found.group(1)),
                   usage.ru_utime + usage.ru_stime)


def startup_seconds() -> float:
    """Wall time of ``python -m mailbag --version``: the interpreter and import cost in every run."""
    compile_mailbag()
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mailbag", "--version"], cwd=REPO, check=True,
                   capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    return time.perf_counter() - started
