"""Free TCP ports on the loopback interface."""

from __future__ import annotations

import socket
import time


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Return ``count`` distinct ports that nothing listens on right now."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


_kept_closed: list[socket.socket] = []


def closed_port(host: str = "127.0.0.1") -> int:
    """A port on ``host`` that refuses connections for the rest of the run: it stays bound without
    listening, so that no server started meanwhile (by another test or another worker, on a port
    the system picked) can take it, as one could a port bound and released."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((host, 0))
    _kept_closed.append(sock)
    return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float) -> bool:
    """Wait until ``host:port`` accepts a connection; False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False
