"""How a server spells its folders: the name a folder is shown and handled by, and the name
commands give the server (its *wire* name).

A folder's name is its wire name decoded from modified UTF-7 (RFC 3501 5.1.3), and a command
gives the server that name encoded again. Some servers list names that this does not give back:
a server on files (GNU Mailutils, UW-IMAP) lists a file's name as it is, raw UTF-8
(``Entwürfe``) or an ``&`` that starts no modified UTF-7 (``R&D``); a name written by another
client may be modified UTF-7 that is not the shortest form (``&AOQ-&APY-``). Encoded again,
such a name is another one (``Entw&APw-rfe``, ``R&-D``), which the server does not have: the
folder would be listed but could not be opened. :class:`Spelling` keeps the wire name of each of
those, as the server last listed it, for every session with that server and user.
"""

from __future__ import annotations

import functools

from mailbag.protocols import utf7


class Spelling:
    """The wire names of one server's (and user's) folders that are not their names encoded."""

    def __init__(self) -> None:
        self._odd: dict[str, str] = {}  # name -> the wire name the server listed it by

    def learn(self, wires: list[str]) -> None:
        """Take in the wire names of a LIST of every folder (what it does not hold is forgotten)."""
        self._odd = {name: wire for wire in wires if utf7.encode(name := utf7.decode(wire)) != wire}

    def wire(self, name: str) -> str:
        """The name a command gives the server for the folder ``name``."""
        return self._odd.get(name) or utf7.encode(name)

    def forget(self, name: str) -> None:
        """The folder ``name`` was deleted or renamed: a folder made under that name again is
        spelled as any other."""
        self._odd.pop(name, None)


@functools.cache
def spelling_of(host: str, port: int, username: str) -> Spelling:
    """The spelling shared by every session with this server as this user."""
    return Spelling()
