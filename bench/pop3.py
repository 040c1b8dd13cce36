"""``python -m bench.pop3``: the first POP3 download of 10,000 messages by ``mailbag sync`` (into a
fresh Maildir and cache), next to a raw-socket client doing the same UIDL and pipelined RETR
against the same server in the same run.

The reference only reads the messages off the link; mailbag also writes each to the Maildir
(durably), records its UIDL in the local store and puts its headers into the cache. A second
reference does the raw download and mailbag's Maildir writes, and nothing else: what the disk
alone costs on this machine.

A last row says how short mailbag's run could be on this machine at best: the CPU time it used
and the CPU time Dovecot used serving it, over the machine's cores (both share them), next to the
raw download. When that alone is over 2x, the goal cannot be met here by mailbag's work as it is
(durable writes, the local store, the cache and its search index), only by less of it.

Each timed download starts on a settled file system: what is pending is written out first
(``sync``), and no run deletes files before another is timed. The files of every run are kept
until the last one is over, because ext4 without a journal (as on the machine these figures come
from) skips inodes freed in the last minute or more when it makes a file, looking at each one:
with the previous run's 20,000 files just deleted, every file made cost more, and each run
more than the one before.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import ssl
import tempfile
import time
from pathlib import Path

from mailbag.protocols.maildir_delivery import deliver, new_key
from mailbag.protocols.maildir_layout import make_maildir
from mailbag.protocols.pop3.wire import unstuff
from mailbag.services.pop3_batches import BATCH

from bench.figures import Figure
from bench.mailbag_run import Account, run_sync
from bench.profile import available, format_profile, profile_sync
from bench.report import table
from bench.server import BenchServer, default_cache_dir
from bench.session_cpu import session_cpu_seconds

WINDOW = 32


def raw_download(host: str, port: int, ca_file: str, user: str, password: str,
                 maildir: Path | None = None) -> tuple[float, int, float]:
    """UIDL, then RETR of every message, pipelined WINDOW at a time; (seconds, messages, CPU
    seconds of this thread). With
    ``maildir``, each message is also written there as mailbag writes it (a batch at a time, made
    durable together), with nothing else: no local store, no cache."""
    started = time.perf_counter()
    cpu = time.thread_time()
    context = ssl.create_default_context(cafile=ca_file)
    sock = context.wrap_socket(socket.create_connection((host, port)), server_hostname=host)
    buffer = bytearray()

    def until(marker: bytes) -> bytes:
        start = 0
        while (end := buffer.find(marker, start)) < 0:
            start = max(0, len(buffer) - len(marker) + 1)
            chunk = sock.recv(262144)
            if not chunk:
                raise ConnectionError("closed")
            buffer.extend(chunk)
        data = bytes(buffer[: end + len(marker)])
        del buffer[: end + len(marker)]
        return data

    until(b"\r\n")
    for line in (f"USER {user}", f"PASS {password}"):
        sock.sendall(line.encode() + b"\r\n")
        until(b"\r\n")
    sock.sendall(b"UIDL\r\n")
    listing = until(b"\r\n.\r\n").split(b"\r\n")[1:-2]
    numbers = [int(line.split()[0]) for line in listing]
    if maildir is not None:
        make_maildir(maildir)
    kept: list[tuple[str, bytes]] = []
    for start in range(0, len(numbers), WINDOW):
        batch = numbers[start : start + WINDOW]
        sock.sendall(b"".join(f"RETR {n}\r\n".encode() for n in batch))
        for _ in batch:
            until(b"\r\n")
            if not buffer.startswith(b".\r\n"):
                message = until(b"\r\n.\r\n")
                if maildir is not None:
                    kept.append((new_key(), unstuff(message[:-3])))
            else:
                del buffer[:3]
        if maildir is not None and (len(kept) >= BATCH or start + WINDOW >= len(numbers)):
            deliver(maildir, kept)
            kept = []
    sock.sendall(b"QUIT\r\n")
    sock.close()
    return time.perf_counter() - started, len(numbers), time.thread_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pop3", description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true",
                        help="then profile one download with py-spy (every thread, waits included)")
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir().with_name(
        default_cache_dir().name + "-pop3"))
    parser.add_argument("--home-dir", type=Path, default=None,
                        help="where each run's Maildir and cache go (default: the temp dir); e.g. "
                             "/dev/shm to leave the disk's cost of making files out")
    args = parser.parse_args()
    name = "first POP3 download (UIDL + RETR)"
    figure = Figure(args.count, name, "s", reference="raw socket, pipelined", goal="< 2x")
    floor = Figure(args.count, name, "s", reference="raw socket + the same Maildir writes")
    cpu = Figure(args.count, f"{name}, CPU time", "s", reference="raw socket, pipelined")
    cpu_floor = Figure(args.count, f"{name}, CPU time", "s", reference="raw socket + the same Maildir writes")
    cores = os.cpu_count() or 1
    least = Figure(args.count, f"{name}, CPU of mailbag and Dovecot / {cores} cores", "s",
                   reference="raw socket, pipelined")
    with BenchServer(args.cache_dir) as server:
        filled = server.mailbox(args.count)
        d = server.dovecot
        account = Account("localhost", d.pop3s_port, filled.user.name, filled.user.password, d.ca_file)
        login = ("localhost", d.pop3s_port, str(d.ca_file), filled.user.name, filled.user.password)
        homes: list[Path] = []
        try:
            for run in range(args.runs):
                os.sync()
                seconds, count, seconds_cpu = raw_download(*login)
                assert count == args.count, count
                homes.append(home := Path(tempfile.mkdtemp(prefix="mailbag-bench-pop3-", dir=args.home_dir)))
                os.sync()
                floor_seconds, _count, floor_cpu = raw_download(*login, maildir=home / "raw-maildir")
                os.sync()
                served = session_cpu_seconds(d.session) if d.session is not None else 0.0
                synced = run_sync(home, account, protocol="pop3")
                served = (session_cpu_seconds(d.session) if d.session is not None else 0.0) - served
                least.samples.append((synced.cpu_seconds + served) / cores)
                least.reference_samples.append(seconds)
                for each, (ours, theirs) in ((figure, (synced.seconds, seconds)),
                                             (floor, (synced.seconds, floor_seconds)),
                                             (cpu, (synced.cpu_seconds, seconds_cpu)),
                                             (cpu_floor, (synced.cpu_seconds, floor_cpu))):
                    each.samples.append(ours)
                    each.reference_samples.append(theirs)
                print(f"  run {run + 1}: mailbag {synced.seconds:.2f} s (CPU {synced.cpu_seconds:.2f} s), "
                      f"raw {seconds:.2f} s (CPU {seconds_cpu:.2f} s), raw + Maildir writes "
                      f"{floor_seconds:.2f} s (CPU {floor_cpu:.2f} s); Dovecot's CPU serving mailbag "
                      f"{served:.2f} s; load average "
                      f"{os.getloadavg()[0]:.1f}", flush=True)
        finally:
            for home in homes:
                shutil.rmtree(home, ignore_errors=True)
        if args.profile and not available():
            print("py-spy not found (pip install py-spy): no profile")
        elif args.profile:
            print(format_profile(profile_sync(account, protocol="pop3", idle=True)))
    print(table([figure, floor, cpu, cpu_floor, least]))


if __name__ == "__main__":
    main()
