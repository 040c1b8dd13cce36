"""The reference: a minimal IMAP client on a raw TLS socket that reads every byte and parses nothing.

It is the floor for a header sync: the server's work plus the transfer, with no parsing, no
cache and no event loop. mailbag is measured against it in the same run.
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass

RECV = 1 << 20


@dataclass(frozen=True)
class RawResult:
    """One raw-client run: wall seconds from connect to the last byte, bytes of the FETCH answer."""

    seconds: float
    fetch_bytes: int


class RawImap:
    """LOGIN, SELECT and one command, each read to its tagged completion."""

    def __init__(self, host: str, port: int, ca_file: str) -> None:
        context = ssl.create_default_context(cafile=ca_file)
        plain = socket.create_connection((host, port), timeout=120)
        plain.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = context.wrap_socket(plain, server_hostname=host)
        self._tag = 0
        self._read_greeting()

    def _read_greeting(self) -> None:
        data = b""
        while not data.endswith(b"\r\n"):
            chunk = self.sock.recv(RECV)
            if not chunk:
                raise ConnectionError("closed before the greeting")
            data += chunk

    def command(self, text: str) -> int:
        """Send ``text``; read until its tagged line; return how many bytes came back."""
        self._tag += 1
        tag = f"b{self._tag}".encode()
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        done = b"\r\n" + tag + b" "
        total = 0
        tail = b"\r\n"  # the answer may be the tagged line alone
        while True:
            chunk = self.sock.recv(RECV)
            if not chunk:
                raise ConnectionError(f"closed during {text.split()[0]}")
            total += len(chunk)
            window = tail + chunk
            found = window.rfind(done)
            if found >= 0 and window.endswith(b"\r\n"):
                status = window[found + len(done):found + len(done) + 3]
                if status != b"OK ":
                    line = window[found + 2:].decode(errors="replace").strip()
                    raise RuntimeError(f"{text.split()[0]} failed: {line}")
                return total
            tail = window[-256:]

    def close(self) -> None:
        try:
            self.command("LOGOUT")
        except (OSError, ConnectionError, RuntimeError):
            pass
        self.sock.close()


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def timed_fetch(host: str, port: int, ca_file: str, user: str, password: str,
                folder: str, items: str) -> RawResult:
    """Connect, LOGIN, SELECT ``folder`` and ``UID FETCH 1:* (items)``, timed end to end."""
    started = time.perf_counter()
    client = RawImap(host, port, ca_file)
    try:
        client.command(f"LOGIN {quoted(user)} {quoted(password)}")
        client.command(f"SELECT {quoted(folder)}")
        size = client.command(f"UID FETCH 1:* ({items})")
        seconds = time.perf_counter() - started
    finally:
        client.close()
    return RawResult(seconds, size)
