"""What ``mailbag sync`` prints of a server's words is inert text: an escape sequence a hostile
server puts in an error, a notice or a connection's state never reaches the terminal."""

from __future__ import annotations

import pytest

from mailbag.__main__ import ProgressPrinter
from mailbag.domain.events import ConnectionChanged, ErrorReported, Notice
from mailbag.domain.models import ConnectionState

HOSTILE = "\x1b]0;owned\x07\x1b[2Jrefused \x1b[31mred\x1b[0m\r\n\x9b2J"


@pytest.mark.parametrize("event", [
    ErrorReported("work", HOSTILE),
    Notice("work", HOSTILE),
    ConnectionChanged("work", ConnectionState.ERROR, HOSTILE),
], ids=["error", "notice", "state"])
def test_a_servers_words_are_printed_without_control_characters(
    event: object, capsys: pytest.CaptureFixture[str]
) -> None:
    ProgressPrinter()(event)  # type: ignore[arg-type]
    out, err = capsys.readouterr()
    printed = (out + err).rstrip("\n")
    assert "refused" in printed and "red" in printed
    assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in printed)
