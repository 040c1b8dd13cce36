"""Desktop notifications for new mail, through ``notify-send`` where it is installed."""

from __future__ import annotations

import asyncio
import logging
import shutil

from mailbag.domain.events import NewMail

log = logging.getLogger(__name__)
_tasks: set[asyncio.Task[None]] = set()


def notification_text(event: NewMail) -> tuple[str, str]:
    """Title and body: "2 new messages in work/INBOX", then "sender: subject" lines."""
    noun = "message" if event.count == 1 else "messages"
    title = f"{event.count} new {noun} in {event.account}/{event.folder}"
    lines = [f"{s}: {t}" if s else t for s, t in zip(event.senders, event.subjects)]
    return title, "\n".join(lines)


def notify_desktop(event: NewMail) -> bool:
    """Show a desktop notification (fire and forget); False when none can be shown."""
    program = shutil.which("notify-send")
    if program is None:
        return False
    title, body = notification_text(event)
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return False
    task = loop.create_task(_run(program, "--app-name=mailbag", "--", title, body))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return True


async def _run(*argv: str) -> None:
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await asyncio.wait_for(proc.wait(), 10)
    except (OSError, TimeoutError) as exc:
        log.info("desktop notification failed: %s", exc)
