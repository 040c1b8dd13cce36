"""Regenerate screenshots/ from the demo mailbox: the main screen at 80x24 and 120x40, as SVG,
with a reply full of quotes in the reader.

Run through scripts/screenshots. (No PNG: rsvg-convert drops the leading blanks of Textual's SVG
text runs and stretches the rest, which misaligns the columns.)"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from mailbag.domain.config import AccountConfig, Config
from mailbag.services.demo import DEMO_ACCOUNT, DEMO_EMAIL, build_demo_mailbox
from mailbag.services.mail import MailService
from mailbag.store.store import Store
from mailbag.ui.app import MailbagApp

#: A fixed clock, so the pictures change only when the screens do.
NOW = datetime(2026, 11, 28, 18, 0, tzinfo=timezone.utc)
SIZES = [(80, 24), (120, 40)]
#: The message in the reader: (subject, sender).
SHOWN = ("Re: Release 2.4 blockers", "Priya")


async def shoot(out_dir: Path, size: tuple[int, int], tmp: Path) -> Path:
    maildir = build_demo_mailbox(tmp / f"Mail-{size[0]}", now=NOW)
    account = AccountConfig(name=DEMO_ACCOUNT, email=DEMO_EMAIL, default=True, maildir=maildir)
    config = Config(path=None, accounts={DEMO_ACCOUNT: account})
    store = Store.open(tmp / f"cache-{size[0]}.sqlite3")
    app = MailbagApp(lambda sink: MailService(config, store, sink), now=lambda: NOW)
    async with app.run_test(size=size) as pilot:
        screen = app.main_screen
        for _ in range(200):
            if screen.message_list.current_row is not None and "INBOX" in str(
                screen.folder_tree._folders[(DEMO_ACCOUNT, "INBOX")].label
            ):
                break
            await pilot.pause(0.05)
        # The reader shows a reply with quotes three levels deep and a signature.
        for _ in range(50):
            row = screen.message_list.current_row
            if row is not None and row.subject == SHOWN[0] and row.sender.startswith(SHOWN[1]):
                break
            await pilot.press("j")
        await pilot.pause(0.5)
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        name = f"main-{size[0]}x{size[1]}.svg"
        app.save_screenshot(filename=name, path=str(out_dir))
        await pilot.press("q")
    store.close()
    return out_dir / name


def main() -> int:
    out_dir = Path(__file__).resolve().parent.parent / "screenshots"
    out_dir.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mailbag-shots-") as tmp:
        for size in SIZES:
            svg = asyncio.run(shoot(out_dir, size, Path(tmp)))
            print(svg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
