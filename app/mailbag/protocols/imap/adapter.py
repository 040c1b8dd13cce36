"""The one module that uses aioimaplib (pinned to 2.0.3); the rest of mailbag goes through it.

mailbag keeps aioimaplib's command bookkeeping (tags, the command in flight, states, the
per-command timer) and replaces how bytes become responses (see ``protocol.py``). That leans on
parts of aioimaplib that are not its public API. Exactly these, each checked by
``tests/unit/test_imap_adapter.py``, which names what changed if an upgrade changes one:

Module ``aioimaplib.aioimaplib``
  - the state names ``CONNECTED``, ``NONAUTH``, ``AUTH``, ``SELECTED``, ``LOGOUT`` (strings);
  - ``Commands``: command name -> entry with ``valid_states`` (a tuple of state names);
  - ``tagged_status_response_re``: matches ``<tag> OK|NO|BAD ...`` (bytes);
  - ``Response(result, lines)``, and the exceptions ``Abort(reason)`` and ``CommandTimeout(command)``.

Class ``Command``
  - ``__init__(self, name, tag, *args, prefix=None, untagged_resp_name=None, loop=None,
    timeout=None)``, which refuses CR, LF and NUL in ``args``; ``repr()`` is
    ``"<tag> [<prefix> ]<name> <args>"`` (the command line sent);
  - ``wait()`` (raises ``_exception`` once ``_event`` is set), ``response``;
  - private: ``_event`` (``asyncio.Event``), ``_timer`` (``asyncio.Handle``), ``_exception``,
    ``_resp_result``, ``_resp_lines``, ``_reset_timer()``; on timeout it sets ``_exception`` to a
    ``CommandTimeout`` and calls ``close(<bytes>, "KO")``.

Class ``IMAP4ClientProtocol`` (an ``asyncio.Protocol``)
  - ``__init__(self, loop, conn_lost_cb=None)``; attributes ``loop``, ``transport``, ``state``,
    ``pending_sync_command``; ``new_tag()``;
  - ``connection_made(transport)`` stores the transport and sets ``state = CONNECTED``;
    ``connection_lost(exc)`` calls ``conn_lost_cb(exc)``;
  - private: ``_response_done(line)``: for ``<tag> <result> <text>`` it checks the tag against
    ``pending_sync_command``, clears it and calls the command's ``close(<text>, <result>)``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aioimaplib import aioimaplib as lib

__all__ = ["AUTH", "Abort", "CONNECTED", "CommandBase", "CommandTimeout", "LOGOUT", "NONAUTH",
           "ProtocolBase", "Response", "SELECTED", "is_tagged_status", "legal_in"]

CONNECTED: str = lib.CONNECTED
NONAUTH: str = lib.NONAUTH
AUTH: str = lib.AUTH
SELECTED: str = lib.SELECTED
LOGOUT: str = lib.LOGOUT

Response = lib.Response
Abort = lib.Abort
CommandTimeout = lib.CommandTimeout


def legal_in(name: str, state: str) -> bool:
    """False when aioimaplib knows command ``name`` and it is illegal in ``state``."""
    spec = lib.Commands.get(name)
    return spec is None or state in spec.valid_states


def is_tagged_status(line: bytes) -> bool:
    """True for a tagged answer (``A12 OK ...``, ``NO``, ``BAD``)."""
    return lib.tagged_status_response_re.match(line) is not None


class CommandBase(lib.Command):
    """aioimaplib's command, its private bookkeeping behind :meth:`settle` and :meth:`restart_timer`.

    aioimaplib calls :meth:`close` with the tagged answer's text and result, or with ``"KO"``
    when the command timed out.
    """

    _event: asyncio.Event  # set once the command has ended

    def __init__(self, name: str, tag: str, *args: str, prefix: str | None = None,
                 loop: asyncio.AbstractEventLoop, timeout: float | None) -> None:
        super().__init__(name, tag, *args, prefix=prefix, untagged_resp_name=name, loop=loop,
                         timeout=timeout)

    @property
    def ended(self) -> bool:
        """True once the command has its answer (or failed)."""
        return self._event.is_set()

    def restart_timer(self) -> None:
        """Give the command its whole timeout again (the server is still sending)."""
        self._reset_timer()

    def settle(self, line: bytes, result: str, error: Exception | None = None) -> None:
        """End the command: ``response`` becomes (``result``, [``line``]), ``wait()`` returns, or
        raises ``error`` when given."""
        if error is not None:
            self._exception = error
        self._resp_result = result
        self._resp_lines = [line]
        self._timer.cancel()
        self._event.set()

    def close(self, line: bytes, result: str) -> None:
        self.settle(line, result)


class ProtocolBase(lib.IMAP4ClientProtocol):
    """aioimaplib's client protocol: tags, the connection state and the command in flight."""

    transport: asyncio.Transport | None  # set by connection_made()
    pending_sync_command: lib.Command | None  # the command in flight

    def __init__(self, loop: asyncio.AbstractEventLoop,
                 conn_lost_cb: Callable[[Exception | None], None] | None = None) -> None:
        super().__init__(loop, conn_lost_cb)

    def answer_running(self, line: bytes) -> None:
        """Hand the tagged answer ``line`` to the command in flight (``Abort`` when the tag is not
        its own)."""
        self._response_done(line)
