"""Response codes: ALERT (RFC 3501 7.1), COPYUID and APPENDUID of UIDPLUS (RFC 4315), a
refusal's code in plain words (RFC 3501 7.1, RFC 5530); IMAP date-times."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from mailbag.protocols.imap.parser import UidSetTooLarge, uid_ranges

_CODE = re.compile(rb"\[([A-Za-z-]+)((?: [^\]\s]+)*)\]")
_ALERT = re.compile(rb"^\S+ (?:OK|NO|BAD|BYE|PREAUTH) \[ALERT\] ?(.*)$", re.IGNORECASE | re.DOTALL)
_LEADING_CODE = re.compile(r"^\[([A-Za-z-]+)[^\]]*\]\s*")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class CopyResult:
    """Where copied or moved messages went: ``source[i]`` became ``target[i]`` in the target
    folder of UIDVALIDITY ``uidvalidity``. All empty when the server sent no COPYUID."""

    uidvalidity: int = 0
    source: tuple[int, ...] = ()
    target: tuple[int, ...] = ()

    @property
    def mapping(self) -> dict[int, int]:
        """Source uid -> target uid."""
        return dict(zip(self.source, self.target))


#: What a refusal's response code means, as the status bar says it (RFC 3501 7.1, RFC 5530).
REFUSAL_WORDS = {
    "ALREADYEXISTS": "a folder of that name exists already",
    "NONEXISTENT": "no such folder on the server",
    "TRYCREATE": "the target folder does not exist",
    "HASCHILDREN": "the folder has folders below it, delete those first",
    "NOPERM": "you are not allowed to do this there",
    "INUSE": "in use by another program, try again later",
    "OVERQUOTA": "over the mailbox's quota",
    "LIMIT": "beyond a limit of the server",
    "CANNOT": "the server cannot do this",
    "UNAVAILABLE": "the server cannot do this now, try again later",
    "READ-ONLY": "the folder is read-only",
    "EXPUNGEISSUED": "messages were deleted meanwhile by another program",
    "SERVERBUG": "a fault of the server",
    "CLIENTBUG": "the server took mailbag's command as a mistake",
    "CORRUPTION": "the server found the folder damaged",
    "NOTSAVED": "the server could not keep it",
    "AUTHENTICATIONFAILED": "wrong user name or password",
    "AUTHORIZATIONFAILED": "this user may not use that account",
    "EXPIRED": "the password or account has expired",
    "PRIVACYREQUIRED": "the server wants an encrypted link (TLS) for this",
    "CONTACTADMIN": "the server asks you to contact its administrator",
    "BADCHARSET": "the server cannot search in that character set",
    "PARSE": "the server could not read a message's headers",
}


def refusal_code(text: str) -> str:
    """The response code (upper case) a refusal's ``text`` starts with, or ""."""
    match = _LEADING_CODE.match(text)
    return match.group(1).upper() if match is not None else ""


def worded(text: str) -> str:
    """A refusal's text with its response code in plain words, the server's own words after it
    (as POP3's are): ``[HASCHILDREN] Mailbox has inferior hierarchical names`` -> ``the folder
    has folders below it, delete those first (Mailbox has inferior hierarchical names)``. A code
    without words stays as it is."""
    words = REFUSAL_WORDS.get(refusal_code(text))
    if words is None:
        return text
    rest = _LEADING_CODE.sub("", text, count=1)
    return f"{words} ({rest})" if rest else words


def response_code(text: bytes, name: bytes) -> list[bytes] | None:
    """The arguments of the response code ``[NAME a b ...]`` in ``text``, or None."""
    for match in _CODE.finditer(text):
        if match.group(1).upper() == name:
            return match.group(2).split()
    return None


def alert_of(line: bytes) -> str | None:
    """The text of an ``[ALERT]`` (tagged or untagged OK / NO / BAD / BYE / PREAUTH), as the
    server wrote it (not yet cleaned for the screen), or None for any other line."""
    match = _ALERT.match(line)
    return match.group(1).decode("utf-8", "replace") if match is not None else None


def ordered_uids(text: bytes) -> tuple[int, ...]:
    """A uid set in the order written (COPYUID pairs its two sets by position); () for one that
    is not a set of UIDs, or too large to be one (see ``parser.uid_ranges``)."""
    try:
        ranges = uid_ranges(text)
    except UidSetTooLarge:
        return ()
    if len(ranges) != text.count(b",") + 1:  # a part uid_ranges left out: not a UID, 0, past the largest
        return ()
    uids: list[int] = []
    for a, b in ranges:
        uids.extend(range(a, b + 1) if a <= b else range(a, b - 1, -1))
    return tuple(uids)


def copy_result(texts: list[bytes]) -> CopyResult:
    """The COPYUID found in any of ``texts`` (untagged OK lines and the tagged answer)."""
    for text in texts:
        args = response_code(text, b"COPYUID")
        if args is not None and len(args) == 3 and args[0].isdigit():
            source, target = ordered_uids(args[1]), ordered_uids(args[2])
            if source and len(source) == len(target):
                return CopyResult(int(args[0]), source, target)
    return CopyResult()


def append_uid(text: bytes) -> int | None:
    """The new uid from ``[APPENDUID uidvalidity uid]`` (a single message), or None."""
    args = response_code(text, b"APPENDUID")
    if args is None or len(args) != 2 or not args[1].isdigit():
        return None
    return int(args[1])


def imap_datetime(value: datetime) -> str:
    """``"01-Jan-2024 10:00:00 +0000"`` (English month names whatever the locale)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    offset = value.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return (f'"{value.day:02d}-{_MONTHS[value.month - 1]}-{value.year:04d} '
            f'{value:%H:%M:%S} {sign}{minutes // 60:02d}{minutes % 60:02d}"')
