"""``python -m bench.pop3``: the first POP3 download of 10,000 messages by ``mailbag sync`` (into a
fresh Maildir and cache), next to a raw-socket client doing the same UIDL and pipelined RETR
against the same server in the same run.

The reference only reads the messages off the link; mailbag also writes each to the Maildir
(fsynced), records its UIDL in the local store and puts its headers into the cache.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import ssl
import tempfile
import time
from pathlib import Path

from bench.figures import Figure
from bench.mailbag_run import Account, run_sync
from bench.report import table
from bench.server import BenchServer, default_cache_dir

WINDOW = 32


def raw_download(host: str, port: int, ca_file: str, user: str, password: str) -> tuple[float, int]:
    """UIDL, then RETR of every message, pipelined WINDOW at a time; (seconds, messages)."""
    started = time.perf_counter()
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
    for start in range(0, len(numbers), WINDOW):
        batch = numbers[start : start + WINDOW]
        sock.sendall(b"".join(f"RETR {n}\r\n".encode() for n in batch))
        for _ in batch:
            until(b"\r\n")
            if not buffer.startswith(b".\r\n"):
                until(b"\r\n.\r\n")
            else:
                del buffer[:3]
    sock.sendall(b"QUIT\r\n")
    sock.close()
    return time.perf_counter() - started, len(numbers)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pop3", description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir().with_name(
        default_cache_dir().name + "-pop3"))
    args = parser.parse_args()
    figure = Figure(args.count, "first POP3 download (UIDL + RETR)", "s", reference="raw socket, pipelined",
                    goal="< 2x")
    with BenchServer(args.cache_dir) as server:
        filled = server.mailbox(args.count)
        d = server.dovecot
        account = Account("localhost", d.pop3s_port, filled.user.name, filled.user.password, d.ca_file)
        for run in range(args.runs):
            seconds, count = raw_download("localhost", d.pop3s_port, str(d.ca_file), filled.user.name,
                                          filled.user.password)
            assert count == args.count, count
            figure.reference_samples.append(seconds)
            home = Path(tempfile.mkdtemp(prefix="mailbag-bench-pop3-"))
            try:
                figure.samples.append(run_sync(home, account, protocol="pop3").seconds)
            finally:
                shutil.rmtree(home, ignore_errors=True)
            print(f"  run {run + 1}: mailbag {figure.samples[-1]:.2f} s, raw {seconds:.2f} s", flush=True)
    print(table([figure]))


if __name__ == "__main__":
    main()
