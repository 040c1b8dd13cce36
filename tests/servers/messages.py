"""Deterministic, realistic test messages for mailbag's tests and benchmarks."""

from __future__ import annotations

import base64
import random
from datetime import datetime, timedelta, timezone
from email.header import Header
from email.utils import format_datetime, formataddr

DOMAIN = "example.test"
BASE_DATE = datetime(2024, 1, 1, 8, 0, tzinfo=timezone.utc)

_PEOPLE = [
    ("Alice Martin", "alice"),
    ("Bob Okafor", "bob"),
    ("Zoë Ångström", "zoe"),
    ("José Núñez", "jose"),
    ("Łukasz Wróbel", "lukasz"),
    ("Chloé Dubois", "chloe"),
    ("Priya Raman", "priya"),
    ("Kenji 山田", "kenji"),
    ("Grace Hopper", "grace"),
    ("Mailing List", "list"),
]
_TOPICS = [
    "Quarterly report",
    "Lunch on Friday?",
    "Release 2.4 planning",
    "Invoice #{n}",
    "Café opening hours",
    "Über die Migration",
    "Build failure on main",
    "Trip to Kraków",
    "Weekly notes {n}",
    "Résumé for review",
    "Re-org of the wiki",
    "日本語のテスト",
]
_WORDS = (
    "the of and to in is that for it as with was on be at by this had not are but "
    "from or have an they which one you were all her she there would their we him "
    "been has when who will no more if out so said what up its about than into them "
    "can only other new some could time these two may then do first any my now such "
    "mail server folder message thread reply draft inbox archive sync cache naïve "
    "façade coöperate"
).split()


def _person(rng: random.Random) -> tuple[str, str]:
    name, local = rng.choice(_PEOPLE)
    return name, f"{local}@{DOMAIN}"


def _address(name: str, email: str) -> str:
    """A From/To value with RFC 2047 encoded words for a non-ASCII name."""
    if name.isascii():
        return formataddr((name, email))
    return f"{_header_text(name)} <{email}>"


def _header_text(text: str) -> str:
    return text if text.isascii() else Header(text, "utf-8").encode(linesep="\r\n")


def subject_of(i: int) -> str:
    """The (decoded) subject of message ``i``, without any ``Re:``."""
    rng = random.Random(i * 7919)
    return rng.choice(_TOPICS).format(n=i)


def message_id(i: int) -> str:
    return f"<msg{i}@{DOMAIN}>"


def date_of(i: int) -> datetime:
    """The default Date of message ``i``: one message every 7 minutes."""
    return BASE_DATE + timedelta(minutes=7 * i)


def _body(rng: random.Random, size: int) -> str:
    words = rng.choices(_WORDS, k=max(1, size // 5))
    lines = [" ".join(words[k:k + 12]) for k in range(0, len(words), 12)]
    return "\r\n".join(lines) + "\r\n"


def make_message(
    i: int,
    *,
    thread_of: int | None = None,
    size: int = 2000,
    attachment: bool = False,
    date: datetime | None = None,
) -> bytes:
    """Message number ``i`` as RFC 5322 bytes (CRLF line ends).

    The same arguments always give the same bytes. ``thread_of=j`` makes it a
    reply to message ``j`` (In-Reply-To, References, ``Re:`` subject).
    ``size`` is the approximate length of the text body.
    """
    rng = random.Random(i)
    from_name, from_email = _person(rng)
    subject = subject_of(i)
    if thread_of is not None:
        subject = f"Re: {subject_of(thread_of)}"
    when = date if date is not None else date_of(i)
    headers = [
        ("From", _address(from_name, from_email)),
        ("To", _address("Test User", f"user@{DOMAIN}")),
        ("Subject", _header_text(subject)),
        ("Date", format_datetime(when)),
        ("Message-ID", message_id(i)),
    ]
    if thread_of is not None:
        headers.append(("In-Reply-To", message_id(thread_of)))
        headers.append(("References", message_id(thread_of)))
    headers.append(("MIME-Version", "1.0"))

    text = _body(rng, size)
    if not attachment:
        headers += [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Transfer-Encoding", "8bit"),
        ]
        body = text
    else:
        boundary = f"=_mailbag_{i}"
        blob = bytes(rng.getrandbits(8) for _ in range(1024 + i % 512))
        encoded = base64.encodebytes(blob).decode("ascii").replace("\n", "\r\n")
        headers.append(("Content-Type", f'multipart/mixed; boundary="{boundary}"'))
        body = (
            f"This is a multi-part message in MIME format.\r\n"
            f"--{boundary}\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n"
            f"Content-Transfer-Encoding: 8bit\r\n\r\n"
            f"{text}"
            f"--{boundary}\r\n"
            f'Content-Type: application/pdf; name="report-{i}.pdf"\r\n'
            f"Content-Transfer-Encoding: base64\r\n"
            f'Content-Disposition: attachment; filename="report-{i}.pdf"\r\n\r\n'
            f"{encoded}"
            f"--{boundary}--\r\n"
        )
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    return (head + "\r\n" + body).encode("utf-8")
