"""The parts of aioimaplib that mailbag's adapter relies on (listed in adapter.py) are still there.

An upgrade of aioimaplib that changes one of them fails here, naming what changed, instead of
breaking the IMAP client in some distant way.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest
from aioimaplib import aioimaplib as lib

from mailbag.protocols.imap import adapter


class Recording(lib.Command):
    """A command that notes every close(line, result) aioimaplib makes."""

    def __init__(self, tag: str, timeout: float | None = None) -> None:
        super().__init__("SELECT", tag, '"INBOX"', untagged_resp_name="SELECT", timeout=timeout)
        self.closed: list[tuple[bytes, str]] = []

    def close(self, line: bytes, result: str) -> None:
        self.closed.append((line, result))
        super().close(line, result)


def parameters(function: Any) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


P = inspect.Parameter


def test_state_names() -> None:
    for name in ("CONNECTED", "NONAUTH", "AUTH", "SELECTED", "LOGOUT"):
        assert isinstance(getattr(lib, name, None), str), f"aioimaplib.{name} is gone or no longer a state name"
    assert len({lib.CONNECTED, lib.NONAUTH, lib.AUTH, lib.SELECTED, lib.LOGOUT}) == 5, "state names collide"


def test_command_table() -> None:
    assert isinstance(lib.Commands, dict), "aioimaplib.Commands is no longer a dict"
    for name, spec in lib.Commands.items():
        assert isinstance(spec.valid_states, tuple), f"aioimaplib.Commands[{name!r}].valid_states changed"
    assert lib.Commands["SELECT"].valid_states == (lib.AUTH, lib.SELECTED), "SELECT's legal states changed"
    assert adapter.legal_in("FETCH", lib.SELECTED) and not adapter.legal_in("FETCH", lib.AUTH)
    assert adapter.legal_in("XUNKNOWN", lib.AUTH), "commands aioimaplib does not know are always allowed"


@pytest.mark.parametrize("line, tagged", [(b"A12 OK done", True), (b"A12 NO [TRYCREATE] no", True),
                                          (b"A12 BAD what", True), (b"* OK hello", False),
                                          (b"+ idling", False)])
def test_tagged_status_pattern(line: bytes, tagged: bool) -> None:
    assert bool(lib.tagged_status_response_re.match(line)) is tagged, (
        f"aioimaplib.tagged_status_response_re no longer reads {line!r} as {'a' if tagged else 'no'} tagged answer")


def test_response_and_exceptions() -> None:
    assert lib.Response._fields == ("result", "lines"), "aioimaplib.Response's fields changed"
    assert issubclass(lib.Abort, Exception) and str(lib.Abort("why")) == "why", "aioimaplib.Abort(reason) changed"
    assert parameters(lib.CommandTimeout.__init__) == [("self", P.POSITIONAL_OR_KEYWORD, P.empty),
                                                       ("command", P.POSITIONAL_OR_KEYWORD, P.empty)], (
        "aioimaplib.CommandTimeout(command) changed")


def test_command_constructor_signature() -> None:
    assert parameters(lib.Command.__init__) == [
        ("self", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("name", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("tag", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("args", P.VAR_POSITIONAL, P.empty),
        ("prefix", P.KEYWORD_ONLY, None),
        ("untagged_resp_name", P.KEYWORD_ONLY, None),
        ("loop", P.KEYWORD_ONLY, None),
        ("timeout", P.KEYWORD_ONLY, None),
    ], "aioimaplib.Command.__init__'s parameters changed"


async def test_command_line_and_argument_check() -> None:
    command = lib.Command("FETCH", "A7", "1:*", "(FLAGS)", prefix="UID")
    assert repr(command) == "A7 UID FETCH 1:* (FLAGS)", "aioimaplib.Command's repr is no longer the command line"
    with pytest.raises(ValueError):
        lib.Command("SELECT", "A8", '"IN\r\nBOX"')  # aioimaplib no longer refuses CR/LF in arguments


async def test_command_private_bookkeeping() -> None:
    command = lib.Command("NOOP", "A1", timeout=30)
    private = {"_event": asyncio.Event, "_timer": asyncio.Handle, "_resp_result": str, "_resp_lines": list}
    for name, kind in private.items():
        assert isinstance(getattr(command, name, None), kind), f"aioimaplib.Command.{name} is gone or not a {kind}"
    assert command._exception is None, "aioimaplib.Command._exception is gone"
    assert callable(getattr(command, "_reset_timer", None)), "aioimaplib.Command._reset_timer() is gone"
    command._reset_timer()
    command._exception = RuntimeError("link lost")
    command._resp_result, command._resp_lines = "KO", [b""]
    command._event.set()
    with pytest.raises(RuntimeError, match="link lost"):  # wait() no longer raises _exception
        await command.wait()
    assert command.response == ("KO", [b""]), "aioimaplib.Command.response no longer reads _resp_result/_lines"
    command._timer.cancel()


async def test_command_timeout_closes_with_ko() -> None:
    command = Recording("A2", timeout=0)
    with pytest.raises(lib.CommandTimeout):  # a timeout no longer raises CommandTimeout from wait()
        await command.wait()
    assert [result for _line, result in command.closed] == ["KO"], "a timeout no longer calls close(..., 'KO')"


def test_protocol_constructor_signature() -> None:
    assert parameters(lib.IMAP4ClientProtocol.__init__) == [
        ("self", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("loop", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("conn_lost_cb", P.POSITIONAL_OR_KEYWORD, None),
    ], "aioimaplib.IMAP4ClientProtocol.__init__'s parameters changed"


class FakeTransport(asyncio.Transport):
    pass


async def test_protocol_attributes_and_connection_callbacks() -> None:
    lost: list[Exception | None] = []
    protocol = lib.IMAP4ClientProtocol(asyncio.get_running_loop(), lost.append)
    for name in ("loop", "transport", "state", "pending_sync_command"):
        assert hasattr(protocol, name), f"aioimaplib.IMAP4ClientProtocol.{name} is gone"
    assert protocol.transport is None and protocol.pending_sync_command is None
    tags = {protocol.new_tag() for _ in range(3)}
    assert len(tags) == 3 and all(isinstance(t, str) for t in tags), "new_tag() no longer gives fresh tags"
    transport = FakeTransport()
    protocol.connection_made(transport)
    assert protocol.transport is transport, "connection_made() no longer keeps the transport"
    assert protocol.state == lib.CONNECTED, "connection_made() no longer sets the CONNECTED state"
    error = ConnectionResetError("gone")
    protocol.connection_lost(error)
    assert lost == [error], "connection_lost() no longer calls conn_lost_cb"


async def test_protocol_hands_the_tagged_answer_to_the_command_in_flight() -> None:
    protocol = lib.IMAP4ClientProtocol(asyncio.get_running_loop())
    command = Recording("A5")
    protocol.pending_sync_command = command
    protocol._response_done(b"A5 OK [READ-WRITE] done")
    assert command.closed == [(b"[READ-WRITE] done", "OK")], "_response_done() no longer calls close(text, result)"
    assert protocol.pending_sync_command is None, "_response_done() no longer clears pending_sync_command"
    protocol.pending_sync_command = Recording("A6")
    with pytest.raises(lib.Abort):  # _response_done() no longer refuses a tag that is not in flight
        protocol._response_done(b"A9 OK done")


async def test_adapter_command_settles() -> None:
    loop = asyncio.get_running_loop()
    command = adapter.CommandBase("NOOP", "A3", loop=loop, timeout=30)
    assert not command.ended
    command.restart_timer()
    command.settle(b"", "KO", ConnectionResetError("gone"))
    assert command.ended and command.response.result == "KO"
    with pytest.raises(ConnectionResetError):
        await command.wait()
