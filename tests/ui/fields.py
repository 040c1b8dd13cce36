"""Text put into a field in one step, where typing it key by key is not what a test checks."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input


async def put_text(pilot: Pilot, text: str) -> None:
    """Insert ``text`` at the cursor of the focused field, as the keys would one by one.

    Pilot waits for the app to go idle after every key, so a temp path typed key by key takes
    seconds; tests of typing itself (bursts, completion as you type) still press the keys."""
    field = pilot.app.focused
    assert isinstance(field, Input), f"no field has the focus but {field!r}"
    field.insert_text_at_cursor(text)
    await pilot.pause()
