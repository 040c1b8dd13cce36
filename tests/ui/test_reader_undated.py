"""A message without a Date header (or without any header) is read without a Date line, as mutt
shows it, not with an empty one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.real_services import maildir_config, reader_text, running, wait_until


@pytest.mark.parametrize(
    ("raw", "subject"),
    [
        (b"From: Ann Example <ann@example.org>\r\nSubject: Undated\r\n\r\nThe body of it.\r\n", "Undated"),
        (b"The body of it, and no header at all.\r\n", "(no subject)"),
    ],
    ids=["no-date", "no-header"],
)
async def test_a_message_without_a_date_is_read_without_a_date_line(tmp_path: Path, raw: bytes, subject: str) -> None:
    config = maildir_config(tmp_path / "Mail", [raw])
    async with running(config, tmp_path / "cache.sqlite3", 1) as (app, pilot, _store):
        await pilot.press("enter")
        await wait_until(pilot, lambda: "The body of it" in reader_text(app)[1], "the message is read")
        header = reader_text(app)[0].split("\n")
        assert f"Subject: {subject}" in header
        assert not [row for row in header if row.startswith("Date:")]
