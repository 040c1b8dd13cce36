"""Tricky messages of our own: real-world shapes that parsers get wrong, and big or hostile ones.

The small ones are files here (``path``); the big ones are made by the functions below, for the
tests and for the bench (``python -m bench.parsing``).
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def path(name: str) -> Path:
    """One of the message files kept here."""
    return HERE / name


def many_parts(count: int = 10_000) -> bytes:
    """A text part and ``count`` PDF attachments, scan-00000.pdf and up."""
    parts = [b"--b\r\nContent-Type: text/plain\r\n\r\nThe scans are attached.\r\n"]
    for i in range(count):
        parts.append(
            f'--b\r\nContent-Type: application/pdf; name="scan-{i:05d}.pdf"\r\n'
            f'Content-Disposition: attachment; filename="scan-{i:05d}.pdf"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcfs\r\n".encode()
        )
    head = b'From: scanner@example.org\r\nSubject: 10,000 scans\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
    return head + b"".join(parts) + b"--b--\r\n"


def deep_nesting(depth: int = 100) -> bytes:
    """Multiparts nested ``depth`` levels deep around one line of text."""
    opening = b"".join(
        f'Content-Type: multipart/mixed; boundary="n{level}"\r\n\r\n--n{level}\r\n'.encode() for level in range(depth)
    )
    closing = b"".join(f"\r\n--n{level}--\r\n".encode() for level in reversed(range(depth)))
    return b"From: deep@example.org\r\nSubject: Deep\r\n" + opening + b"Content-Type: text/plain\r\n\r\nThe bottom." + closing


def single_line(megabytes: int = 5) -> bytes:
    """A text body of ``megabytes`` MB of words without a line break."""
    words = b" ".join(b"word%07d" % i for i in range(megabytes * 92_000))
    return b"From: long@example.org\r\nSubject: One line\r\nContent-Type: text/plain\r\n\r\n" + words + b" the end.\r\n"


def big_text(kilobytes: int = 200) -> bytes:
    """A UTF-8 text body of about ``kilobytes`` KB in lines."""
    line = "Lorem ipsum dolor sit amet, Grüße 世界 — consectetur adipiscing elit.\n".encode()
    body = line * (kilobytes * 1024 // len(line))
    return b"Subject: big\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body


def hostile_headers() -> dict[str, bytes]:
    """Header blocks made to be slow to read: each must still be read in linear time."""
    body = b"Content-Type: text/plain\r\n\r\nThe body.\r\n"
    return {
        "a field folded over 100,000 lines": b"Subject: s\r\nX-Long: a\r\n" + b" b\r\n" * 100_000 + body,
        "200,000 header fields": b"Subject: s\r\n" + b"X-A: b\r\n" * 200_000 + body,
        "a Content-Type of 200,000 letters without =": b"Subject: s\r\nContent-Type: text/plain; "
        + b"a" * 200_000 + b"\r\n\r\nThe body.\r\n",
        "a Content-Type of 100,000 parameters": b"Subject: s\r\nContent-Type: text/plain; "
        + b"a=b; " * 100_000 + b"\r\n\r\nThe body.\r\n",
    }


def tiny_cells(count: int) -> str:
    """An HTML table row of ``count`` one-word cells (c0 and up), their end tags left out."""
    return "<table><tr>" + "".join(f"<td>c{i}" for i in range(count)) + "</table>"


def slow_to_read(cells: int = 300_000) -> bytes:
    """A line of text, an HTML part of ``cells`` tiny table cells, and an attached message with
    another such part: every stage of it takes seconds to read."""
    html = tiny_cells(cells).encode()
    inner = b"From: inner@example.org\r\nSubject: Inner\r\nContent-Type: text/html\r\n\r\n" + html + b"\r\n"
    return (
        b"From: hostile@example.org\r\nSubject: Slow\r\nDate: Sat, 5 Dec 2026 10:00:00 +0000\r\n"
        b'Content-Type: multipart/mixed; boundary="s"\r\n\r\n'
        b"--s\r\nContent-Type: text/plain\r\n\r\nStart of the message.\r\n"
        b"--s\r\nContent-Type: text/html\r\n\r\n" + html + b"\r\n"
        b"--s\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"--s--\r\n"
    )
