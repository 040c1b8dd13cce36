"""A triage action in words, at each moment the status bar tells of it: under way ("Moving 1
message to Archive…"), done ("Moved 1 message to Archive") and refused ("Could not move 1
message to Archive"). The folder is named as the tree shows it
(``mailbag.domain.folder_names.typed_name``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mailbag.domain.models import ANSWERED, FORWARDED
from mailbag.domain.wording import plural

#: verb -> (done, under way)
_FORMS = {
    "move": ("Moved", "Moving"),
    "copy": ("Copied", "Copying"),
    "delete": ("Deleted", "Deleting"),
    "mark": ("Marked", "Marking"),
}
#: flag -> (set, taken away)
_FLAG_WORDS = {
    "\\Seen": ("read", "unread"),
    "\\Flagged": ("flagged", "unflagged"),
    ANSWERED: ("answered", "not answered"),
    FORWARDED: ("forwarded", "not forwarded"),
}


@dataclass(frozen=True, slots=True)
class ActionWords:
    """``verb`` (move, copy, delete, mark) done to ``count`` messages, and what follows the
    count (`` to Archive``, `` permanently``, `` read``)."""

    verb: str
    count: int
    rest: str = ""

    @property
    def done(self) -> str:
        """``Moved 1 message to Archive``."""
        return f"{_FORMS[self.verb][0]} {plural(self.count)}{self.rest}"

    @property
    def pending(self) -> str:
        """``Moving 1 message to Archive…``: done here, not yet on the server."""
        return f"{_FORMS[self.verb][1]} {plural(self.count)}{self.rest}…"

    @property
    def failed(self) -> str:
        """``Could not move 1 message to Archive`` (the reason follows it)."""
        return f"Could not {self.verb} {plural(self.count)}{self.rest}"


def move_words(count: int, target: str, *, copy: bool = False, to_trash: bool = False) -> ActionWords:
    """A move or copy to ``target`` (as shown); a move to the Trash is a delete."""
    if to_trash and not copy:
        return ActionWords("delete", count)
    return ActionWords("copy" if copy else "move", count, f" to {target}")


def delete_words(count: int, *, permanent: bool = False) -> ActionWords:
    return ActionWords("delete", count, " permanently" if permanent else "")


def flag_words(count: int, add: Iterable[str], remove: Iterable[str]) -> ActionWords:
    """Flags set and taken away: ``Marked 2 messages read and flagged``."""
    words = [_FLAG_WORDS.get(f, (f, ""))[0] for f in add]
    words += [_FLAG_WORDS.get(f, ("", f"not {f}"))[1] for f in remove]
    return ActionWords("mark", count, f" {' and '.join(words)}")

