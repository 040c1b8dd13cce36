"""Which messages a fetch is about, in domain terms, as IMAP sequence sets."""

import pytest

from mailbag.protocols.imap.client import FromUid, sequence_set


@pytest.mark.parametrize(
    ("uids", "expected"),
    [
        ([5], "5"),
        ([1, 2, 3], "1:3"),
        ([10, 1, 2, 3, 7, 9], "1:3,7,9:10"),
        ([4, 4, 5], "4:5"),
        (range(1, 101), "1:100"),
        (FromUid(42), "42:*"),
        (FromUid(0), "1:*"),  # UID 0 does not exist: from the first on
        (None, "1:*"),  # every message
    ],
)
def test_uids_become_compressed_sequence_sets(uids, expected):
    assert sequence_set(uids) == expected


def test_no_uids_is_refused():
    with pytest.raises(ValueError):
        sequence_set([])
