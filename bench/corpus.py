"""Deterministic, realistic mailboxes for the benchmark: threads, multipart, attachments, 2-50 KB.

The same ``(index, GENERATOR_VERSION)`` always gives the same bytes, so a filled server can be
cached between runs and keyed by the version. Bump ``GENERATOR_VERSION`` when the output changes.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.header import Header
from email.utils import format_datetime, formataddr

GENERATOR_VERSION = 2
DOMAIN = "example.test"
BASE_DATE = datetime(2023, 1, 1, 7, 0, tzinfo=timezone.utc)

_PEOPLE = [
    ("Alice Martin", "alice"), ("Bob Okafor", "bob"), ("Zoë Ångström", "zoe"),
    ("José Núñez", "jose"), ("Łukasz Wróbel", "lukasz"), ("Chloé Dubois", "chloe"),
    ("Priya Raman", "priya"), ("Kenji 山田", "kenji"), ("Grace Hopper", "grace"),
    ("Release Bot", "noreply"), ("dev-list", "dev"), ("Søren Kierkegaard", "soren"),
    ("Fatima Zahra", "fatima"), ("Ivan Petrov", "ivan"), ("Mei Chen", "mei"),
]
_TOPICS = [
    "Quarterly report", "Lunch on Friday?", "Release {n} planning", "Invoice #{n}",
    "Café opening hours", "Über die Migration", "Build failure on main ({n})", "Trip to Kraków",
    "Weekly notes {n}", "Résumé for review", "Re-org of the wiki", "日本語のテスト",
    "[dev] RFC: new cache layout", "Your order {n} has shipped", "Meeting notes", "Holiday rota",
]
_WORDS = (
    "the of and to in is that for it as with was on be at by this had not are but from or have "
    "an they which one you were all her she there would their we him been has when who will no "
    "more if out so said what up its about than into them can only other new some could time "
    "these two may then do first any my now such mail server folder message thread reply draft "
    "inbox archive sync cache naïve façade coöperate deadline budget review release"
).split()

#: One message in RARE_EVERY opens its text with RARE_LINE, whose RARE_WORD no other text holds
#: (what a body search looks for: a word that is not in every message).
RARE_EVERY = 100
RARE_WORD = "kestrel"
RARE_LINE = f"Note: the {RARE_WORD} rota changes next week.\r\n"

#: One long deterministic text; bodies are slices of it (fast to cut, realistic to compress).
_TEXT_RNG = random.Random(20240101)
_TEXT = "\r\n".join(
    " ".join(_TEXT_RNG.choices(_WORDS, k=12)) for _ in range(12000)
) + "\r\n"


def _address(name: str, local: str) -> str:
    email = f"{local}@{DOMAIN}"
    if name.isascii():
        return formataddr((name, email))
    return f"{Header(name, 'utf-8').encode()} <{email}>"


def _subject(text: str) -> str:
    return text if text.isascii() else Header(text, "utf-8").encode(linesep="\r\n")


def _message_id(i: int) -> str:
    return f"<bench{i}.{GENERATOR_VERSION}@{DOMAIN}>"


def _text(rng: random.Random, size: int) -> str:
    start = rng.randrange(0, len(_TEXT) - size - 1)
    start = _TEXT.index("\r\n", start) + 2  # begin on a line
    end = _TEXT.index("\r\n", min(start + size, len(_TEXT) - 2)) + 2
    return _TEXT[start:end]


def _size(rng: random.Random) -> int:
    """Total size target in bytes: mostly 2-8 KB, a tail up to 50 KB."""
    roll = rng.random()
    if roll < 0.70:
        return rng.randint(2_000, 8_000)
    if roll < 0.93:
        return rng.randint(8_000, 20_000)
    return rng.randint(20_000, 50_000)


def message(i: int, count: int) -> bytes:
    """Message ``i`` (0-based) of a mailbox of ``count`` messages, as RFC 5322 bytes.

    About a third are replies in threads (In-Reply-To / References chains), a quarter are
    multipart/alternative (text + HTML) and about one in six carries a binary attachment.
    """
    rng = random.Random(i * 1_000_003 + count)
    name, local = rng.choice(_PEOPLE)
    when = BASE_DATE + timedelta(seconds=int(i * 900 * 100_000 / max(count, 1) / 100) + rng.randint(0, 60))
    topic_no = rng.randrange(len(_TOPICS))
    subject = _TOPICS[topic_no].format(n=i)
    headers = [
        ("Return-Path", f"<{local}@{DOMAIN}>"),
        ("Received", f"from mx.{DOMAIN} by imap.{DOMAIN} with LMTP id {i:08x}; {format_datetime(when)}"),
        ("From", _address(name, local)),
        ("To", _address("Test User", "user")),
    ]
    if rng.random() < 0.3:
        cc = rng.sample(_PEOPLE, k=rng.randint(1, 4))
        headers.append(("Cc", ", ".join(_address(n, l) for n, l in cc)))
    refs: list[str] = []
    if i > 10 and rng.random() < 0.35:
        parent = rng.randint(max(0, i - 400), i - 1)
        depth = rng.randint(1, 6)
        refs = [_message_id(max(0, parent - d * 3)) for d in range(depth, 0, -1)] + [_message_id(parent)]
        subject = "Re: " + _TOPICS[random.Random(parent * 1_000_003 + count).randrange(len(_TOPICS))]
        subject = subject.format(n=parent)
    headers += [("Subject", _subject(subject)), ("Date", format_datetime(when)),
                ("Message-ID", _message_id(i))]
    if refs:
        headers += [("In-Reply-To", refs[-1]), ("References", " ".join(refs))]
    if local in ("dev", "noreply"):
        headers.append(("List-Id", f"<{local}.lists.{DOMAIN}>"))
    headers.append(("MIME-Version", "1.0"))

    size = _size(rng)
    kind = rng.random()
    lead = RARE_LINE if i % RARE_EVERY == RARE_EVERY - 1 else ""
    if kind < 0.17:
        blob_size = max(500, size - 2000) * 3 // 4
        body, ctype = _with_attachment(rng, i, lead + _text(rng, 1500), blob_size)
    elif kind < 0.42:
        body, ctype = _alternative(rng, i, lead + _text(rng, max(800, size // 2 - 300)))
    else:
        body, ctype = lead + _text(rng, max(1000, size - 600)), "text/plain; charset=utf-8"
    if ctype.startswith("text/plain"):
        headers += [("Content-Type", ctype), ("Content-Transfer-Encoding", "8bit")]
    else:
        headers.append(("Content-Type", ctype))
    head = "".join(f"{k}: {v}\r\n" for k, v in headers)
    return (head + "\r\n" + body).encode("utf-8")


def _alternative(rng: random.Random, i: int, text: str) -> tuple[str, str]:
    boundary = f"=_alt_{i}"
    paragraphs = "".join(f"<p>{p}</p>\r\n" for p in text.split("\r\n") if p)
    html = f"<html><body>\r\n{paragraphs}</body></html>\r\n"
    body = (
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n\r\n{text}"
        f"--{boundary}\r\nContent-Type: text/html; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n\r\n{html}"
        f"--{boundary}--\r\n"
    )
    return body, f'multipart/alternative; boundary="{boundary}"'


def _with_attachment(rng: random.Random, i: int, text: str, blob_size: int) -> tuple[str, str]:
    boundary = f"=_mixed_{i}"
    name, mime = rng.choice([("report-{i}.pdf", "application/pdf"), ("photo-{i}.jpg", "image/jpeg"),
                             ("data-{i}.zip", "application/zip")])
    name = name.format(i=i)
    encoded = base64.encodebytes(rng.randbytes(blob_size)).decode("ascii").replace("\n", "\r\n")
    body = (
        "This is a multi-part message in MIME format.\r\n"
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n\r\n{text}"
        f'--{boundary}\r\nContent-Type: {mime}; name="{name}"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        f'Content-Disposition: attachment; filename="{name}"\r\n\r\n{encoded}'
        f"--{boundary}--\r\n"
    )
    return body, f'multipart/mixed; boundary="{boundary}"'


def mailbox(count: int) -> Iterator[bytes]:
    """Every message of a ``count``-message mailbox, oldest first."""
    for i in range(count):
        yield message(i, count)
