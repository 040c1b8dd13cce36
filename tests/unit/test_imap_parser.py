"""The IMAP response framer and tokenizer, on literal bytes."""

import random

import pytest

from mailbag.protocols.imap.framing import ResponseFramer, literal_size
from mailbag.protocols.imap.parser import UidSetTooLarge, format_uid_set, pairs, parse_segments, parse_uid_set


def frame(data: bytes, chunk_sizes: list[int] | None = None) -> list[list[bytes]]:
    out: list[list[bytes]] = []
    framer = ResponseFramer(out.append)
    if chunk_sizes is None:
        framer.feed(data)
    else:
        pos = 0
        for size in chunk_sizes:
            framer.feed(data[pos : pos + size])
            pos += size
        framer.feed(data[pos:])
    assert framer.pending == 0
    return out


def test_literal_size() -> None:
    assert literal_size(b"* 1 FETCH (BODY[] {12}") == 12
    assert literal_size(b"* 1 FETCH (BODY[] {12+}") == 12
    assert literal_size(b"* OK {not}") == -1
    assert literal_size(b"* OK done") == -1


def test_framer_joins_lines_and_literals() -> None:
    data = b"* 1 FETCH (BODY[] {7}\r\nab\r\ncd\r FLAGS ())\r\n* 2 EXISTS\r\nA1 OK done\r\n"
    responses = frame(data)
    assert responses == [
        [b"* 1 FETCH (BODY[] {7}", b"ab\r\ncd\r", b" FLAGS ())"],
        [b"* 2 EXISTS"],
        [b"A1 OK done"],
    ]
    # Byte by byte gives the same result.
    assert frame(data, [1] * len(data)) == responses


def test_empty_literal_and_literal_ending_in_crlf() -> None:
    data = b"* 1 FETCH (A {0}\r\n B {2}\r\n\r\n)\r\n"
    assert frame(data) == [[b"* 1 FETCH (A {0}", b"", b" B {2}", b"\r\n", b")"]]


def test_tokens_nil_quoted_escapes_nested() -> None:
    parsed = parse_segments([rb'* 3 FETCH (UID 9 FLAGS (\Seen $Forwarded) X "a \"q\" \\ b" Y NIL Z ((1 (2)) ()))'])
    assert parsed[:3] == [b"*", b"3", b"FETCH"]
    items = pairs(parsed[3])
    assert items[b"UID"] == b"9"
    assert items[b"FLAGS"] == [b"\\Seen", b"$Forwarded"]
    assert items[b"X"] == b'a "q" \\ b'
    assert items[b"Y"] is None
    assert items[b"Z"] == [[b"1", [b"2"]], []]


def test_section_atom_with_spaces_and_literal_value() -> None:
    segments = [b"* 1 FETCH (UID 4 BODY[HEADER.FIELDS (REFERENCES)] {20}", b"References: <a@b>\r\n\r\n"[:20],
                b" BODY[]<0> NIL)"]
    items = pairs(parse_segments(segments)[3])
    assert items[b"BODY[HEADER.FIELDS (REFERENCES)]"] == b"References: <a@b>\r\n\r"
    assert items[b"BODY[]<0>"] is None


def test_unbalanced_close_does_not_crash() -> None:
    assert parse_segments([b"* 1 FETCH (UID 1))) extra"])[3] == [b"UID", b"1"]


def test_deep_nesting_is_not_recursive() -> None:
    depth = 50_000
    parsed = parse_segments([b"* X " + b"(" * depth + b"1" + b")" * depth])
    node = parsed[2]
    for _ in range(depth - 1):
        node = node[0]
    assert node == [b"1"]


def test_uid_sets() -> None:
    assert parse_uid_set(b"1:3,7,10:9") == [1, 2, 3, 7, 9, 10]
    assert parse_uid_set("5,*,x:y") == [5]
    # UIDs are 32-bit and never 0 (RFC 3501): what lies past is left out, a range stops there
    assert parse_uid_set("0,4294967294:99999999999999999999,5000000000") == [4294967294, 4294967295]
    with pytest.raises(UidSetTooLarge, match="more than 5,000,000 UIDs"):
        parse_uid_set("1:4294967295")  # billions: a hostile server's, never made into a list
    with pytest.raises(UidSetTooLarge):
        parse_uid_set(",".join(f"{n}:{n + 999_999}" for n in range(1, 6_000_000, 1_000_000)))
    assert format_uid_set([7, 1, 2, 3, 9, 10, 3]) == "1:3,7,9:10"
    assert format_uid_set([]) == ""


def test_esearch_and_vanished_tokens() -> None:
    esearch = parse_segments([b'* ESEARCH (TAG "A5") UID ALL 1:3,5'])
    assert esearch[2] == [b"TAG", b"A5"] and esearch[3:] == [b"UID", b"ALL", b"1:3,5"]
    vanished = parse_segments([b"* VANISHED (EARLIER) 41,43:45"])
    assert vanished == [b"*", b"VANISHED", [b"EARLIER"], b"41,43:45"]
    assert parse_uid_set(vanished[3]) == [41, 43, 44, 45]


def test_list_with_quoted_name_and_literal() -> None:
    quoted = parse_segments([rb'* LIST (\HasNoChildren \Sent) "/" "Sent Items"'])
    assert quoted == [b"*", b"LIST", [b"\\HasNoChildren", b"\\Sent"], b"/", b"Sent Items"]
    literal = parse_segments([b'* LIST () "." {9}', b'a "b" \\ c', b""])
    assert literal[4] == b'a "b" \\ c'
    nil_delimiter = parse_segments([rb"* LIST (\Noselect) NIL Shared"])
    assert nil_delimiter[3] is None


def _fetch_response(count: int) -> bytes:
    lines = []
    for uid in range(1, count + 1):
        subject = f"Subject {uid}".encode()
        lines.append(
            b"* %d FETCH (UID %d FLAGS (\\Seen) INTERNALDATE \"01-Jan-2024 10:00:00 +0000\" RFC822.SIZE 1234 "
            b"ENVELOPE (\"Mon, 1 Jan 2024 10:00:00 +0000\" {%d}\r\n%s ((\"A\" NIL \"a\" \"x.org\")) NIL NIL "
            b"((NIL NIL \"b\" \"y.org\")) NIL NIL NIL \"<%d@x>\") BODYSTRUCTURE (\"text\" \"plain\" "
            b"(\"charset\" \"utf-8\") NIL NIL \"7bit\" 12 1 NIL NIL NIL NIL) MODSEQ (%d))\r\n"
            % (uid, uid, len(subject), subject, uid, uid)
        )
    lines.append(b"A7 OK Fetch completed.\r\n")
    return b"".join(lines)


def _parse_all(data: bytes, rng: random.Random) -> int:
    count = 0

    def handle(segments: list[bytes]) -> None:
        nonlocal count
        parsed = parse_segments(segments)
        if len(parsed) > 3 and b"UID" in pairs(parsed[3]):
            count += 1

    framer = ResponseFramer(handle)
    pos = 0
    while pos < len(data):
        size = rng.randint(1, 64 * 1024)
        framer.feed(data[pos : pos + size])
        pos += size
    return count


def test_big_fetch_in_random_chunks_is_complete() -> None:
    # That the time grows linearly with the size: python -m bench.parsing
    rng = random.Random(7)
    for _ in range(3):
        assert _parse_all(_fetch_response(2_000), rng) == 2_000
    assert _parse_all(_fetch_response(16_000), rng) == 16_000
