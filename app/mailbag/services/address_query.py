"""Addresses from the user's own address book, through a command, as mutt's ``query_command``
(``khard email --parsable %s``, ``abook --mutt-query %s``, ``notmuch-addrlookup --mutt %s``).

The command runs through the user's shell ($SHELL, else /bin/sh) with ``%s`` replaced by what was
typed, quoted for the shell (with no ``%s``, it goes after the command), away from the terminal and
with nothing on its input. Its output is read as mutt reads it: the first line is a status message
and is skipped; each line after it is ``address<TAB>name<TAB>anything``. What it prints is cut at
:data:`MAX_OUTPUT` bytes and :data:`QUERY_SECONDS` seconds, and each field cleaned of control
characters; a command that fails, or prints nothing of use, gives no addresses.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
from dataclasses import dataclass

from mailbag.domain.models import Address
from mailbag.domain.sanitize import clean_line
from mailbag.services.piping import end_session, shell_argv

log = logging.getLogger(__name__)

#: How long a query may take before it is given up (its process killed).
QUERY_SECONDS = 5.0
#: How much of its output is read.
MAX_OUTPUT = 1024 * 1024
#: The most addresses taken from one answer (more means the query matched too much to be read all).
MAX_ADDRESSES = 500


@dataclass(frozen=True, slots=True)
class QueryAnswer:
    """The addresses a query found; ``complete`` when none was left out (by :data:`MAX_ADDRESSES`
    or a cut output), so that a longer query is answered from them without running it."""

    addresses: tuple[Address, ...]
    complete: bool


def command_line(template: str, query: str) -> str:
    """``template`` with ``%s`` as ``query`` quoted for the shell (appended without a ``%s``)."""
    quoted = shlex.quote(query)
    return template.replace("%s", quoted) if "%s" in template else f"{template} {quoted}"


def parse_answer(output: str, cut: bool = False) -> QueryAnswer:
    """The addresses of a query command's ``output`` in mutt's format (see the module's text);
    ``cut``: the output was cut short."""
    found: list[Address] = []
    seen: set[str] = set()
    for line in output.splitlines()[1:]:
        fields = line.split("\t")
        email = clean_line(fields[0]).strip()
        if "@" not in email or any(c.isspace() for c in email) or email.casefold() in seen:
            continue
        if len(found) == MAX_ADDRESSES:
            return QueryAnswer(tuple(found), complete=False)
        seen.add(email.casefold())
        found.append(Address(clean_line(fields[1]).strip() if len(fields) > 1 else "", email))
    return QueryAnswer(tuple(found), complete=not cut)


async def query_addresses(template: str, query: str) -> QueryAnswer:
    """Run the query command ``template`` for ``query``; its answer (no addresses when it
    fails, takes too long, or cannot be started)."""
    argv = shell_argv(command_line(template, query))
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, start_new_session=True,
        )
    except OSError as exc:
        log.warning("the address command could not be started: %s", exc)
        return QueryAnswer((), complete=False)
    assert proc.stdout is not None
    output = b""
    try:
        async with asyncio.timeout(QUERY_SECONDS):
            while len(output) < MAX_OUTPUT and (chunk := await proc.stdout.read(MAX_OUTPUT - len(output))):
                output += chunk
            cut = len(output) >= MAX_OUTPUT
            status = await proc.wait() if not cut else 0
    except TimeoutError:
        log.warning("the address command took over %g s for %r: given up", QUERY_SECONDS, query)
        return QueryAnswer((), complete=False)
    finally:
        await end_session(proc)  # at once if it ended; else killed, with all it started
    if status != 0:
        log.info("the address command ended with status %s for %r", status, query)
    return parse_answer(output.decode("utf-8", "replace"), cut)
