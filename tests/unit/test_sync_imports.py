"""``mailbag sync`` starts on what it needs: the workers, the cache and the protocols, not the
full-screen client's service, composing, or the calendar reader (each import is start-up time
in every run from cron)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

WHAT_SYNC_IMPORTS = """
import json, sys
import mailbag.__main__
import mailbag.services.workers, mailbag.store.store
import mailbag.services.imap_account, mailbag.services.pop3_account, mailbag.services.maildir_account
print(json.dumps(sorted(m for m in ("mailbag.services.mail", "mailbag.domain.compose", "icalendar")
                        if m in sys.modules)))
"""


def test_sync_imports_neither_the_ui_service_nor_compose_nor_the_calendar_reader() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "app"), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", WHAT_SYNC_IMPORTS], capture_output=True, text=True,
                          cwd=REPO, env=env, check=True, timeout=60)
    assert json.loads(done.stdout) == []
