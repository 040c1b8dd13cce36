"""Which program opens a file of a given type: the mailcap files, then ``xdg-open``.

A mailcap entry's command is a shell string; it is never given to a shell. It is split into an
argument list with ``shlex`` and ``%s`` becomes the file's path (one argument), ``%t`` the type;
an entry that needs anything else (``%{charset}``, a path that would have to be quoted inside a
word) is passed over. An entry without ``%s`` reads the file on its standard input. A ``test=``
command (``test -n "$DISPLAY"`` is the usual one) is run the same way, its ``$NAME`` words taken
from the environment. ``needsterminal`` and ``copiousoutput`` entries get the terminal (the
output of a ``copiousoutput`` one is shown by the pager).

The mailcap files are those of RFC 1524 (``$MAILCAPS``, else ``~/.mailcap``, ``/etc/mailcap``,
...), read by the standard ``mailcap`` module (from the ``standard-mailcap`` package on Python
3.13 and later).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # deprecated in the standard library
    import mailcap

#: A path that may stand inside a word of a command (it needs no quoting for any shell).
_PLAIN_PATH = re.compile(r"[\w./+-]+")
#: A content type that may be given as an argument.
_PLAIN_TYPE = re.compile(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+")
_VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class Viewer:
    """A program to open one file: its argument list and how it must be run."""

    argv: tuple[str, ...]
    needs_terminal: bool = False  # a text-mode program: the app hands it the terminal
    copious_output: bool = False  # prints the file as text: shown through the pager
    reads_stdin: bool = False  # the file goes to its standard input, not as an argument

    @property
    def name(self) -> str:
        """The program's name, for the status bar."""
        return os.path.basename(self.argv[0]) if self.argv else ""


def find_viewer(content_type: str, path: Path) -> Viewer | None:
    """The program that opens ``path`` (of ``content_type``): the first mailcap entry that fits
    and whose test passes, else ``xdg-open``; None when there is neither."""
    content_type = content_type.lower()
    for entry in _entries(content_type):
        viewer = mailcap_viewer(entry, content_type, path)
        if viewer is not None and _test_passes(entry, content_type, path):
            return viewer
    opener = shutil.which("xdg-open")
    return Viewer((opener, str(path))) if opener else None


def _entries(content_type: str) -> list[dict[str, str]]:
    try:
        caps = mailcap.getcaps()
    except (OSError, ValueError, UnicodeDecodeError):
        return []
    wildcard = content_type.split("/")[0] + "/*"
    entries = [e for e in (*caps.get(content_type, ()), *caps.get(wildcard, ())) if "view" in e]
    return sorted(entries, key=lambda e: int(e.get("lineno", 0)))  # the files' order


def mailcap_viewer(entry: dict[str, str], content_type: str, path: Path) -> Viewer | None:
    """The program an entry (as the ``mailcap`` module reads it) names for ``path``, or None
    when its command cannot be made an argument list safely."""
    argv = command_argv(entry.get("view", ""), content_type, path)
    if not argv:
        return None
    reads_stdin = "%s" not in entry.get("view", "")
    return Viewer(
        tuple(argv),
        needs_terminal="needsterminal" in entry or "copiousoutput" in entry,
        copious_output="copiousoutput" in entry,
        reads_stdin=reads_stdin,
    )


def command_argv(command: str, content_type: str, path: Path) -> list[str] | None:
    """A mailcap command split into arguments with ``%s`` and ``%t`` filled in; None when it
    cannot be done without a shell or quoting."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    argv = []
    for word in words:
        filled = _fill(word, content_type, str(path))
        if filled is None:
            return None
        argv.append(filled)
    return argv or None


def _fill(word: str, content_type: str, path: str) -> str | None:
    if word == "%s":
        return path  # the whole argument: any path is fine
    out: list[str] = []
    index = 0
    while index < len(word):
        char = word[index]
        if char != "%":
            out.append(char)
            index += 1
            continue
        code = word[index + 1 : index + 2]
        if code == "%":
            out.append("%")
        elif code == "s" and _PLAIN_PATH.fullmatch(path):
            out.append(path)
        elif code == "t" and _PLAIN_TYPE.fullmatch(content_type):
            out.append(content_type)
        else:
            return None
        index += 2
    return "".join(out)


def _test_passes(entry: dict[str, str], content_type: str, path: Path) -> bool:
    test = entry.get("test")
    if not test:
        return True
    argv = command_argv(test, content_type, path)
    if not argv:
        return False
    argv = [_expand_variables(word) for word in argv]
    try:
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            check=False, timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _expand_variables(text: str) -> str:
    """``$NAME`` and ``${NAME}`` in one argument, from the environment (empty when unset)."""
    return _VARIABLE.sub(lambda m: os.environ.get(m.group(1) or m.group(2), ""), text)
