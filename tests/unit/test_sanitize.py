"""Untrusted text loses every terminal control sequence and keeps every printable character."""

from __future__ import annotations


import pytest

from mailbag.domain.sanitize import clean_line, clean_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\x1b[31mred\x1b[0m", "red"),  # CSI (SGR)
        ("a\x1b[2J\x1b[Hb", "ab"),  # CSI clear screen, cursor home
        ("x\x1b[?1049hy", "xy"),  # CSI private mode (alternate screen)
        ("\x1b]0;evil title\x07after", "after"),  # OSC window title, BEL-terminated
        ("\x1b]52;c;Y3VybCBldmlsLnNo\x1b\\paste", "paste"),  # OSC 52 clipboard, ST-terminated
        ("\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\", "link"),  # OSC 8 hyperlink
        ("\x1bP1$qm\x1b\\done", "done"),  # DCS
        ("\x1b_apc\x1b\\\x1b^pm\x1b\\\x1bXsos\x1b\\ok", "ok"),  # APC, PM, SOS
        ("\x1bc\x1b(0reset", "reset"),  # RIS, charset selection
        ("\x9b31m8-bit\x9b0m", "8-bit"),  # 8-bit CSI
        ("\x9d0;title\x9cshown", "shown"),  # 8-bit OSC to 8-bit ST
        ("a\x85b\x90c", "abc"),  # stray C1 controls
        ("nul\x00bel\x07bs\x08del\x7f", "nulbelbsdel"),
        ("\u202eevil\u202c \u2066iso\u2069 \u200fmark\u200e \u061calm", "evil iso mark alm"),
    ],
)
def test_control_sequences_are_removed(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected
    assert clean_line(raw) == expected


def test_unterminated_string_sequence_hides_nothing() -> None:
    text = "hello \x1b]0;not closed\nsecond line stays"
    assert clean_text(text) == "hello 0;not closed\nsecond line stays"


def test_text_keeps_newlines_and_tabs_line_folds_them() -> None:
    assert clean_text("a\r\nb\rc\n\td\u2028e") == "a\nb\nc\n\td\ne"
    assert clean_line("  subject\r\n\tcontinued\u2029end  ") == "subject continued end"


@pytest.mark.parametrize(
    "text",
    [
        "日本語のテキスト、中文，한국어",
        "emoji 👋🏽 👨‍👩‍👧 flags 🇫🇷",  # skin tone, ZWJ family, regional indicators
        "combining: e\u0301 a\u0308 \u0915\u094d\u0937",  # accents, Devanagari conjunct
        "Arabic العربية and Hebrew עברית",  # right-to-left text itself stays
        "[bold]markup[/bold] stays literal",
        "quotes “x” – — … € ©",
    ],
)
def test_normal_unicode_is_kept(text: str) -> None:
    assert clean_text(text) == text
    assert clean_line(text) == text


def test_many_unterminated_introducers_are_all_removed() -> None:
    hostile = ("\x1b]" + "x" * 50) * 20_000 + ("\x90" + "y" * 50) * 20_000
    cleaned = clean_text(hostile)  # how fast: python -m bench.parsing
    assert "\x1b" not in cleaned and "\x90" not in cleaned
