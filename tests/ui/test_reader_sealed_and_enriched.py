"""What the reader shows of a message whose text is not plain or HTML: text/enriched is read as
its text, and an encrypted message (which mailbag does not decrypt) says what it is and how to
read it, with its parts listed, where it showed an empty page before."""

from __future__ import annotations

from pathlib import Path

from tests.ui.real_services import maildir_config, reader_text, running, wait_until
from tests.unit.test_enriched_and_sealed import ENRICHED, PGP_MIME


async def test_an_encrypted_message_says_how_to_read_it_and_enriched_text_is_read(tmp_path: Path) -> None:
    config = maildir_config(tmp_path / "Mail", [PGP_MIME, ENRICHED])
    async with running(config, tmp_path / "cache.sqlite3", 2) as (app, pilot, _store):
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(reader_text(app)[1].strip()), "the first message is read")
        seen = [reader_text(app)]
        await pilot.press("escape", "j", "enter")
        await wait_until(pilot, lambda: reader_text(app) != seen[0], "the second message is read")
        seen.append(reader_text(app))
        [(header, body)] = [shown for shown in seen if "sealed" in shown[0]]
        assert "encrypted with OpenPGP (PGP/MIME)" in body and "!gpg --decrypt | less" in body
        assert "encrypted.asc" in header  # the part to save
        [(_header, body)] = [shown for shown in seen if "enriched" in shown[0]]
        assert "Now is the time for all good men (and <women>) to come" in body
        assert "<bold>" not in body and "red" not in body
