"""The address book command's answer read as mutt reads it, and the command kept in bounds."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mailbag.domain.models import Address
from mailbag.services import address_query
from mailbag.services.address_query import command_line, parse_answer, query_addresses


def test_the_first_line_is_a_status_and_each_other_is_address_tab_name() -> None:
    answer = parse_answer(
        "Searching database ... 4 entries ... 3 matching:\n"
        "ann@example.org\tAnn Example\tfriends\n"
        "bob@example.org\n"
        "ANN@example.org\tAnn again\n"  # the same address: once
        "not an address\tNobody\n"
        "eve@example.org\tEve \x1b]52;c;cm0gLXJmIH4=\x07Evil\x1b[2J\n"
    )
    assert answer.complete
    assert answer.addresses == (
        Address("Ann Example", "ann@example.org"), Address("", "bob@example.org"), Address("Eve Evil", "eve@example.org"),
    )


def test_an_answer_too_long_to_read_all_is_not_complete() -> None:
    many = "".join(f"u{i}@example.org\tU {i}\n" for i in range(address_query.MAX_ADDRESSES + 5))
    answer = parse_answer("status\n" + many)
    assert len(answer.addresses) == address_query.MAX_ADDRESSES and not answer.complete
    assert not parse_answer("status\nann@example.org\n", cut=True).complete


def test_what_was_typed_is_quoted_for_the_shell() -> None:
    assert command_line("khard email --parsable %s", "o'k; rm -rf ~") == "khard email --parsable 'o'\"'\"'k; rm -rf ~'"
    assert command_line("abook --mutt-query", "ann") == "abook --mutt-query ann"


async def test_a_command_that_hangs_is_given_up_and_killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(address_query, "QUERY_SECONDS", 0.5)
    pid_file = tmp_path / "pid"
    answer = await query_addresses(f"echo $$ > {pid_file}; echo status; echo ann@example.org; sleep 30 #", "ann")
    assert answer.addresses == () and not answer.complete
    pid = int(pid_file.read_text())
    for _ in range(100):  # its process group was sent SIGKILL
        if not Path(f"/proc/{pid}").exists():
            break
        time.sleep(0.02)
    assert not Path(f"/proc/{pid}").exists()


async def test_a_command_that_fails_or_cannot_start_gives_nothing() -> None:
    assert (await query_addresses("exit 3 #", "ann")).addresses == ()
    assert (await query_addresses("/no/such/address-book %s", "ann")).addresses == ()
