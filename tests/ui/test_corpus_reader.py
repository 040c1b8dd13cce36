"""Every message of the shared corpus on the reader's screen: headers folded and in full, the body
from its top and its end, and the source, with no control character, escape or bidi override
reaching the screen. The corpus lies beside the checkout (see tests/unit/test_corpus.py)."""

from __future__ import annotations

import os
import re

import pytest

from mailbag.domain.mime import render_message
from mailbag.ui.widgets.reader import source_layout
from tests.ui.conftest import settle
from tests.ui.helpers import screen_text
from tests.unit.test_corpus import FILES, MISSING

#: What must never reach the terminal from a message: C0 and C1 controls, DEL, bidi controls.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


async def test_every_corpus_message_reaches_the_screen_clean(make_app):
    if not FILES:
        if os.environ.get("CI"):
            pytest.fail(f"{MISSING} (CI is set, so the corpus must be there)")
        pytest.skip(MISSING)
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        reader = app.main_screen.reader
        for number, path in enumerate(FILES):
            raw = path.read_bytes()
            reader.show_message(("work", "INBOX", 10_000 + number), render_message(raw))
            await pilot.pause(0)
            views = [screen_text(app)]  # the header folded, the body from its top
            reader.body.action_all_headers()  # H: every header, above the body
            await pilot.pause(0)
            reader.body.action_last()  # the end of the body
            await pilot.pause(0)
            views.append(screen_text(app))
            reader.body.action_all_headers()
            reader.show_source(source_layout(raw))  # what U shows
            await pilot.pause(0)
            views.append(screen_text(app))
            for view in views:
                unsafe = next((m for line in view.split("\n") if (m := UNSAFE.search(line))), None)
                assert unsafe is None, f"{path.name}: {unsafe.group()!r} on the screen" if unsafe else ""
            assert "From:" in views[0] and "Subject:" in views[0], path
