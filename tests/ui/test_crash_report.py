"""A crash report (Textual's traceback on exit) never prints local variables: they hold bodies."""

from __future__ import annotations

import pytest
from textual.app import App

from tests.ui.conftest import AppMaker

SECRET = "Dear Bob, the safe's code is 4711"


def crash_while_holding_a_body() -> None:
    body = SECRET  # a local variable, as a message body would be in the reader
    raise RuntimeError(f"a bug while rendering {len(body)} characters")


async def test_a_crash_report_names_the_error_but_prints_no_locals(
    make_app: AppMaker, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app()
    with pytest.raises(RuntimeError, match="a bug while rendering"):
        async with app.run_test(size=(80, 24)) as pilot:
            app.call_later(crash_while_holding_a_body)
            await pilot.pause()

    report = capsys.readouterr().err
    assert "a bug while rendering 33 characters" in report
    assert "crash_while_holding_a_body" in report
    assert SECRET not in report


def test_textual_still_builds_its_crash_report_where_mailbag_overrides_it() -> None:
    # mailbag replaces App._fatal_error; an upgrade that renames it must fail here, loudly.
    assert callable(getattr(App, "_fatal_error", None))
