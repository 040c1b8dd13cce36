"""Key to screen through tmux: ``j`` typed into mailbag's pane until the frame that moves the
list's cursor has reached tmux, during a first sync of the folder and once it is idle.

The keys go through a tmux control client (:class:`bench.tmux.Control`), which also notes when
each piece of mailbag's output reaches tmux. After each piece the styled screen is read; the
first screen whose cursor row differs from the one before the key ends the sample, timed to the
arrival of the last output tmux had before drawing that screen.

The cursor row is found by its background: of the list's rows (lines starting with flags and a
date), the one whose background differs from all the others.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench import tui
from bench.mailbag_run import Account
from bench.tmux import Control

_SGR = re.compile(r"\x1b\[([0-9;:]*)m")
#: The status bar shows "INBOX 1234/100000" while a folder syncs.
_SYNCING = re.compile(r"\b\d+/\d+\b|syncing|connecting")
#: A message list row: flags, then the date (this year's "Mar 04", today's "12:30", or older).
_ROW = re.compile(r"^ [ A-Z!@*]{1,5} +(\d{4}-\d\d-\d\d|\d\d:\d\d|[A-Z][a-z]{2} \d\d) ")
#: The list's left edge: the folder tree ends with this bar.
_EDGE = "\u2595"
#: Time between keys, so that each one is measured on its own.
PAUSE = 0.05
#: A key whose frame has not come by then counts as lost (and is reported).
KEY_TIMEOUT = 5.0
#: After the sync: time for the search index to be built in the background, so that "idle" is.
SETTLE = 6.0


def _background(params: str, current: str) -> str:
    """The background after an SGR sequence with ``params`` (``current`` before it)."""
    codes = params.replace(":", ";").split(";") if params else ["0"]
    i = 0
    while i < len(codes):
        code = codes[i]
        if code in ("0", ""):
            current = ""
        elif code == "49":
            current = ""
        elif code == "48" and i + 1 < len(codes):
            width = 3 if codes[i + 1] == "5" else 5
            current = ";".join(codes[i:i + width])
            i += width - 1
        elif code.isdigit() and (40 <= int(code) <= 47 or 100 <= int(code) <= 107):
            current = code
        i += 1
    return current


def _list_cell(line: str) -> tuple[str, str] | None:
    """The background of the list's first cell on ``line`` and the list's plain text there."""
    background, seen_edge, plain, first_bg = "", False, [], None
    pos = 0
    for match in _SGR.finditer(line + "\x1b[m"):
        text = line[pos:match.start()]
        if text:
            if seen_edge:
                if first_bg is None:
                    first_bg = background
                plain.append(text)
            elif _EDGE in text:
                seen_edge = True
                after = text.split(_EDGE, 1)[1]
                if after:
                    first_bg = background
                    plain.append(after)
        background = _background(match.group(1), background)
        pos = match.end()
    if not seen_edge or first_bg is None:
        return None
    return first_bg, "".join(plain)


def cursor_row(styled: str) -> tuple[int, str] | None:
    """(screen line, text) of the list's cursor row in a ``capture-pane -e`` screen, or None."""
    rows = []
    for number, line in enumerate(styled.splitlines()):
        cell = _list_cell(line)
        if cell is not None and _ROW.match(cell[1]):
            rows.append((number, cell[0], cell[1]))
    counts = Counter(bg for _, bg, _ in rows)
    odd = [(number, text) for number, bg, text in rows if counts[bg] == 1]
    if len(rows) < 3 or len(odd) != 1:
        return None
    return odd[0]


def syncing(styled: str) -> bool:
    """Whether the status bar (the last line) shows a sync under way."""
    lines = _SGR.sub("", styled).splitlines()
    return bool(lines) and bool(_SYNCING.search(lines[-1]))


@dataclass
class KeySamples:
    """Key-to-screen seconds taken while the folder synced, and while idle; keys lost."""

    during_sync: list[float] = field(default_factory=list)
    idle: list[float] = field(default_factory=list)
    lost: int = 0


def press(control: Control) -> tuple[float, bool] | None:
    """Type ``j`` once: seconds until its frame reached tmux and whether the status bar showed a
    sync then; None when the cursor did not move within KEY_TIMEOUT (or could not be found)."""
    before_screen, _ = control.screen()
    before = cursor_row(before_screen)
    if before is None:
        return None
    sent = control.send("j")
    deadline = sent + KEY_TIMEOUT
    waited_for = sent
    while time.perf_counter() < deadline:
        if not control.wait_output(waited_for, deadline - time.perf_counter()):
            return None
        screen, arrived = control.screen()
        now = cursor_row(screen)
        if now is not None and now != before:
            return arrived - sent, syncing(screen)
        waited_for = arrived
    return None


def first_sync_keys(home: Path, account: Account, idle_presses: int,
                    timeout: float = 900.0) -> KeySamples:
    """Start mailbag on an empty cache under ``home``; from the first rows on screen, press j
    until the sync has ended, then ``idle_presses`` more once it is idle."""
    samples = KeySamples()
    client = tui.mailbag(home, account)
    with client.pane() as pane:
        pane.wait_for(tui.rows_shown, timeout, "mailbag rows")
        control = Control(pane)
        try:
            started = time.perf_counter()
            while time.perf_counter() - started < timeout:
                got = press(control)
                if got is None:
                    samples.lost += 1
                elif got[1]:
                    samples.during_sync.append(got[0])
                else:
                    break  # the sync has ended
                time.sleep(PAUSE)
            time.sleep(SETTLE)
            while len(samples.idle) < idle_presses:
                got = press(control)
                if got is None:
                    samples.lost += 1
                    if samples.lost > idle_presses:
                        break
                else:
                    samples.idle.append(got[0])
                time.sleep(PAUSE)
        finally:
            control.close()
    return samples
