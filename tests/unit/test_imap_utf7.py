"""Modified UTF-7 mailbox names (RFC 3501 5.1.3)."""

import pytest

from mailbag.protocols import utf7


@pytest.mark.parametrize(
    ("text", "wire"),
    [
        ("INBOX", "INBOX"),
        ("Tom & Jerry", "Tom &- Jerry"),
        ("Entwürfe", "Entw&APw-rfe"),
        ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
        ("Отправленные", "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-"),
    ],
)
def test_known_names(text: str, wire: str) -> None:
    assert utf7.encode(text) == wire
    assert utf7.decode(wire) == text
    assert utf7.decode(wire.encode()) == text


@pytest.mark.parametrize("text", ["a&b&&c", "emoji 📬 box", "mixed Ä/ß/é & more", "", "&-", "tab\tname"])
def test_round_trip(text: str) -> None:
    wire = utf7.encode(text)
    assert wire.isascii()
    assert utf7.decode(wire) == text


def test_malformed_run_is_kept() -> None:
    assert utf7.decode("bad&!!!-name") == "bad&!!!-name"
    assert utf7.decode("open&ends") == "open&ends"
