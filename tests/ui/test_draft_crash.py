"""A draft survives the process being killed while it is written: SIGKILL of a process running
the app (no handler runs), then the next start offers the draft, text and all."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from textual.widgets import Input, TextArea

from mailbag import paths
from mailbag.ui.screens.compose import ComposeScreen
from tests.killing import first_line_then_kill
from tests.ui.conftest import settle
from tests.ui.helpers import screen_text

ROOT = Path(__file__).resolve().parents[2]

#: Runs the app, writes a message and says so once the draft is on disk; then waits to be killed.
CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from mailbag import paths
    from mailbag.ui.app import MailbagApp
    from tests.ui.conftest import settle
    from tests.ui.fake_facade import NOW
    from tests.ui.sample import sample_facade

    async def main():
        app = MailbagApp(sample_facade, now=lambda: NOW)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("c", *"ann@example.org", "tab", "tab", "tab", *"Half", "tab")
            await pilot.press(*"Words I must not lose")
            drafts = paths.data_dir() / "drafts"
            while not any("lose" in p.read_text() for p in drafts.glob("*.json")):
                await asyncio.sleep(0.1)
            print("saved", flush=True)
            await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


async def test_a_draft_is_offered_again_after_the_app_was_killed(make_app) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "app"), str(ROOT)]))
    line = first_line_then_kill(CHILD, env, cwd=ROOT)
    assert line == b"saved\n", "the app in the child did not save the draft"
    assert list((paths.data_dir() / "drafts").glob("*.json"))

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "A draft was not sent, nor stored in Drafts. Open it now?" in screen_text(app)
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
        assert app.screen.query_one("#compose-to", Input).value == "ann@example.org"
        assert app.screen.query_one("#compose-subject", Input).value == "Half"
        assert app.screen.query_one(TextArea).text.startswith("Words I must not lose")
