"""Mailcap commands become argument lists, never shell strings; entries that cannot are passed over."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailbag.services.viewers import command_argv, find_viewer, mailcap_viewer

PLAIN = Path("/tmp/mailbag-open-x/report.pdf")
ODD = Path("/tmp/odd dir;$(id)/report.pdf")


def test_percent_s_is_one_argument_whatever_the_path():
    assert command_argv("evince %s", "application/pdf", ODD) == ["evince", str(ODD)]
    assert command_argv("'my viewer' --type=%t %s", "application/pdf", PLAIN) == [
        "my viewer", "--type=application/pdf", str(PLAIN)]


def test_a_path_inside_a_word_only_when_it_needs_no_quoting():
    assert command_argv("sh -c 'pdftotext %s -'", "application/pdf", PLAIN) == [
        "sh", "-c", f"pdftotext {PLAIN} -"]
    assert command_argv("sh -c 'pdftotext %s -'", "application/pdf", ODD) is None


@pytest.mark.parametrize("command", ["viewer %{charset} %s", "viewer %n %s", "viewer 'unclosed %s"])
def test_what_cannot_be_filled_safely_is_passed_over(command):
    assert command_argv(command, "text/plain", PLAIN) is None


def test_a_type_with_odd_characters_is_not_substituted():
    assert command_argv("viewer %t %s", "text/plain;x=$(id)", PLAIN) is None


def test_flags_and_standard_input():
    entry = {"view": "less", "needsterminal": "", "lineno": "0"}
    viewer = mailcap_viewer(entry, "text/plain", PLAIN)
    assert viewer is not None and viewer.reads_stdin and viewer.needs_terminal
    entry = {"view": "pdftotext %s -", "copiousoutput": "", "lineno": "0"}
    viewer = mailcap_viewer(entry, "application/pdf", PLAIN)
    assert viewer is not None and viewer.copious_output and viewer.needs_terminal and not viewer.reads_stdin


def test_mailcap_order_test_commands_and_xdg_open(tmp_path, monkeypatch):
    mailcap = tmp_path / "mailcap"
    mailcap.write_text(
        "application/pdf; gui-viewer %s; test=test -n \"$DISPLAY\"\n"
        "application/*; text-viewer %s; needsterminal\n"
    )
    monkeypatch.setenv("MAILCAPS", str(mailcap))
    monkeypatch.delenv("DISPLAY", raising=False)
    viewer = find_viewer("application/pdf", PLAIN)
    assert viewer is not None and viewer.argv == ("text-viewer", str(PLAIN)) and viewer.needs_terminal
    monkeypatch.setenv("DISPLAY", ":0")
    viewer = find_viewer("Application/PDF", PLAIN)
    assert viewer is not None and viewer.argv == ("gui-viewer", str(PLAIN))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    opener = bin_dir / "xdg-open"
    opener.write_text("#!/bin/sh\n")
    opener.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert find_viewer("image/png", PLAIN) == type(viewer)((str(opener), str(PLAIN)))
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    assert find_viewer("image/png", PLAIN) is None
