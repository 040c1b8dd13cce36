"""TLS client contexts: always verifying, shared between connections, built off the event loop."""

from __future__ import annotations

import asyncio
import os
import ssl
import threading
from pathlib import Path
from typing import Any

import pytest
import trustme

from mailbag.protocols import tls


@pytest.fixture
def ca_file(tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return path


def test_context_verifies_and_is_shared(ca_file: Path) -> None:
    context = tls.make_client_context(str(ca_file))

    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert tls.make_client_context(str(ca_file)) is context


def test_a_changed_ca_file_gets_a_fresh_context(ca_file: Path) -> None:
    first = tls.make_client_context(str(ca_file))
    trustme.CA().cert_pem.write_to_path(str(ca_file))
    stamp = ca_file.stat().st_mtime_ns
    os.utime(ca_file, ns=(stamp + 10**9, stamp + 10**9))

    assert tls.make_client_context(str(ca_file)) is not first


def test_context_is_built_while_the_event_loop_goes_on(
    ca_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = ssl.create_default_context
    building = threading.Event()
    release = threading.Event()

    def slow_create(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        building.set()
        if not release.wait(2):  # only the event loop can set it
            raise AssertionError("the event loop stood still while the context was built")
        return real(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", slow_create)
    tls._context.cache_clear()

    async def main() -> ssl.SSLContext:
        task = asyncio.create_task(tls.client_context(str(ca_file)))
        while not building.is_set():
            await asyncio.sleep(0.01)  # the loop runs while the CAs load
        release.set()
        return await task

    context = asyncio.run(main())

    assert context.verify_mode == ssl.CERT_REQUIRED
    assert tls.make_client_context(str(ca_file)) is context
    tls._context.cache_clear()
